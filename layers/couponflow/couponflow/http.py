"""What every API handler shares: error bodies that name the field, body size limits, CORS."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from couponflow.errors import ConflictError, InvalidInputError, NotFoundError, RetryableError

logger = logging.getLogger(__name__)

CORS = CORSConfig(
    allow_origin="*", allow_headers=["Content-Type", "Idempotency-Key", "Authorization"], max_age=600
)


def error(status: int, message: str, field: str | None = None, **extra: Any) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {"message": message}
    if field:
        body["field"] = field
    body.update(extra)
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


def _field(loc: Any) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _rule(exc: Exception) -> dict[str, str]:
    """The business rule a refusal names (e.g. scheduling rules), when it names one."""
    rule = getattr(exc, "rule", None)
    return {"rule": str(rule)} if rule else {}


def too_large(event: Mapping[str, Any], max_bytes: int) -> dict[str, Any] | None:
    """A 413 proxy response for a body over ``max_bytes``, checked before anything parses it."""
    body = event.get("body") or ""
    if len(body.encode()) <= max_bytes:
        return None
    return {
        "statusCode": 413,
        "headers": {"Content-Type": "application/json", "Access-Control-Allow-Origin": "*"},
        "body": json.dumps({"message": f"request body is larger than {max_bytes} bytes", "field": "body"}),
        "isBase64Encoded": False,
    }


def resolver() -> APIGatewayRestResolver:
    """An API Gateway REST resolver with validation, CORS and our error mapping installed."""
    app = APIGatewayRestResolver(enable_validation=True, cors=CORS)

    @app.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response[dict[str, Any]]:
        errors = [
            {"field": _field(e.get("loc", ())), "message": e.get("msg", "invalid"), "type": e.get("type")}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"field": "body", "message": "invalid request"}
        return error(422, f"{first['field']}: {first['message']}", str(first["field"]), errors=errors)

    @app.exception_handler(NotFoundError)
    def _not_found(exc: NotFoundError) -> Response[dict[str, Any]]:
        return error(404, str(exc))

    @app.exception_handler(InvalidInputError)
    def _bad(exc: InvalidInputError) -> Response[dict[str, Any]]:
        return error(400, str(exc), exc.field, **_rule(exc))

    @app.exception_handler(ConflictError)
    def _conflict(exc: ConflictError) -> Response[dict[str, Any]]:
        return error(409, str(exc), **_rule(exc))

    @app.exception_handler(RetryableError)
    def _busy(exc: RetryableError) -> Response[dict[str, Any]]:
        response = error(503, str(exc))
        response.headers["Retry-After"] = "1"
        return response

    return app
