"""The merchant's suppression list, and the soft bounces that may put an address on it.

A suppression is ``M#<m>#SUPPRESSION`` / ``EMAIL#<address>`` with the reason and the event(s)
that caused it; the mailer drops later messages to a suppressed address without calling SES.
Soft bounces of an address are kept, keyed by event (so a duplicate counts once), on
``SOFTBOUNCE#<address>`` in the same partition until they reach the threshold.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from couponflow.adapters.dynamodb import Item, Table, Update
from couponflow.store import keys

SOFT_BOUNCES_KEPT = 50


def suppress_action(
    merchant_id: str, email: str, *, reason: str, at: str, source: Mapping[str, Any]
) -> Update:
    """Put the address on the list (a transaction action); the first reason and source are kept."""
    return Update(
        key=keys.suppression(merchant_id, email),
        expression=(
            "SET #type = if_not_exists(#type, :type), email = :email, "
            "reason = if_not_exists(reason, :reason), suppressed_at = if_not_exists(suppressed_at, :at), "
            "#source = if_not_exists(#source, :source), "
            "merchant_id = :m"
        ),
        names={"#type": "type", "#source": "source"},
        values={
            ":type": "suppression",
            ":email": email,
            ":reason": reason,
            ":at": at,
            ":source": dict(source),
            ":m": merchant_id,
        },
    )


def soft_bounces(table: Table, merchant_id: str, email: str) -> Item | None:
    return table.get(keys.soft_bounces(merchant_id, email))


def record_soft_bounce_action(
    merchant_id: str, email: str, seen: Item | None, event_key: str, event: Mapping[str, Any]
) -> Update:
    """Add one soft bounce to the address's record (a transaction action), conditioned on the
    version read in ``seen`` so two bounces counted at once cannot both miss the threshold."""
    version = int((seen or {}).get("version", 0))
    kept = dict((seen or {}).get("bounces", {}))
    kept[event_key] = dict(event)
    if len(kept) > SOFT_BOUNCES_KEPT:
        newest = sorted(kept, key=lambda k: str(kept[k].get("occurred_at")))[-SOFT_BOUNCES_KEPT:]
        kept = {k: kept[k] for k in newest}
    return Update(
        key=keys.soft_bounces(merchant_id, email),
        expression="SET #type = :type, email = :email, bounces = :bounces, version = :next",
        condition="attribute_not_exists(pk) OR version = :version",
        names={"#type": "type"},
        values={
            ":type": "soft_bounces",
            ":email": email,
            ":bounces": kept,
            ":next": version + 1,
            ":version": version,
        },
    )


def get(table: Table, merchant_id: str, email: str) -> Item | None:
    return table.get(keys.suppression(merchant_id, email))


def list_page(
    table: Table, merchant_id: str, *, limit: int, after: str | None = None
) -> tuple[list[Item], str | None]:
    """One page of the merchant's suppressions in address order, and the address to continue after."""
    start = {"pk": keys.suppressions_partition(merchant_id), "sk": f"EMAIL#{after}"} if after else None
    items, last = table.query_page(
        "pk = :pk AND begins_with(sk, :email)",
        {":pk": keys.suppressions_partition(merchant_id), ":email": "EMAIL#"},
        limit=limit,
        start_key=start,
    )
    return items, (str(last["sk"]).removeprefix("EMAIL#") if last else None)


def remove(table: Table, merchant_id: str, email: str) -> Item | None:
    """Take the address off the list (and forget its soft bounces); returns the removed suppression."""
    removed = table.delete(keys.suppression(merchant_id, email))
    table.delete(keys.soft_bounces(merchant_id, email))
    return removed
