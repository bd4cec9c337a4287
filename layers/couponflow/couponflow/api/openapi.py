"""The OpenAPI 3.1 document of the whole API, built from the routes and their models, and the two
public routes that serve it: ``GET /openapi.json`` and ``GET /docs`` (Swagger UI, no download
from elsewhere).

The public routes run in the claim function and the merchant routes in the merchant API
function; the document covers both, so it is built here from both sets of routers, wired to
placeholder settings (building it calls no AWS). It is built on first request (the merchant
API's cold start does not pay for it) and kept. ``make openapi`` writes it to
``docs/openapi.json``; a test fails when the committed file differs from what the code builds.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from couponflow.adapters.dynamodb import Table
from couponflow.api import merchant
from couponflow.http import resolver
from couponflow.settings.merchant_api import MerchantApiSettings, SendScheduleSettings

TITLE = "Couponflow API"
VERSION = "1.0.0"
DESCRIPTION = (
    "Coupon claims for storefronts, and the merchant API: campaigns and code pools, customers, "
    "segments and scheduled sends, delivery statuses. Merchant routes take "
    "`Authorization: Bearer <API key>`; routes under `/public` take none. Every error is JSON "
    "with `message` and, where it applies, `field`."
)
PLACEHOLDER_SERVER = "http://127.0.0.1:3000/v1"
BEARER = {"merchantKey": {"type": "http", "scheme": "bearer", "description": "a merchant API key"}}


def _every_route() -> APIGatewayRestResolver:
    # The public routers (the claim function's) are imported only when the document is built.
    from couponflow.api import public_claims, public_links, public_page_views, public_reports  # noqa: PLC0415
    from couponflow.services.claims import ClaimService  # noqa: PLC0415
    from couponflow.services.coupon_links import CouponLinks  # noqa: PLC0415
    from couponflow.services.send_reports import SendReports  # noqa: PLC0415

    table = Table("openapi")
    app = resolver()
    app.include_router(public_claims.build(ClaimService(table, "openapi")))
    app.include_router(public_links.build(CouponLinks(table, "openapi")))
    app.include_router(public_page_views.build(table))
    app.include_router(public_reports.build(SendReports(table, "openapi", "openapi")))
    names = {"TABLE_NAME": "openapi", "EVENTS_TABLE_NAME": "openapi", "CODE_IMPORT_BUCKET": "openapi"}
    settings = MerchantApiSettings.model_validate({**names, "CODE_IMPORT_QUEUE_URL": "openapi"})
    schedule = SendScheduleSettings.model_validate(
        {
            "SEND_SCHEDULE_GROUP": "openapi",
            "SEND_STARTER_ARN": "openapi",
            "SEND_SCHEDULER_ROLE_ARN": "openapi",
            "SEND_SCHEDULE_DLQ_ARN": "openapi",
            "PUBLIC_BASE_URL": PLACEHOLDER_SERVER,
        }
    )
    for router in merchant.routers(settings, schedule):
        app.include_router(router)
    return app


ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Error",
    "description": "Every error answer: what went wrong, and the field (body, query or header) at fault.",
    "required": ["message"],
    "properties": {
        "message": {"type": "string"},
        "field": {"type": "string", "description": "the culprit, e.g. `email`, `codes.3`, `body`"},
        "rule": {
            "type": "string",
            "description": "the business rule a refusal names, e.g. `two_hours_ahead`",
        },
        "errors": {
            "type": "array",
            "description": "every validation problem (422)",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
    "additionalProperties": True,
}
ERROR_ANSWERS = {
    "400": "an unreadable body (not UTF-8 or JSON, nested too deep, a number past 64 bits), or a broken rule",
    "401": "no API key, or a malformed one",
    "403": "an API key that is not recognised (or revoked)",
    "404": "nothing of that id belongs to this merchant",
    "409": "the request conflicts with the resource's state (the answer says which)",
    "413": "the body is larger than the route accepts",
    "415": "the body is not application/json",
    "422": "a field is missing or invalid (`field` names it; `errors` lists every problem)",
    "503": "a dependency is busy; retry after `Retry-After` seconds",
}
_WITH_BODY = {"post", "put", "patch"}


def _error_answers(path: str, method: str) -> dict[str, Any]:
    codes = ["400", "404", "409", "422", "503"]
    if not path.startswith("/public/"):
        codes += ["401", "403"]
    if method in _WITH_BODY:
        codes += ["413", "415"]
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    return {code: {"description": ERROR_ANSWERS[code], "content": error} for code in sorted(codes)}


@cache
def document() -> dict[str, Any]:
    """The document as a JSON-ready dict: public routes open, merchant routes behind the key,
    every route's error answers in our one error shape."""
    app = _every_route()
    text = app.get_openapi_json_schema(
        title=TITLE, version=VERSION, description=DESCRIPTION, openapi_version="3.1.0"
    )
    spec: dict[str, Any] = json.loads(text)
    spec["servers"] = [{"url": PLACEHOLDER_SERVER, "description": "the local stack (`make run`)"}]
    components = spec.setdefault("components", {})
    components["securitySchemes"] = BEARER
    schemas = components.setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        schemas.pop(name, None)
    schemas["Error"] = ERROR_SCHEMA
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            operation["security"] = [] if path.startswith("/public/") else [{"merchantKey": []}]
            description = (operation.get("description") or "").strip()
            if description:  # the route's docstring: its first line is the summary
                first, _, rest = description.partition("\n\n")
                operation["summary"] = " ".join(first.split())
                operation["description"] = rest.strip() or operation["summary"]
            answers = operation.setdefault("responses", {})
            answers.update(
                {k: v for k, v in _error_answers(path, method).items() if k not in answers or k == "422"}
            )
    return spec


def document_text() -> str:
    """The document as ``make openapi`` writes it (stable key order, one trailing newline)."""
    return json.dumps(document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _swagger_page(spec: str) -> str:
    # Imported here: Powertools' Swagger UI module loads its OpenAPI models (about 0.1 s), which
    # only this page needs, not the merchant API's cold start.
    from aws_lambda_powertools.event_handler.openapi import swagger_ui  # noqa: PLC0415
    from aws_lambda_powertools.event_handler.openapi.swagger_ui import generate_swagger_html  # noqa: PLC0415

    assets = Path(swagger_ui.__file__).parent
    js = (assets / "swagger-ui-bundle.min.js").read_text(encoding="utf-8")
    css = (assets / "swagger-ui.min.css").read_text(encoding="utf-8")
    return generate_swagger_html(spec.replace("</", "<\\/"), js, css, "", None)


def build() -> APIGatewayRouter:
    router = APIGatewayRouter()

    @router.get("/openapi.json", include_in_schema=False)
    def openapi_json() -> Response[str]:
        return Response(status_code=200, content_type="application/json", body=document_text())

    @router.get("/docs", include_in_schema=False)
    def swagger_ui() -> Response[str]:
        return Response(
            status_code=200, content_type="text/html; charset=utf-8", body=_swagger_page(document_text())
        )

    return router
