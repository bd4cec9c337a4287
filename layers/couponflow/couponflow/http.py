"""What every API handler shares: error bodies that name the field, body size limits, CORS."""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from couponflow.errors import ConflictError, InvalidInputError, NotFoundError, RetryableError

logger = logging.getLogger(__name__)

CORS = CORSConfig(
    allow_origin="*",
    allow_headers=["Content-Type", "Idempotency-Key", "Authorization"],
    expose_headers=["X-Next"],  # a CSV export's cursor, read by the console on another origin
    max_age=600,
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


MAX_JSON_DEPTH = 32
_INT64 = range(-(2**63), 2**64)  # the widest integer a client library round-trips (signed or unsigned)


class _Unreadable(ValueError):
    """A request body refused before routing, with the words the client gets."""


class _Unsupported(_Unreadable):
    """A body of a content type no route takes (415)."""


def _parse_int(text: str) -> int:
    value = int(text)
    if value not in _INT64:
        raise _Unreadable(f"the number {text[:24]}... does not fit in 64 bits")
    return value


def _parse_constant(text: str) -> Any:
    raise _Unreadable(f"{text} is not a JSON number")


def _depth(value: Any) -> int:
    """How deeply arrays and objects nest in ``value`` (iterative: no recursion limit to hit)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, level)
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, level + 1) for child in children)
    return deepest


def _json_text(event: Mapping[str, Any]) -> str | None:
    """The body as text when it is meant to be JSON (no content type, or a JSON one), else None."""
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    content_type = headers.get("content-type", "").strip().lower()
    if content_type.startswith("multipart/"):
        raise _Unsupported("send the body as application/json")  # no route takes a multipart body
    if content_type and not content_type.startswith("application/json"):
        return None  # a form (one-click unsubscribe) or a type the route refuses with 415
    body = event.get("body")
    if not body:
        return None
    if event.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(str(body), validate=True)
        except ValueError as error:
            raise _Unreadable("the body is not valid base64") from error
    else:
        raw = str(body).encode("utf-8", "surrogatepass")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _Unreadable(f"the body is not UTF-8 (byte {error.start})") from error


def _refusal(status: int, message: str, field: str = "body") -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", "Access-Control-Allow-Origin": "*"},
        "body": json.dumps({"message": message, "field": field}),
        "isBase64Encoded": False,
    }


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def refuse_unreadable(event: Mapping[str, Any], max_bytes: int) -> dict[str, Any] | None:
    """A proxy response refusing a body no route could read (or a path with a control
    character), or None to route the request.

    Checked before anything parses the body, so every route answers the same 4xx whatever the
    body is: 413 over ``max_bytes``; 400 for bytes that are not UTF-8, JSON that does not parse
    (truncated, trailing garbage, ``NaN``), nesting deeper than ``MAX_JSON_DEPTH``, or an
    integer beyond 64 bits (no field of ours takes one, and DynamoDB stores 38 digits at most).
    """
    if _CONTROL.search(unquote(str(event.get("path") or ""))):
        # no id of ours holds one, and a route pattern's ``$`` would match before a final newline
        return _refusal(400, "the path holds a control character", "path")
    body = event.get("body") or ""
    if len(str(body).encode("utf-8", "surrogatepass")) > max_bytes:
        return _refusal(413, f"request body is larger than {max_bytes} bytes")
    try:
        text = _json_text(event)
        if text is None:
            return None
        parsed = json.loads(text, parse_int=_parse_int, parse_constant=_parse_constant)
    except _Unreadable as error:
        return _refusal(415 if isinstance(error, _Unsupported) else 400, str(error))
    except RecursionError:
        return _refusal(400, f"the body nests deeper than {MAX_JSON_DEPTH} levels")
    except ValueError as error:  # json.JSONDecodeError names the line and column
        return _refusal(400, f"the body is not valid JSON: {error}")
    if _depth(parsed) > MAX_JSON_DEPTH:
        return _refusal(400, f"the body nests deeper than {MAX_JSON_DEPTH} levels")
    return None


def decoded_path(event: dict[str, Any]) -> dict[str, Any]:
    """The event with its path percent-decoded segment by segment, as every route expects its
    parameters (API Gateway passes ``/customers/a%40b.com`` on as it was sent): the one place a
    path parameter is decoded, so ``a%40b.com`` and ``a@b.com`` name the same customer on
    every route."""
    path = str(event.get("path") or "")
    if "%" not in path:
        return event
    return {**event, "path": "/".join(unquote(segment) for segment in path.split("/"))}


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

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported(exc: RequestUnsupportedContentType) -> Response[dict[str, Any]]:
        return error(415, "send the body as application/json", "body")

    @app.exception_handler(NotFoundError)
    def _not_found(exc: NotFoundError) -> Response[dict[str, Any]]:
        return error(404, str(exc))

    @app.exception_handler(InvalidInputError)
    def _bad(exc: InvalidInputError) -> Response[dict[str, Any]]:
        return error(400, str(exc), exc.field, **_rule(exc))

    @app.exception_handler(ConflictError)
    def _conflict(exc: ConflictError) -> Response[dict[str, Any]]:
        return error(409, str(exc), **_rule(exc), **exc.details)

    @app.exception_handler(RetryableError)
    def _busy(exc: RetryableError) -> Response[dict[str, Any]]:
        response = error(503, str(exc))
        response.headers["Retry-After"] = "1"
        return response

    return app


def stage_url(event: APIGatewayProxyEvent) -> str:
    """The API stage's base URL as the caller reached it (the claim function cannot be told its own
    API's URL in the template without a dependency cycle, so it reads it from the request)."""
    headers = {k.lower(): v for k, v in (event.headers or {}).items()}
    proto = headers.get("x-forwarded-proto", "https").split(",")[0].strip()
    host = event.request_context.domain_name or headers.get("host", "")
    return f"{proto}://{host}/{event.request_context.stage}"
