"""Shared fixtures: moto's real HTTP server, resources provisioned from template.yaml, handlers
loaded with the exact environment the template gives them, and sample events by name."""

from __future__ import annotations

import functools
import importlib
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from local_stack import iam
from local_stack.template import ACCOUNT_ID

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


def record_stack_startup(config: pytest.Config, name: str, seconds: float) -> None:
    """Note how long a local stack took to get ready; the run's summary reports them all."""
    if getattr(config, "cache", None) is None:  # run with -p no:cacheprovider
        return
    folder = config.cache.mkdir("stack-startups")
    (folder / f"{name}-{os.getpid()}.json").write_text(json.dumps({"name": name, "seconds": seconds}))


def pytest_sessionstart(session: pytest.Session) -> None:
    if not hasattr(session.config, "workerinput") and getattr(session.config, "cache", None):
        for stale in session.config.cache.mkdir("stack-startups").glob("*.json"):
            stale.unlink()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if hasattr(config, "workerinput") or getattr(config, "cache", None) is None:
        return
    found = [json.loads(p.read_text()) for p in config.cache.mkdir("stack-startups").glob("*.json")]
    if found:
        shown = ", ".join(f"{f['name']} {f['seconds']:.1f} s" for f in sorted(found, key=lambda f: f["name"]))
        terminalreporter.write_line(f"local stack start-up times: {shown}")


def load_event(name: str) -> dict[str, Any]:
    """A sample trigger payload from events/, e.g. ``load_event("claim/post_claim")``."""
    data: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return data


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    from local_stack.moto_server import MotoServer

    # The local stack's own moto server: its patches (cheap, all-or-nothing transactions) and
    # one DynamoDB request at a time, so concurrent conditional writes race as on DynamoDB.
    server = MotoServer(port=0)
    server.start()
    iam.install(region=REGION, account_id=ACCOUNT_ID)  # handlers' calls checked while acting_as
    os.environ["AWS_ENDPOINT_URL"] = server.url
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def stack(moto_endpoint: str) -> Any:
    """Every table, queue, topic, subscription and configuration set of template.yaml, in moto."""
    from local_stack.provision import provision_template

    # As the local stack does: the fake email providers of the tests listen on http://127.0.0.1.
    return provision_template(
        ROOT / "template.yaml", moto_endpoint, REGION, {"AllowPrivateProviderHosts": "true"}
    )


@pytest.fixture(scope="module")
def empty_tables(stack: Any) -> None:
    """Empty every DynamoDB table of the stack (the handler tests use it once per module).

    Housekeeping's sweeps read every merchant's due items, as they must in production, and moto
    walks a whole table for each index query; so the items earlier modules left behind made each
    later sweep slower (a 6 s test took 33 s at the end of the suite). Emptying the tables is
    moto's own in-process state: the server runs in this process.
    """
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    tables = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].tables
    for logical_id, resource in stack.resolved.items():
        if resource.get("Type") == "AWS::DynamoDB::Table":
            tables[stack.physical[logical_id]].items.clear()


@pytest.fixture(scope="session")
def function_env(stack: Any) -> Callable[[str], dict[str, str]]:
    def env(logical_id: str) -> dict[str, str]:
        props = stack.resolved[logical_id]["Properties"]
        variables = (props.get("Environment") or {}).get("Variables") or {}
        return {k: str(v) for k, v in variables.items()}

    return env


@pytest.fixture()
def load_handler(
    function_env: Callable[[str], dict[str, str]], monkeypatch: pytest.MonkeyPatch, stack: Any
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
            "SmsReceiptsFunction": "sms_receipts",
        }[logical_id]
        # As on Lambda, the function's calls (its cold start's too) are checked against its role
        role = iam.role_of(logical_id, stack.resolved[logical_id]["Properties"], account_id=ACCOUNT_ID)
        with iam.acting_as(role):
            module = importlib.reload(importlib.import_module(f"functions.{folder}.app"))
        handler = module.lambda_handler

        @functools.wraps(handler)
        def as_its_role(event: Any, context: Any) -> Any:
            with iam.acting_as(role):
                return handler(event, context)

        module.lambda_handler = as_its_role
        return module

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
