"""Pacing coupon emails under the SES account's maximum send rate: pure arithmetic.

SES counts every recipient against ``MaxSendRate`` (messages per second). Every mailer
invocation draws from one shared budget per wall-clock second (a DynamoDB counter item per
second, see ``store.send_budget``): a bulk call of ``n`` recipients reserves ``n`` from the
current second's budget in one conditional write, or waits for the next second. A bulk call
never carries more recipients than one second's budget, nor more than SES's 50 entries. Claims'
emails and segment sends' share the budget in two lanes (``lane_budget``).
"""

from __future__ import annotations

import math

MAX_BULK_ENTRIES = 50  # SES v2 SendBulkEmail takes at most 50 BulkEmailEntries per call
QUOTA_CACHE_SECONDS = 300  # the account's quota is read from SES at most every 5 minutes
WINDOW_KEEP_SECONDS = 3600  # a second's budget item lingers this long before its TTL removes it
CLAIM_SHARE = 0.1  # of each second's sends, kept for storefront claims' emails (``lane_budget``)


def per_second_budget(max_send_rate: float) -> int:
    """Whole sends one wall-clock second allows (at least 1, so a tiny quota still moves)."""
    if max_send_rate <= 0 or math.isnan(max_send_rate):
        return 1
    return max(1, math.floor(max_send_rate))


def lane_budget(budget: int, *, segment_send: bool) -> int:
    """The part of one second's ``budget`` a lane may fill.

    Storefront claims' emails may fill all of it; a segment send's may fill all but
    ``CLAIM_SHARE`` of it (at least one send a second, once the budget is 2 or more), so a
    claim's email always finds room within a second however large the send draining beside it.
    Claims take the segment sends' room when they need it, never the other way round.
    """
    if not segment_send or budget < 2:
        return budget
    return budget - max(1, math.floor(budget * CLAIM_SHARE))


def bulk_size(max_send_rate: float, limit: int = MAX_BULK_ENTRIES, *, segment_send: bool = False) -> int:
    """Entries per bulk call: the lane's share of one second's budget, capped at SES's limit."""
    share = lane_budget(per_second_budget(max_send_rate), segment_send=segment_send)
    return max(1, min(limit, share))


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
