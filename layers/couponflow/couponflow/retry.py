"""Waiting before a retry: capped exponential backoff with full jitter, the one used everywhere.

Every retry loop in the core package (unprocessed batch items, a conditional write that lost a
race, SES throttling) waits ``backoff(attempt)`` between attempts and gives up after a bounded
number, raising :class:`~couponflow.errors.RetryableError` so the queue's own retry (and in the
end its dead-letter queue) takes over. Full jitter (a uniform draw between 0 and the capped
exponential) keeps concurrent invocations that failed together from retrying together, as
AWS's architecture guidance recommends.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from couponflow.errors import RetryableError

T = TypeVar("T")

_random = random.Random()

# Tests replace this to run retry loops without waiting.
sleep: Callable[[float], None] = time.sleep


def backoff(attempt: int, *, base: float = 0.05, cap: float = 2.0) -> float:
    """Seconds to wait before retry ``attempt`` (1, 2, ...): uniform in [0, min(cap, base * 2^(n-1))]."""
    if attempt < 1:
        return 0.0
    return jitter(min(cap, base * 2 ** (attempt - 1)))


def jitter(upper: float) -> float:
    """Full jitter: a uniform draw in [0, ``upper``]."""
    return _random.uniform(0.0, max(0.0, upper))


def pause(attempt: int, *, base: float = 0.05, cap: float = 2.0) -> None:
    """Sleep ``backoff(attempt)``."""
    sleep(backoff(attempt, base=base, cap=cap))


def call(
    action: Callable[[], T],
    *,
    attempts: int,
    base: float = 0.05,
    cap: float = 2.0,
    never_retry: tuple[type[Exception], ...] = (),
) -> T:
    """``action()``, tried up to ``attempts`` times while it raises ``RetryableError`` (but none of
    ``never_retry``), pausing ``backoff(n)`` between tries; the last error is raised."""
    for attempt in range(1, attempts + 1):
        try:
            return action()
        except never_retry:
            raise
        except RetryableError:
            if attempt >= attempts:
                raise
            pause(attempt, base=base, cap=cap)
    raise ValueError("attempts must be at least 1")
