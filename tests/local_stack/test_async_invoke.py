"""Lambda's asynchronous invocation as the local stack runs it (retries, on-failure destination),
here: what it says when the stack is stopping."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from local_stack.async_invoke import AsyncInvoker
from local_stack.workers import PoolStopped

LOGGER = "local_stack.async_invoke"


def _levels_logged(caplog: pytest.LogCaptureFixture, invoke: Any) -> list[int]:
    """Invoke once (on its own thread, as Lambda's async invocation does); the levels it logged."""
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        AsyncInvoker(invoke)("HousekeepingFunction", {})
        deadline = time.monotonic() + 30
        while not [r for r in caplog.records if r.name == LOGGER] and time.monotonic() < deadline:
            time.sleep(0.01)
    return [r.levelno for r in caplog.records if r.name == LOGGER]


def test_an_invocation_after_the_stack_began_to_stop_warns_of_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def stopped(function: str, event: Any) -> Any:
        raise PoolStopped("function pool is stopped")

    assert _levels_logged(caplog, stopped) == [logging.DEBUG]


def test_an_invocation_that_cannot_reach_its_function_is_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    def gone(function: str, event: Any) -> Any:
        raise KeyError(function)

    assert _levels_logged(caplog, gone) == [logging.WARNING]
