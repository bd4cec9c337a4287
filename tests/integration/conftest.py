"""Fixtures shared by the handler tests."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from tests.integration.helpers import merchant_event


@pytest.fixture(scope="module", autouse=True)
def _fresh_tables(empty_tables: None) -> None:
    """Each module of handler tests starts from empty tables (see ``empty_tables``)."""


@pytest.fixture()
def api(load_handler: Callable[[str], ModuleType], lambda_context: Any) -> Callable[..., dict[str, Any]]:
    module = load_handler("MerchantApiFunction")

    def call(merchant_id: str, method: str, resource: str, path: str, body: Any = None) -> dict[str, Any]:
        response: dict[str, Any] = module.lambda_handler(
            merchant_event(merchant_id, method, resource, path, body), lambda_context
        )
        return response

    return call
