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
from couponflow.domain.send_pacing import bulk_size, per_second_budget, seconds_until_next_window
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

    def budget(self) -> int:
        """Sends per second the account allows (from SES's quota, cached)."""
        return per_second_budget(self.rate())

    def bulk_size(self) -> int:
        """Entries per bulk call: never more than one second's budget, nor SES's 50."""
        return bulk_size(self.rate())

    def acquire(self, count: int, *, deadline: float) -> int:
        """Reserve ``count`` sends; returns the second they belong to. ``deadline`` is a clock time."""
        budget = self.budget()
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
