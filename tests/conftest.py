"""Shared fixtures: moto's real HTTP server, resources provisioned from template.yaml, handlers
loaded with the exact environment the template gives them, and sample events by name."""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
REGION = "us-east-1"

# Fake credentials before any boto3 client exists (moto's getting-started rule).
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "couponflow-tests",
    }
)


def load_event(name: str) -> dict[str, Any]:
    """A sample trigger payload from events/, e.g. ``load_event("claim/post_claim")``."""
    data: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return data


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    from local_stack import moto_patches
    from local_stack.moto_server import DynamoDBSerializer
    from moto.server import ThreadedMotoServer

    moto_patches.apply()  # the local stack's moto: cheap, all-or-nothing transactions
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    # One DynamoDB request at a time, as the local stack runs moto (the patched transactions
    # rely on it; without it two concurrent conditional writes could both pass their checks).
    server._server.app = DynamoDBSerializer(server._server.app)  # type: ignore[union-attr]
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    yield endpoint
    server.stop()


@pytest.fixture(scope="session")
def stack(moto_endpoint: str) -> Any:
    """Every table, queue, topic, subscription and configuration set of template.yaml, in moto."""
    from local_stack.provision import provision_template

    return provision_template(ROOT / "template.yaml", moto_endpoint, REGION)


@pytest.fixture(scope="session")
def function_env(stack: Any) -> Callable[[str], dict[str, str]]:
    def env(logical_id: str) -> dict[str, str]:
        props = stack.resolved[logical_id]["Properties"]
        variables = (props.get("Environment") or {}).get("Variables") or {}
        return {k: str(v) for k, v in variables.items()}

    return env


@pytest.fixture()
def load_handler(
    function_env: Callable[[str], dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> Callable[[str], ModuleType]:
    """Import a function's app module fresh, as a cold start with the template's environment."""

    def load(logical_id: str) -> ModuleType:
        for key, value in function_env(logical_id).items():
            monkeypatch.setenv(key, value)
        folder = {
            "ClaimFunction": "claim",
            "MerchantApiFunction": "merchant_api",
            "AuthorizerFunction": "authorizer",
            "MailerFunction": "mailer",
            "SesEventsFunction": "ses_events",
            "HousekeepingFunction": "housekeeping",
            "CodeImportFunction": "code_import",
            "SendStarterFunction": "send_starter",
            "SendFanoutFunction": "send_fanout",
            "ProviderSyncFunction": "provider_sync",
        }[logical_id]
        module = importlib.import_module(f"functions.{folder}.app")
        return importlib.reload(module)

    return load


@pytest.fixture()
def lambda_context() -> Any:
    class Context:
        function_name = "test"
        function_version = "$LATEST"
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test"
        memory_limit_in_mb = 512
        aws_request_id = "00000000-0000-0000-0000-000000000000"
        log_group_name = "/aws/lambda/test"
        log_stream_name = "test"

        @staticmethod
        def get_remaining_time_in_millis() -> int:
            return 10_000

    return Context()


@pytest.fixture()
def merchant(stack: Any) -> tuple[str, str]:
    """A fresh merchant (id, API key): every test works in its own merchant's keys."""
    from couponflow.adapters.dynamodb import Table
    from couponflow.services.merchants import create_merchant

    created = create_merchant(Table(stack.physical["CouponflowTable"]), "Test shop")
    return created.merchant_id, created.api_key
