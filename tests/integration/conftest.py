"""Fixtures shared by the handler tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from tests.integration.helpers import drain_queue, merchant_event, sqs_event


@pytest.fixture(scope="module", autouse=True)
def _fresh_tables(empty_tables: None) -> None:
    """Each module of handler tests starts from empty tables (see ``empty_tables``)."""


@pytest.fixture()
def api(load_handler: Callable[[str], ModuleType], lambda_context: Any) -> Callable[..., dict[str, Any]]:
    module = load_handler("MerchantApiFunction")

    def call(
        merchant_id: str, method: str, resource: str, path: str, body: Any = None, query: Any = None
    ) -> dict[str, Any]:
        response: dict[str, Any] = module.lambda_handler(
            merchant_event(merchant_id, method, resource, path, body, query), lambda_context
        )
        return response

    return call


@pytest.fixture()
def run_import_queue(
    stack: Any, load_handler: Callable[[str], ModuleType], lambda_context: Any
) -> Callable[[], list[dict[str, Any]]]:
    """Deliver what is on the import queue to the import function, as its event source mapping
    would, until the queue is empty; the message bodies delivered."""
    module = load_handler("CodeImportFunction")

    class LongContext(type(lambda_context)):  # type: ignore[misc]
        @staticmethod
        def get_remaining_time_in_millis() -> int:
            return 900_000  # the import function's Timeout

    def run() -> list[dict[str, Any]]:
        delivered = []
        while bodies := drain_queue(stack.physical["CodeImportQueue"]):
            for body in bodies:
                response = module.lambda_handler(sqs_event([json.dumps(body)]), LongContext())
                assert response == {"batchItemFailures": []}
                delivered.append(body)
        return delivered

    return run
