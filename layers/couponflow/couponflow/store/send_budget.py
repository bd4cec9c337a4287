"""The account's SES sending budget, one counter item per wall-clock second, shared by every mailer.

A mailer reserves the sends of a whole bulk call with one conditional ``ADD``: it succeeds only
while the second's ``used`` leaves room for them, so however many invocations run at once, the
reservations of one second never add up past its budget.
"""

from __future__ import annotations

from couponflow.adapters.dynamodb import ConditionFailed, Table
from couponflow.domain.send_pacing import WINDOW_KEEP_SECONDS, room_needed
from couponflow.store import keys


def reserve(table: Table, *, second: int, count: int, budget: int) -> bool:
    """Reserve ``count`` sends in ``second`` if its ``budget`` has room; False when it has not."""
    room = room_needed(budget, count)
    if room < 0:
        return False
    try:
        table.update(
            keys.send_budget_window(second),
            "ADD used :n SET expires_at = if_not_exists(expires_at, :ttl)",
            condition="attribute_not_exists(used) OR used <= :room",
            values={":n": count, ":room": room, ":ttl": second + WINDOW_KEEP_SECONDS},
        )
    except ConditionFailed:
        return False
    return True


def used(table: Table, second: int) -> int:
    """Sends reserved in ``second`` so far (0 when none)."""
    item = table.get(keys.send_budget_window(second))
    return int(item.get("used", 0)) if item else 0
