"""One fixture-template local stack shared by the tests that need running functions."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from local_stack import LocalStack
from local_stack.moto_server import MotoServer

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE_TEMPLATE = FIXTURES / "template.yaml"
DEMO = ("m-demo", "demo-key-" + "x" * 24)


def eventually(probe: Callable[[], Any], timeout: float = 90.0, interval: float = 0.2) -> Any:
    """Poll until ``probe`` returns something truthy (a wait, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    """A moto server of the module's own (the local stack's, with its patches), nothing provisioned."""
    server = MotoServer(0)
    server.start()
    yield server
    server.stop()


@pytest.fixture(name="eventually", scope="session")
def eventually_fixture() -> Callable[..., Any]:
    return eventually


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalStack]:
    # The fixture template has no merchant table of ours: seed with a fixed demo merchant.
    with LocalStack(
        FIXTURE_TEMPLATE,
        stack_name="fx",
        merchant_table="AttemptsTable",
        retry_delay=0,
        log_stream=None,
        seed=lambda table_name: DEMO,
    ) as running:
        yield running


class SesEvents:
    """Drains the fixture's SES-events queue and indexes the unwrapped records by message id."""

    def __init__(self, stack: LocalStack) -> None:
        self.sqs = stack.client("sqs")
        self.queue_url = stack.resources["EventsQueue"]
        self.by_message: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.envelopes: list[dict[str, Any]] = []

    def drain(self) -> None:
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        )
        for message in response.get("Messages", []):
            envelope = json.loads(message["Body"])
            self.envelopes.append(envelope)
            record = json.loads(envelope["Message"])
            self.by_message[record["mail"]["messageId"]].append(record)
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def wait_for(self, message_id: str, count: int) -> list[dict[str, Any]]:
        def probe() -> list[dict[str, Any]] | None:
            self.drain()
            records = self.by_message.get(message_id, [])
            return records if len(records) >= count else None

        records: list[dict[str, Any]] = eventually(probe)
        return records


@pytest.fixture(scope="session")
def ses_events(stack: LocalStack) -> SesEvents:
    return SesEvents(stack)
