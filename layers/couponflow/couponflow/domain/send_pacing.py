"""Pacing coupon emails under the SES account's maximum send rate: pure arithmetic.

SES counts every recipient against ``MaxSendRate`` (messages per second). Every mailer
invocation draws from one shared budget per wall-clock second (a DynamoDB counter item per
second, see ``store.send_budget``): a bulk call of ``n`` recipients reserves ``n`` from the
current second's budget in one conditional write, or waits for the next second. A bulk call
never carries more recipients than one second's budget, nor more than SES's 50 entries.
"""

from __future__ import annotations

import math

MAX_BULK_ENTRIES = 50  # SES v2 SendBulkEmail takes at most 50 BulkEmailEntries per call
QUOTA_CACHE_SECONDS = 300  # the account's quota is read from SES at most every 5 minutes
WINDOW_KEEP_SECONDS = 3600  # a second's budget item lingers this long before its TTL removes it


def per_second_budget(max_send_rate: float) -> int:
    """Whole sends one wall-clock second allows (at least 1, so a tiny quota still moves)."""
    if max_send_rate <= 0 or math.isnan(max_send_rate):
        return 1
    return max(1, math.floor(max_send_rate))


def bulk_size(max_send_rate: float, limit: int = MAX_BULK_ENTRIES) -> int:
    """Entries per bulk call: one second's budget, capped at SES's limit per call."""
    return max(1, min(limit, per_second_budget(max_send_rate)))


def chunks(count: int, size: int) -> list[tuple[int, int]]:
    """``(start, stop)`` slices that split ``count`` items into calls of at most ``size``."""
    if size < 1:
        raise ValueError("size must be at least 1")
    return [(start, min(start + size, count)) for start in range(0, count, size)]


def room_needed(budget: int, count: int) -> int:
    """The highest ``used`` a second may show for ``count`` more sends to fit its ``budget``.

    Negative when ``count`` exceeds the budget (then no second can take it: split the call).
    """
    return budget - count


def fits(used: int, budget: int, count: int) -> bool:
    """Whether ``count`` more sends fit a second that has ``used`` of ``budget`` already."""
    return used <= room_needed(budget, count)


def seconds_until_next_window(now: float) -> float:
    """How long until the next wall-clock second begins (never 0, so a waiter always moves on)."""
    return max(0.001, math.floor(now) + 1 - now)


def throttle_backoff(attempt: int, *, base: float = 0.25, cap: float = 4.0) -> float:
    """Seconds to wait before retry ``attempt`` (1, 2, ...) after SES throttled a call: doubling."""
    if attempt < 1:
        return 0.0
    return float(min(cap, base * 2 ** (attempt - 1)))
