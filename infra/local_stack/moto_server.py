"""moto in server mode on a threaded werkzeug server, with a WSGI tap for SES sends and SNS texts."""

from __future__ import annotations

import http.client
import io
import logging
import os
import threading
import urllib.request
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import boto3
from moto.server import DomainDispatcherApplication, create_backend_app  # type: ignore[attr-defined]
from moto.sns.models import sns_backends
from werkzeug.serving import WSGIRequestHandler, make_server

from local_stack import moto_patches

log = logging.getLogger(__name__)

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_SECURITY_TOKEN": "testing",
}


def default_region() -> str:
    return os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or "us-east-1"


def aws_env(endpoint_url: str, region: str, dynamodb_url: str | None = None) -> dict[str, str]:
    """The environment a process needs to talk to the local moto with plain boto3 (and to its
    DynamoDB process directly, when it has one: ``dynamodb_process``)."""
    env = {
        **FAKE_CREDENTIALS,
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "AWS_ENDPOINT_URL": endpoint_url,
    }
    if dynamodb_url is not None:
        env["AWS_ENDPOINT_URL_DYNAMODB"] = dynamodb_url
    return env


def local_client(service: str, endpoint_url: str, region: str) -> Any:
    """A boto3 client for the local moto, with the fake credentials."""
    return boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
    )


def publish_to_topic(topic_arn: str, message: str) -> None:
    """SNS ``Publish`` to a topic, straight into this process's moto: for the local stack's own
    stand-ins for AWS services (the SES simulator publishing SES's events), which are not
    functions (no role, no faults) and need not pay for an HTTP round trip to themselves."""
    _, _, _, region, account, _ = topic_arn.split(":", 5)
    sns_backends[account][region].publish(message, arn=topic_arn)


# A tapped request: (environ copy, request body, status line, response headers, response body).
# The environ copy names the service under TAPPED_SERVICE ("ses" or "sns").
SesTap = Callable[[dict[str, Any], bytes, str, list[tuple[str, str]], bytes], None]
TAPPED_SERVICE = "local_stack.service"


def tapped_service(environ: dict[str, Any]) -> str | None:
    """The service of a request the simulators read, by its SigV4 scope or host: ses, sns or None."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    host = environ.get("HTTP_HOST", "")
    if "/ses/aws4_request" in auth or host.startswith("email."):
        return "ses"
    if "/sns/aws4_request" in auth or host.startswith("sns."):
        return "sns"
    return None


class SesTapMiddleware:
    """Sees every request moto serves; hands SES and SNS requests and moto's answers to ``tap``."""

    def __init__(self, app: Any, tap: SesTap | None = None) -> None:
        self.app = app
        self.tap = tap

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        service = tapped_service(environ) if environ.get("REQUEST_METHOD") == "POST" else None
        if self.tap is None or service is None:
            return self.app(environ, start_response)  # type: ignore[no-any-return]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        captured: dict[str, Any] = {}

        def capture_start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"], captured["headers"] = status, headers
            return start_response(status, headers, exc_info)

        result = self.app(environ, capture_start)
        try:
            chunks = list(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        response_body = b"".join(chunks)
        try:
            self.tap(
                {**{k: v for k, v in environ.items() if isinstance(v, str)}, TAPPED_SERVICE: service},
                body,
                captured.get("status", ""),
                captured.get("headers", []),
                response_body,
            )
        except Exception:
            log.exception("%s tap failed", service)
        return [response_body]


def is_dynamodb(environ: dict[str, Any]) -> bool:
    """A DynamoDB request, by its SigV4 scope or its ``X-Amz-Target``."""
    return "/dynamodb/aws4_request" in environ.get("HTTP_AUTHORIZATION", "") or environ.get(
        "HTTP_X_AMZ_TARGET", ""
    ).startswith("DynamoDB_")


_HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"})


class DynamoDBProxy:
    """Forwards every DynamoDB request to moto's DynamoDB process (``dynamodb_process``), and
    ``/moto-api/reset`` to it as well as to this moto: a client that knows only the main moto's
    URL reads and writes the same tables as the functions."""

    def __init__(self, app: Any, target_url: str) -> None:
        self.app = app
        target = urlsplit(target_url)
        self.host, self.port = target.hostname or "127.0.0.1", target.port

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        reset = environ.get("PATH_INFO") == "/moto-api/reset"
        if not reset and not is_dynamodb(environ):
            return self.app(environ, start_response)  # type: ignore[no-any-return]
        status, headers, body = self._forward(environ)
        if reset:
            return self.app(environ, start_response)  # type: ignore[no-any-return]
        start_response(status, headers)
        return [body]

    def _forward(self, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        headers = {
            key[5:].replace("_", "-").title(): value
            for key, value in environ.items()
            if key.startswith("HTTP_") and key[5:].replace("_", "-").lower() not in _HOP_BY_HOP
        }
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        path = environ.get("PATH_INFO") or "/"
        if environ.get("QUERY_STRING"):
            path += "?" + environ["QUERY_STRING"]
        # a connection per request: werkzeug closes every connection after its answer
        connection = http.client.HTTPConnection(self.host, self.port, timeout=300)
        try:
            connection.request(environ["REQUEST_METHOD"], path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        kept = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP]
        return f"{response.status} {response.reason}", kept, data


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """moto's access log is noise next to the functions' logs."""


class MotoServer:
    """moto's WSGI app served on 127.0.0.1 by a threaded werkzeug server."""

    def __init__(self, port: int = 0, tap: SesTap | None = None, dynamodb_url: str | None = None) -> None:
        moto_patches.apply()
        moto_app = DomainDispatcherApplication(create_backend_app)
        self.middleware = SesTapMiddleware(moto_app, tap)
        app: Any = self.middleware if dynamodb_url is None else DynamoDBProxy(self.middleware, dynamodb_url)
        self._server = make_server("127.0.0.1", port, app, threaded=True, request_handler=_QuietHandler)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)
        self._thread.start()

    def reset(self) -> None:
        """Forget every resource (moto's state is per process, shared by all servers in it)."""
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST", data=b"")
        with urllib.request.urlopen(request, timeout=10):
            pass

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
