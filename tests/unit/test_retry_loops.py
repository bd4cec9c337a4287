"""Every retry loop waits with jittered backoff and gives up after a bounded number of rounds."""

from __future__ import annotations

from typing import Any

import pytest
from couponflow import retry
from couponflow.adapters import dynamodb
from couponflow.errors import RetryableError


@pytest.fixture()
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr(retry, "sleep", slept.append)
    return slept


class _NeverDone:
    """A DynamoDB client that always leaves everything unprocessed (a table throttled for good)."""

    def __init__(self) -> None:
        self.calls = 0

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803 - boto3 names
        self.calls += 1
        return {"Responses": {}, "UnprocessedKeys": RequestItems}

    def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803
        self.calls += 1
        return {"UnprocessedItems": RequestItems}


def test_a_batch_read_left_unprocessed_is_retried_with_growing_jittered_waits_then_given_up(
    monkeypatch: pytest.MonkeyPatch, waits: list[float]
) -> None:
    client = _NeverDone()
    monkeypatch.setattr(dynamodb, "client", lambda: client)
    with pytest.raises(RetryableError, match="unread after 8 retries"):
        dynamodb.Table("t").batch_get([{"pk": "a", "sk": "b"}])
    assert client.calls == dynamodb.BATCH_ROUNDS + 1
    assert len(waits) == dynamodb.BATCH_ROUNDS
    bounds = [min(2.0, 0.05 * 2 ** (n - 1)) for n in range(1, dynamodb.BATCH_ROUNDS + 1)]
    assert all(0 <= w <= b for w, b in zip(waits, bounds, strict=True))


def test_a_batch_write_left_unprocessed_is_given_up_after_its_rounds(
    monkeypatch: pytest.MonkeyPatch, waits: list[float]
) -> None:
    client = _NeverDone()
    monkeypatch.setattr(dynamodb, "client", lambda: client)
    with pytest.raises(RetryableError, match="unwritten after 8 retries"):
        dynamodb.Table("t").batch_put([{"pk": "a", "sk": "b"}])
    assert client.calls == dynamodb.BATCH_ROUNDS + 1 and len(waits) == dynamodb.BATCH_ROUNDS


def test_backoff_is_full_jitter_under_a_capped_doubling_bound() -> None:
    draws = [retry.backoff(n, base=0.1, cap=1.0) for n in range(1, 8) for _ in range(50)]
    assert all(0.0 <= d <= 1.0 for d in draws)
    assert len({round(d, 6) for d in draws}) > 100  # jittered, not a fixed schedule
    assert retry.backoff(0) == 0.0
