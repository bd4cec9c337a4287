"""Housekeeping: the periodic sweeps (one module per task) run by the rate schedule.

Each task takes the time and returns counts of what it did. A task that fails is logged and
the others still run; the run then fails as a whole so the invocation is retried and, after
its retries, lands in the housekeeping dead-letter queue with an alarm.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime

logger = logging.getLogger(__name__)

Task = Callable[[datetime], Mapping[str, int]]


class HousekeepingFailed(RuntimeError):
    """At least one task failed; the message names them."""


def run_all(tasks: Mapping[str, Task], now: datetime) -> dict[str, dict[str, int]]:
    results: dict[str, dict[str, int]] = {}
    failed: list[str] = []
    for name, task in tasks.items():
        try:
            results[name] = dict(task(now))
        except Exception:
            logger.exception("housekeeping task failed", extra={"task": name})
            failed.append(name)
    if failed:
        raise HousekeepingFailed(f"housekeeping tasks failed: {', '.join(failed)}")
    return results
