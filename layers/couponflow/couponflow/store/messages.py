"""Messages and their event timelines in DynamoDB.

The message item carries the status derived so far. Every status write is conditional on the
new status outranking the stored one (``status_rank``), so the stored status is the maximum by
precedence over all events applied, whatever order they came in and however often.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from couponflow.adapters.dynamodb import ConditionFailed, Item, Table
from couponflow.domain.message_status import RANK, MessageStatus
from couponflow.store import keys


def get(table: Table, merchant_id: str, customer_id: str, message_id: str) -> Item | None:
    return table.get(keys.message(merchant_id, customer_id, message_id))


def find_by_ses_id(table: Table, ses_message_id: str) -> Item | None:
    """The message SES knows as ``ses_message_id`` (for identity notifications, which carry no tags)."""
    index = keys.ses_message_index(ses_message_id)
    items = table.query("gsi1pk = :pk", {":pk": index["gsi1pk"]}, index=keys.GSI1, limit=1)
    return items[0] if items else None


def raise_status(
    table: Table,
    key: Mapping[str, str],
    status: MessageStatus,
    *,
    at: str,
    details: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> bool:
    """Move the message to ``status`` if it outranks the current one; True when it did.

    ``extra`` attributes are set in the same write (only when the status moves).
    """
    sets = ["#status = :status", "status_rank = :rank", "status_at = :at", "status_details = :details"]
    values: dict[str, Any] = {
        ":status": str(status),
        ":rank": RANK[status],
        ":at": at,
        ":details": dict(details or {}),
    }
    names = {"#status": "status"}
    for i, (name, value) in enumerate((extra or {}).items()):
        names[f"#x{i}"] = name
        values[f":x{i}"] = value
        sets.append(f"#x{i} = :x{i}")
    try:
        table.update(
            dict(key),
            "SET " + ", ".join(sets),
            condition="attribute_exists(pk) AND status_rank < :rank",
            names=names,
            values=values,
        )
    except ConditionFailed:
        return False
    return True


def record_handoff(table: Table, key: Mapping[str, str], ses_message_id: str, *, at: str) -> None:
    """Remember SES's id for the message (and index it), whatever its status has become."""
    index = keys.ses_message_index(ses_message_id)
    table.update(
        dict(key),
        "SET ses_message_id = :id, sent_at = :at, gsi1pk = :gpk, gsi1sk = :gsk REMOVE lease_until",
        condition="attribute_exists(pk)",
        values={":id": ses_message_id, ":at": at, ":gpk": index["gsi1pk"], ":gsk": index["gsi1sk"]},
    )


def take_send_lease(table: Table, key: Mapping[str, str], *, now_epoch: int, lease_seconds: int) -> bool:
    """Claim the right to hand this message to SES; False if it was sent or another sender holds it."""
    try:
        table.update(
            dict(key),
            "SET lease_until = :until",
            condition=(
                "attribute_exists(pk) AND attribute_not_exists(ses_message_id) AND status_rank = :queued "
                "AND (attribute_not_exists(lease_until) OR lease_until < :now)"
            ),
            values={
                ":until": now_epoch + lease_seconds,
                ":now": now_epoch,
                ":queued": RANK[MessageStatus.QUEUED],
            },
        )
    except ConditionFailed:
        return False
    return True


def outbox_older_than(table: Table, shard: int, before: str) -> list[Item]:
    """Messages in one outbox shard created before ``before`` (ISO time) and not yet handed to SES."""
    return table.query(
        "gsi1pk = :pk AND gsi1sk < :before",
        {":pk": keys.outbox_partition(shard), ":before": before},
        index=keys.GSI1,
    )


def leave_outbox(table: Table, key: Mapping[str, str]) -> None:
    """Take a message that is no longer queued out of the outbox index."""
    with contextlib.suppress(ConditionFailed):  # already out, or still queued
        table.update(
            dict(key),
            "REMOVE gsi1pk, gsi1sk",
            condition="attribute_exists(pk) AND status_rank > :queued AND begins_with(gsi1pk, :outbox)",
            values={":queued": RANK[MessageStatus.QUEUED], ":outbox": "OUTBOX#"},
        )


def put_event(table: Table, item: Item) -> bool:
    """Store one timeline event; False when the same event was stored before (a duplicate)."""
    try:
        table.put(item, condition="attribute_not_exists(pk)")
    except ConditionFailed:
        return False
    return True


def timeline(events_table: Table, merchant_id: str, message_id: str, *, now_epoch: int) -> list[Item]:
    """A message's events in time order, leaving out those past their retention (TTL not yet run)."""
    items = events_table.query("pk = :pk", {":pk": keys.message_events_partition(merchant_id, message_id)})
    return [i for i in items if int(i.get("expires_at", now_epoch + 1)) > now_epoch]


def is_suppressed(table: Table, merchant_id: str, email: str) -> Item | None:
    return table.get(keys.suppression(merchant_id, email), consistent=False)


def suppress(
    table: Table, merchant_id: str, email: str, *, reason: str, at: str, source: Mapping[str, Any]
) -> None:
    """Put the address on the merchant's suppression list (the first reason is kept)."""
    table.update(
        keys.suppression(merchant_id, email),
        "SET #type = if_not_exists(#type, :type), email = :email, reason = if_not_exists(reason, :reason), "
        "suppressed_at = if_not_exists(suppressed_at, :at), #source = if_not_exists(#source, :source)",
        names={"#type": "type", "#source": "source"},
        values={
            ":type": "suppression",
            ":email": email,
            ":reason": reason,
            ":at": at,
            ":source": dict(source),
        },
    )
