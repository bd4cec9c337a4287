"""An HTTP server on 127.0.0.1 that behaves like API Gateway REST (v1 payload, Lambda proxy).

Routes come from each function's ``Events`` of Type Api, served under ``/<StageName>``. The
gateway runs the API's Lambda TOKEN authorizers (validation expression, policy evaluation with
wildcards, result cache per token), answers CORS preflights from the API's ``Cors`` settings,
builds the proxy event and maps the proxy response back. Errors use API Gateway's own status
codes and bodies, or the API's ``GatewayResponses`` where the template overrides them.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from local_stack.template import ACCOUNT_ID, API_ID, function_events
from local_stack.workers import InvocationResult

log = logging.getLogger(__name__)

MAX_PAYLOAD_BYTES = 10 * 1024 * 1024
IMPLICIT_API = "ServerlessRestApi"

Invoke = Callable[[str, Any], InvocationResult]

# API Gateway's built-in gateway responses: status, body, x-amzn-ErrorType.
DEFAULT_RESPONSES: dict[str, tuple[int, Any, str]] = {
    "UNAUTHORIZED": (401, {"message": "Unauthorized"}, "UnauthorizedException"),
    "ACCESS_DENIED": (
        403,
        {"message": "User is not authorized to access this resource"},
        "AccessDeniedException",
    ),
    "MISSING_AUTHENTICATION_TOKEN": (
        403,
        {"message": "Missing Authentication Token"},
        "IncompleteSignatureException",
    ),
    "AUTHORIZER_FAILURE": (500, {"message": None}, "AuthorizerFailureException"),
    "AUTHORIZER_CONFIGURATION_ERROR": (500, {"message": None}, "AuthorizerConfigurationException"),
    "REQUEST_TOO_LARGE": (413, {"message": "Request Too Long"}, "RequestTooLargeException"),
    "INTEGRATION_FAILURE": (502, {"message": "Internal server error"}, "InternalServerErrorException"),
    "INTEGRATION_TIMEOUT": (504, {"message": "Endpoint request timed out"}, "InternalServerErrorException"),
}


@dataclass(frozen=True)
class Authorizer:
    name: str
    function: str  # logical id of the authorizer function
    payload_type: str
    header: str
    validation: re.Pattern[str] | None
    ttl: int


@dataclass
class Route:
    function: str
    method: str
    resource: str
    authorizer: str | None

    @property
    def pattern(self) -> re.Pattern[str]:
        parts = []
        for segment in self.resource.strip("/").split("/"):
            if segment.startswith("{") and segment.endswith("+}"):
                parts.append(f"(?P<{segment[1:-2]}>.+)")
            elif segment.startswith("{") and segment.endswith("}"):
                parts.append(f"(?P<{segment[1:-1]}>[^/]+)")
            else:
                parts.append(re.escape(segment))
        return re.compile("/" + "/".join(p for p in parts if p) + "$" if parts != [""] else "/$")

    @property
    def specificity(self) -> tuple[int, int, int]:
        segments = self.resource.strip("/").split("/")
        greedy = sum(s.endswith("+}") for s in segments)
        params = sum(s.startswith("{") for s in segments)
        return (greedy, params, -len(segments))


@dataclass
class Api:
    logical_id: str
    stage: str
    routes: list[Route] = field(default_factory=list)
    authorizers: dict[str, Authorizer] = field(default_factory=dict)
    gateway_responses: dict[str, Any] = field(default_factory=dict)
    cors: dict[str, str] | None = None
    auth_on_preflight: bool = True
    default_authorizer: str | None = None

    def resources(self) -> list[str]:
        seen: dict[str, Route] = {}
        for route in sorted(self.routes, key=lambda r: r.specificity):
            seen.setdefault(route.resource, route)
        return list(seen)


def _strip_quotes(value: Any) -> str:
    text = str(value)
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == "'" else text


def build_apis(resolved: dict[str, dict[str, Any]], function_arns: dict[str, str]) -> dict[str, Api]:
    """Read AWS::Serverless::Api resources and the Api events of functions (already resolved)."""
    apis: dict[str, Api] = {}
    for lid, res in resolved.items():
        if res["Type"] != "AWS::Serverless::Api":
            continue
        props = res["Properties"]
        api = Api(logical_id=lid, stage=str(props.get("StageName", "Prod")))
        auth = props.get("Auth") or {}
        for name, spec in (auth.get("Authorizers") or {}).items():
            identity = spec.get("Identity") or {}
            arn = spec.get("FunctionArn", "")
            if arn not in function_arns:
                log.warning("authorizer %s: function %s is not in the template; skipped", name, arn)
                continue
            expression = identity.get("ValidationExpression")
            api.authorizers[name] = Authorizer(
                name=name,
                function=function_arns[arn],
                payload_type=str(spec.get("FunctionPayloadType", "TOKEN")).upper(),
                header=str(identity.get("Header", "Authorization")),
                validation=re.compile(expression) if expression else None,
                ttl=int(identity.get("ReauthorizeEvery", 300)),
            )
        api.gateway_responses = dict(props.get("GatewayResponses") or {})
        cors = props.get("Cors")
        if isinstance(cors, str):
            api.cors = {"AllowOrigin": _strip_quotes(cors)}
        elif isinstance(cors, dict):
            api.cors = {k: _strip_quotes(v) for k, v in cors.items()}
        api.auth_on_preflight = bool(auth.get("AddDefaultAuthorizerToCorsPreflight", True))
        api.default_authorizer = auth.get("DefaultAuthorizer")
        apis[lid] = api
    for lid, _, _, props in function_events(resolved, "Api"):
        api_ref = props.get("RestApiId")
        api_lid = next((a for a in apis if api_ref in (a, API_ID)), None) if api_ref else None
        if api_lid is None:
            api_lid = IMPLICIT_API
            apis.setdefault(IMPLICIT_API, Api(logical_id=IMPLICIT_API, stage="Prod"))
        api = apis[api_lid]
        route_auth = (props.get("Auth") or {}).get("Authorizer")
        authorizer = route_auth if route_auth is not None else api.default_authorizer
        if authorizer in ("NONE", "AWS_IAM"):
            authorizer = None
        api.routes.append(
            Route(
                function=lid,
                method=str(props["Method"]).upper(),
                resource="/" + str(props["Path"]).strip("/"),
                authorizer=authorizer,
            )
        )
    return apis


# ---------------------------------------------------------------------------------------------
# Policy evaluation
# ---------------------------------------------------------------------------------------------


def _wildcard(pattern: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern) + "$")


def evaluate_policy(policy: Any, method_arn: str) -> str:
    """'Allow', 'Deny' (explicit) or 'None' for a Lambda authorizer's policy against a method ARN."""
    statements = policy.get("Statement", []) if isinstance(policy, dict) else []
    if isinstance(statements, dict):
        statements = [statements]
    allowed = False
    for statement in statements:
        actions = statement.get("Action", [])
        resources = statement.get("Resource", [])
        actions = [actions] if isinstance(actions, str) else actions
        resources = [resources] if isinstance(resources, str) else resources
        if not any(_wildcard(a.lower()).match("execute-api:invoke") for a in actions):
            continue
        if not any(_wildcard(r).match(method_arn) for r in resources):
            continue
        effect = str(statement.get("Effect", "")).capitalize()
        if effect == "Deny":
            return "Deny"
        if effect == "Allow":
            allowed = True
    return "Allow" if allowed else "None"


# ---------------------------------------------------------------------------------------------
# Server
# ---------------------------------------------------------------------------------------------


@dataclass
class _Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class _GatewayServer(ThreadingHTTPServer):
    """A threaded server whose listen backlog takes a storefront's burst (the default is 5)."""

    request_queue_size = 1024
    daemon_threads = True


class Gateway:
    def __init__(self, port: int = 0, region: str = "us-east-1") -> None:
        self.region = region
        self.apis: dict[str, Api] = {}
        self.invoke: Invoke | None = None
        # Told of every request before it is routed, e.g. so the SES simulator sees links followed.
        self.on_request: Callable[[str, str], None] | None = None
        # Pages served beside the API (the console at /console): path -> (status, headers, body),
        # or None for a path that is not theirs. On AWS, CloudFront serves them from S3.
        self.site: Callable[[str, str], tuple[int, list[tuple[str, str]], bytes] | None] | None = None
        self._cache: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}
        self._cache_lock = threading.Lock()
        gateway = self

        class Handler(_Handler):
            pass

        Handler.gateway = gateway
        self._server = _GatewayServer(("127.0.0.1", port), Handler)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stage_url(self, api: str | None = None) -> str:
        chosen = self.apis.get(api) if api else next(iter(self.apis.values()), None)
        return f"{self.base_url}/{chosen.stage}" if chosen else self.base_url

    def configure(self, apis: dict[str, Api], invoke: Invoke) -> None:
        self.apis = apis
        self.invoke = invoke

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.serve_forever, name="gateway", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:  # shutdown() waits for serve_forever: only when it runs
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    # -- request handling ---------------------------------------------------------------------

    def gateway_response(
        self, api: Api | None, kind: str, request_id: str, error_message: str | None = None
    ) -> _Reply:
        status, body, error_type = DEFAULT_RESPONSES[kind]
        text = json.dumps(body)
        headers = [("Content-Type", "application/json")]
        custom = (api.gateway_responses if api else {}).get(kind)
        if custom is None and api is not None:
            custom = api.gateway_responses.get("DEFAULT_4XX" if status < 500 else "DEFAULT_5XX")
        if custom:
            status = int(custom.get("StatusCode", status))
            templates = custom.get("ResponseTemplates") or {}
            template = templates.get("application/json")
            if template is not None:
                message = error_message if error_message is not None else body.get("message")
                text = (
                    str(template)
                    .replace("$context.error.messageString", json.dumps(message))
                    .replace("$context.error.message", "" if message is None else str(message))
                    .replace("$context.requestId", request_id)
                )
            params = (custom.get("ResponseParameters") or {}).get("Headers") or {}
            headers += [(k, _strip_quotes(v)) for k, v in params.items()]
        headers += [("x-amzn-RequestId", request_id), ("x-amzn-ErrorType", error_type)]
        return _Reply(status, headers, text.encode())

    def handle(
        self, method: str, raw_path: str, headers: list[tuple[str, str]], body: bytes | None, source_ip: str
    ) -> _Reply:
        request_id = str(uuid.uuid4())
        if self.on_request is not None:
            try:
                self.on_request(method, raw_path)
            except Exception:
                log.exception("request observer failed")
        url = urlsplit(raw_path)
        if self.site is not None and method in ("GET", "HEAD"):
            page = self.site(url.path, url.query)
            if page is not None:
                return _Reply(*page)
        stage, _, rest = url.path.lstrip("/").partition("/")
        api = next((a for a in self.apis.values() if a.stage == stage), None)
        if api is None:
            return self.gateway_response(None, "MISSING_AUTHENTICATION_TOKEN", request_id)
        path = "/" + rest.rstrip("/") if rest.rstrip("/") else "/"
        match = self._match(api, path)
        if match is None:
            return self.gateway_response(api, "MISSING_AUTHENTICATION_TOKEN", request_id)
        resource, path_params = match
        routes = [r for r in api.routes if r.resource == resource]
        route = next((r for r in routes if r.method == method), None)
        if method == "OPTIONS" and route is None and api.cors is not None:
            if api.auth_on_preflight and api.default_authorizer:
                denied = self._authorize(
                    api,
                    api.default_authorizer,
                    method=method,
                    path=path,
                    headers=headers,
                    request_id=request_id,
                )
                if isinstance(denied, _Reply):
                    return denied
            return self._preflight(api, routes, request_id)
        route = route or next((r for r in routes if r.method == "ANY"), None)
        if route is None:
            return self.gateway_response(api, "MISSING_AUTHENTICATION_TOKEN", request_id)
        if body is not None and len(body) > MAX_PAYLOAD_BYTES:
            return self.gateway_response(api, "REQUEST_TOO_LARGE", request_id)
        authorizer_context: dict[str, Any] | None = None
        if route.authorizer:
            outcome = self._authorize(
                api, route.authorizer, method=method, path=path, headers=headers, request_id=request_id
            )
            if isinstance(outcome, _Reply):
                return outcome
            authorizer_context = outcome
        event = build_proxy_event(
            api=api,
            route=route,
            method=method,
            path=path,
            path_params=path_params,
            query=url.query,
            headers=headers,
            body=body,
            source_ip=source_ip,
            request_id=request_id,
            authorizer=authorizer_context,
            region=self.region,
        )
        assert self.invoke is not None
        result = self.invoke(route.function, event)
        return self._proxy_response(api, result, request_id)

    def _match(self, api: Api, path: str) -> tuple[str, dict[str, str]] | None:
        for route in sorted(api.routes, key=lambda r: r.specificity):
            found = route.pattern.match(path)
            if found:
                return route.resource, found.groupdict()
        return None

    def _preflight(self, api: Api, routes: list[Route], request_id: str) -> _Reply:
        cors = api.cors or {}
        methods = cors.get("AllowMethods") or ",".join(sorted({r.method for r in routes} | {"OPTIONS"}))
        headers = [
            ("Content-Type", "application/json"),
            ("Access-Control-Allow-Origin", cors.get("AllowOrigin", "*")),
            ("Access-Control-Allow-Methods", methods),
            ("x-amzn-RequestId", request_id),
        ]
        if cors.get("AllowHeaders"):
            headers.append(("Access-Control-Allow-Headers", cors["AllowHeaders"]))
        if cors.get("MaxAge"):
            headers.append(("Access-Control-Max-Age", cors["MaxAge"]))
        if str(cors.get("AllowCredentials", "")).lower() == "true":
            headers.append(("Access-Control-Allow-Credentials", "true"))
        return _Reply(200, headers, b"")

    def _authorize(
        self,
        api: Api,
        name: str,
        *,
        method: str,
        path: str,
        headers: list[tuple[str, str]],
        request_id: str,
    ) -> dict[str, Any] | _Reply:
        authorizer = api.authorizers.get(name)
        if authorizer is None:
            log.error("route uses unknown authorizer %s", name)
            return self.gateway_response(api, "AUTHORIZER_CONFIGURATION_ERROR", request_id)
        if authorizer.payload_type != "TOKEN":
            log.error("authorizer %s: only TOKEN authorizers are emulated", name)
            return self.gateway_response(api, "AUTHORIZER_CONFIGURATION_ERROR", request_id)
        token = next((v for k, v in headers if k.lower() == authorizer.header.lower()), None)
        if not token or (authorizer.validation and not authorizer.validation.fullmatch(token)):
            return self.gateway_response(api, "UNAUTHORIZED", request_id)
        method_arn = (
            f"arn:aws:execute-api:{self.region}:{ACCOUNT_ID}:{API_ID}/{api.stage}/{method}/{path.lstrip('/')}"
        )
        key = (name, token)
        now = time.monotonic()
        with self._cache_lock:
            cached = self._cache.get(key)
        started = time.monotonic()
        if cached and cached[0] > now:
            response = cached[1]
        else:
            assert self.invoke is not None
            result = self.invoke(
                authorizer.function,
                {"type": "TOKEN", "authorizationToken": token, "methodArn": method_arn},
            )
            if not result.ok:
                if result.error_message == "Unauthorized":
                    return self.gateway_response(api, "UNAUTHORIZED", request_id)
                log.error("authorizer %s failed: %s", name, result.error)
                return self.gateway_response(api, "AUTHORIZER_FAILURE", request_id)
            response = result.payload
            if (
                not isinstance(response, dict)
                or "principalId" not in response
                or not isinstance(response.get("policyDocument"), dict)
            ):
                log.error("authorizer %s returned an invalid response: %r", name, response)
                return self.gateway_response(api, "AUTHORIZER_CONFIGURATION_ERROR", request_id)
            if authorizer.ttl > 0:
                with self._cache_lock:
                    self._cache[key] = (now + authorizer.ttl, response)
        latency = int((time.monotonic() - started) * 1000)
        decision = evaluate_policy(response["policyDocument"], method_arn)
        if decision != "Allow":
            message = (
                "User is not authorized to access this resource with an explicit deny"
                if decision == "Deny"
                else None
            )
            return self.gateway_response(api, "ACCESS_DENIED", request_id, message)
        context: dict[str, Any] = {"principalId": response["principalId"], "integrationLatency": latency}
        for k, v in (response.get("context") or {}).items():
            if isinstance(v, dict | list):
                log.error("authorizer %s: context value %s is not a primitive", name, k)
                return self.gateway_response(api, "AUTHORIZER_CONFIGURATION_ERROR", request_id)
            # API Gateway REST hands context values to the integration as strings.
            context[k] = str(v).lower() if isinstance(v, bool) else str(v)
        return context

    def _proxy_response(self, api: Api, result: InvocationResult, request_id: str) -> _Reply:
        if not result.ok:
            log.error("Lambda invocation failed: %s", result.error_message)
            kind = "INTEGRATION_FAILURE"
            return self.gateway_response(api, kind, request_id)
        payload = result.payload
        try:
            if not isinstance(payload, dict):
                raise ValueError("response is not an object")
            status = int(payload["statusCode"])
            headers: list[tuple[str, str]] = []
            single = payload.get("headers") or {}
            multi = payload.get("multiValueHeaders") or {}
            for name, values in multi.items():
                headers += [(name, str(v)) for v in values]
            for name, value in single.items():
                if name not in multi:
                    headers.append((name, str(value)))
            body = payload.get("body")
            if body is None:
                raw = b""
            elif payload.get("isBase64Encoded"):
                raw = base64.b64decode(str(body), validate=True)
            else:
                raw = str(body).encode()
        except (KeyError, ValueError, TypeError, AttributeError, binascii.Error) as exc:
            log.error("malformed Lambda proxy response: %s", exc)
            return self.gateway_response(api, "INTEGRATION_FAILURE", request_id)
        if not any(k.lower() == "content-type" for k, _ in headers):
            headers.append(("Content-Type", "application/json"))
        headers.append(("x-amzn-RequestId", request_id))
        return _Reply(status, headers, raw)


def build_proxy_event(
    *,
    api: Api,
    route: Route,
    method: str,
    path: str,
    path_params: dict[str, str],
    query: str,
    headers: list[tuple[str, str]],
    body: bytes | None,
    source_ip: str,
    request_id: str,
    authorizer: dict[str, Any] | None,
    region: str,
) -> dict[str, Any]:
    """The API Gateway REST proxy event (payload format 1.0)."""
    port = next((v.rsplit(":", 1)[-1] for k, v in headers if k.lower() == "host" and ":" in v), "80")
    headers = [
        *headers,
        ("X-Amzn-Trace-Id", f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}"),
        ("X-Forwarded-For", source_ip),
        ("X-Forwarded-Port", port),
        ("X-Forwarded-Proto", "http"),
    ]
    single_headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for name, value in headers:
        single_headers[name] = value
        multi_headers.setdefault(name, []).append(value)
    pairs = parse_qsl(query, keep_blank_values=True)
    single_query: dict[str, str] = {}
    multi_query: dict[str, list[str]] = {}
    for name, value in pairs:
        single_query[name] = value
        multi_query.setdefault(name, []).append(value)
    text: str | None = None
    is_base64 = False
    if body:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text, is_base64 = base64.b64encode(body).decode(), True
    now = datetime.now(UTC)
    user_agent = single_headers.get("User-Agent") or next(
        (v for k, v in single_headers.items() if k.lower() == "user-agent"), None
    )
    host = next((v for k, v in single_headers.items() if k.lower() == "host"), "127.0.0.1")
    request_context: dict[str, Any] = {
        "resourceId": secrets.token_hex(3),
        "resourcePath": route.resource,
        "httpMethod": method,
        "extendedRequestId": secrets.token_urlsafe(12),
        "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "path": f"/{api.stage}{path}",
        "accountId": ACCOUNT_ID,
        "protocol": "HTTP/1.1",
        "stage": api.stage,
        "domainPrefix": host.split(".", 1)[0],
        "requestTimeEpoch": int(now.timestamp() * 1000),
        "requestId": request_id,
        "identity": {
            "cognitoIdentityPoolId": None,
            "accountId": None,
            "cognitoIdentityId": None,
            "caller": None,
            "sourceIp": source_ip,
            "principalOrgId": None,
            "accessKey": None,
            "cognitoAuthenticationType": None,
            "cognitoAuthenticationProvider": None,
            "userArn": None,
            "userAgent": user_agent,
            "user": None,
        },
        "domainName": host,
        "apiId": API_ID,
    }
    if authorizer is not None:
        request_context["authorizer"] = authorizer
    return {
        "resource": route.resource,
        "path": path,
        "httpMethod": method,
        "headers": single_headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": single_query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": path_params or None,
        "stageVariables": None,
        "requestContext": request_context,
        "body": text,
        "isBase64Encoded": is_base64,
    }


class _Handler(BaseHTTPRequestHandler):
    gateway: Gateway
    server_version = "local-apigateway"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_PAYLOAD_BYTES:
            # Drain (within reason) so the client reads the 413 instead of a broken pipe.
            remaining = length if length <= 8 * MAX_PAYLOAD_BYTES else 0
            while remaining > 0:
                chunk = self.rfile.read(min(remaining, 1 << 20))
                if not chunk:
                    break
                remaining -= len(chunk)
            reply = self.gateway.gateway_response(
                next(iter(self.gateway.apis.values()), None), "REQUEST_TOO_LARGE", str(uuid.uuid4())
            )
            self.close_connection = True
        else:
            body = self.rfile.read(length) if length else None
            try:
                reply = self.gateway.handle(
                    self.command, self.path, list(self.headers.items()), body, self.client_address[0]
                )
            except Exception:
                log.exception("gateway error")
                reply = _Reply(500, [("Content-Type", "application/json")], b'{"message": null}')
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve  # noqa: N815

    def __getattr__(self, name: str) -> Any:
        """Any other method (TRACE, QUERY, ...) finds no route and is answered as API Gateway
        answers one: a 403 from the gateway, never the HTTP server's own 501."""
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)
