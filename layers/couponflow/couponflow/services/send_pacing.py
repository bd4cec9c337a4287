"""Pacing the mailers under the account's SES sending rate, shared across concurrent invocations.

``SendPacer.acquire(n)`` reserves ``n`` sends in the current wall-clock second's budget (one
conditional write, ``store.send_budget``) or waits for the next second, until its deadline;
then it raises :class:`PacingTimeout` so the caller puts the work back on the queue.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from couponflow.adapters import ses
from couponflow.adapters.dynamodb import Table
from couponflow.domain.send_pacing import bulk_size, lane_budget, per_second_budget, seconds_until_next_window
from couponflow.errors import RetryableError
from couponflow.store import send_budget


class PacingTimeout(RetryableError):
    """No room in the shared sending budget before the deadline: return the work to the queue."""


@dataclass
class SendPacer:
    table: Table
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    rate: Callable[[], float] = field(default=ses.max_send_rate)

    def budget(self, *, segment_send: bool = False) -> int:
        """Sends per second the account allows (from SES's quota, cached), less the claims'
        share for a segment send (``domain.send_pacing.lane_budget``)."""
        return lane_budget(per_second_budget(self.rate()), segment_send=segment_send)

    def bulk_size(self, *, segment_send: bool = False) -> int:
        """Entries per bulk call: never more than the lane's share of a second, nor SES's 50."""
        return bulk_size(self.rate(), segment_send=segment_send)

    def acquire(self, count: int, *, deadline: float, segment_send: bool = False) -> int:
        """Reserve ``count`` sends; returns the second they belong to. ``deadline`` is a clock time.

        Both lanes count in the same ``used`` of a second; a segment send's reservation must
        leave the claims' share of it free, a claim's may fill the second."""
        budget = self.budget(segment_send=segment_send)
        if count > budget:
            raise ValueError(f"{count} sends never fit one second's budget of {budget}")
        while True:
            now = self.clock()
            second = int(now)
            if send_budget.reserve(self.table, second=second, count=count, budget=budget):
                return second
            wait = seconds_until_next_window(now)
            if now + wait >= deadline:
                raise PacingTimeout(f"no room for {count} sends in the SES budget before the deadline")
            self.sleep(wait)
