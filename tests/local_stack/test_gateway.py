"""The local API Gateway over real HTTP: proxy event shape, authorizer outcomes, errors."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from local_stack import LocalStack
from local_stack.gateway import evaluate_policy

GOOD_TOKEN = "Bearer allow" + "a" * 20


def call(
    url: str, method: str = "GET", body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def echoed(stack: LocalStack, path: str, **kwargs: Any) -> dict[str, Any]:
    status, _, body = call(stack.api_url + path, **kwargs)
    assert status == 200, body
    return json.loads(body)  # type: ignore[no-any-return]


def test_proxy_event_has_api_gateway_rest_shape(stack: LocalStack) -> None:
    result = echoed(
        stack, "/items/it%2042?a=1&a=2&b=", headers={"Authorization": GOOD_TOKEN, "X-Custom": "v"}
    )
    event = result["event"]
    assert event["resource"] == "/items/{itemId}"
    assert event["path"] == "/items/it%2042"
    assert event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"itemId": "it%2042"}
    assert event["queryStringParameters"] == {"a": "2", "b": ""}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": [""]}
    assert event["headers"]["X-Custom"] == "v"
    assert event["multiValueHeaders"]["X-Custom"] == ["v"]
    assert event["stageVariables"] is None
    assert event["body"] is None
    assert event["isBase64Encoded"] is False
    ctx = event["requestContext"]
    assert ctx["accountId"] == "123456789012"
    assert ctx["apiId"] == "local"
    assert ctx["stage"] == "test"
    assert ctx["resourcePath"] == "/items/{itemId}"
    assert ctx["httpMethod"] == "GET"
    assert ctx["path"] == "/test/items/it%2042"
    assert ctx["identity"]["sourceIp"] == "127.0.0.1"
    assert ctx["identity"]["userAgent"].startswith("Python-urllib")
    assert ctx["requestId"]


def test_authorizer_context_is_passed_through_as_strings(stack: LocalStack) -> None:
    authorizer = echoed(stack, "/items/1", headers={"Authorization": GOOD_TOKEN})["event"]["requestContext"][
        "authorizer"
    ]
    assert authorizer["principalId"] == "merchant-allowaaa"
    assert authorizer["merchantId"] == "m-123"
    assert authorizer["tier"] == "2"
    assert authorizer["active"] == "true"


def test_post_body_and_greedy_proxy_path(stack: LocalStack) -> None:
    event = echoed(
        stack,
        "/files/a/b/c.txt",
        method="PUT",
        body=b'{"x": 1}',
        headers={"Authorization": GOOD_TOKEN, "Content-Type": "application/json"},
    )["event"]
    assert event["resource"] == "/files/{proxy+}"
    assert event["pathParameters"] == {"proxy": "a/b/c.txt"}
    assert event["body"] == '{"x": 1}'


def test_proxy_response_status_headers_and_multi_value_headers_are_mapped_back(stack: LocalStack) -> None:
    status, headers, _ = call(stack.api_url + "/items/1", headers={"Authorization": GOOD_TOKEN})
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Multi"] in ("a, b", "a,b", "a")  # urllib folds repeated headers
    assert headers["x-amzn-RequestId"]


def test_missing_authorization_header_is_401_with_the_gateway_response_template(stack: LocalStack) -> None:
    status, _, body = call(stack.api_url + "/items/1")
    assert status == 401
    assert json.loads(body) == {"message": "missing or malformed API key"}


def test_malformed_token_is_401_without_invoking_the_authorizer(stack: LocalStack) -> None:
    status, _, body = call(stack.api_url + "/items/1", headers={"Authorization": "Bearer short"})
    assert status == 401
    assert json.loads(body) == {"message": "missing or malformed API key"}


def test_authorizer_raising_unauthorized_is_401(stack: LocalStack) -> None:
    status, _, _ = call(
        stack.api_url + "/items/1", headers={"Authorization": "Bearer unauthorized" + "u" * 10}
    )
    assert status == 401


def test_deny_policy_is_403_with_the_access_denied_template(stack: LocalStack) -> None:
    status, _, body = call(stack.api_url + "/items/1", headers={"Authorization": "Bearer deny" + "d" * 20})
    assert status == 403
    assert json.loads(body) == {"message": "API key not recognised"}


def test_policy_that_allows_other_methods_only_is_403(stack: LocalStack) -> None:
    token = {"Authorization": "Bearer narrow" + "n" * 20}
    assert call(stack.api_url + "/items/1", headers=token)[0] == 200
    assert call(stack.api_url + "/items", method="POST", body=b"{}", headers=token)[0] == 403


def test_authorizer_crash_is_500(stack: LocalStack) -> None:
    status, _, body = call(stack.api_url + "/items/1", headers={"Authorization": "Bearer crash" + "c" * 20})
    assert status == 500
    assert json.loads(body) == {"message": None}


def test_route_with_auth_none_skips_the_authorizer(stack: LocalStack) -> None:
    event = echoed(stack, "/public/7", method="POST", body=b"{}")["event"]
    assert "authorizer" not in event["requestContext"]


def test_unknown_route_or_method_is_403_missing_authentication_token(stack: LocalStack) -> None:
    for path, method in (("/nowhere", "GET"), ("/items/1", "DELETE")):
        status, _, body = call(stack.api_url + path, method=method, headers={"Authorization": GOOD_TOKEN})
        assert status == 403
        assert json.loads(body) == {"message": "Missing Authentication Token"}


def test_cors_preflight_is_answered_from_the_api_settings(stack: LocalStack) -> None:
    status, headers, _ = call(stack.api_url + "/items/1", method="OPTIONS")
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert headers["Access-Control-Allow-Methods"] == "GET,POST,OPTIONS"
    assert headers["Access-Control-Allow-Headers"] == "Content-Type,Authorization"


def test_unhandled_function_error_is_502(stack: LocalStack) -> None:
    status, _, body = call(stack.api_url + "/public/1", method="POST", body=b"boom")
    assert status == 502
    assert json.loads(body) == {"message": "Internal server error"}


def test_body_over_10_mb_is_413(stack: LocalStack) -> None:
    status, _, _ = call(stack.api_url + "/public/1", method="POST", body=b"x" * (10 * 1024 * 1024 + 1))
    assert status == 413


def test_execute_api_urls_in_function_environment_point_at_the_local_gateway(stack: LocalStack) -> None:
    env = echoed(stack, "/items/1", headers={"Authorization": GOOD_TOKEN})["env"]
    assert env["FIXTURE_PUBLIC_URL"] == stack.api_url
    assert "FIXTURE_FLAVOUR" not in env  # !If with AWS::NoValue


def test_policy_resources_support_wildcards() -> None:
    arn = "arn:aws:execute-api:us-east-1:123456789012:local/v1/GET/items/1"
    allow = {
        "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "arn:aws:*:local/*"}]
    }
    assert evaluate_policy(allow, arn) == "Allow"
    one_method = {
        "Statement": [{"Effect": "Allow", "Action": ["execute-api:*"], "Resource": ["arn:*:local/v1/POST/*"]}]
    }
    assert evaluate_policy(one_method, arn) == "None"
    deny_wins = {"Statement": [*allow["Statement"], {"Effect": "Deny", "Action": "*", "Resource": "*"}]}
    assert evaluate_policy(deny_wins, arn) == "Deny"
