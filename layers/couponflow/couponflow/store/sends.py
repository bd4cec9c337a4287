"""Segment sends in DynamoDB: the send item, its segment lock, its chunks and recipient outcomes.

- Creating a send is one transaction: the send item, and the segment's ``active_send_id`` set
  only if the segment has none (one send per segment at a time).
- Every status move is a conditional write on the current status, so cancel and start, which
  both move a ``scheduled`` send, cannot both win.
- A chunk is counted once: its done marker (``attribute_not_exists``) and the send's counters
  are one transaction. A recipient outcome is written once per send and customer.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from couponflow import metrics
from couponflow.adapters.dynamodb import ConditionFailed, Item, Put, Table, TransactionCanceled, Update
from couponflow.domain import list_views
from couponflow.domain.send_schedule import Rule, SendStatus
from couponflow.errors import ConflictError, NotFoundError
from couponflow.store import keys


class SendConflict(ConflictError):
    """A write lost to the send's or segment's state; ``rule`` names what held."""

    def __init__(self, rule: Rule, message: str) -> None:
        super().__init__(f"{rule}: {message}")
        self.rule = rule


def create(table: Table, send: Item) -> None:
    m, s, seg = send["merchant_id"], send["send_id"], send["segment_id"]
    try:
        table.transact(
            [
                Put(
                    {
                        **keys.send(m, s),
                        **keys.sends_index(m, s, send["created_at"]),
                        **keys.send_filters_index(m, send),
                        **send,
                    },
                    condition="attribute_not_exists(pk)",
                ),
                Update(
                    keys.segment(m, seg),
                    "SET active_send_id = :send",
                    condition="attribute_exists(pk) AND attribute_not_exists(active_send_id)",
                    values={":send": s},
                ),
            ]
        )
    except TransactionCanceled as canceled:
        holder = (canceled.items[1] or {}).get("active_send_id") if len(canceled.items) > 1 else None
        raise SendConflict(
            Rule.ONE_SEND_PER_SEGMENT,
            f"segment '{seg}' already has send '{holder}' scheduled or in progress "
            "(one send per segment at a time)",
        ) from canceled
    metrics.send_moved(str(send["status"]))


def get(table: Table, merchant_id: str, send_id: str) -> Item:
    item = table.get(keys.send(merchant_id, send_id))
    if item is None:
        raise NotFoundError(f"send '{send_id}' not found")
    return item


def move(
    table: Table,
    merchant_id: str,
    send_id: str,
    *,
    frm: SendStatus,
    to: SendStatus,
    at: str,
    fields: Mapping[str, Any] | None = None,
) -> bool:
    """Move the send from ``frm`` to ``to`` (setting ``fields``); False when it was not in ``frm``.

    A move that already took effect with this same ``at`` counts as made: when DynamoDB carried
    it out but its answer was lost, botocore sends it again, and that retry must not read as a
    move someone else made (a start would stop with the send ``sending`` and never fanned out; a
    finish or a cancel would keep the segment locked for good). ``at`` is the mover's own instant,
    so no other mover's write matches it."""
    sets = ["#status = :to", "status_at = :at", "gsi4pk = :listed"]  # the list's status filter
    names = {"#status": "status"}
    listed = keys.sends_in_status_partition(merchant_id, str(to))
    values: dict[str, Any] = {":to": str(to), ":from": str(frm), ":at": at, ":listed": listed}
    for i, (name, value) in enumerate((fields or {}).items()):
        names[f"#f{i}"] = name
        values[f":f{i}"] = value
        sets.append(f"#f{i} = :f{i}")
    try:
        table.update(
            keys.send(merchant_id, send_id),
            "SET " + ", ".join(sets),
            condition="#status = :from OR (#status = :to AND status_at = :at)",
            names=names,
            values=values,
        )
    except ConditionFailed:
        return False
    metrics.send_moved(str(to))  # every send status change passes here
    return True


def release_segment(table: Table, merchant_id: str, segment_id: str, send_id: str) -> None:
    """Free the segment for its next send (only if this send still holds it)."""
    with contextlib.suppress(ConditionFailed):
        table.update(
            keys.segment(merchant_id, segment_id),
            "REMOVE active_send_id",
            condition="active_send_id = :send",
            values={":send": send_id},
        )


def set_fields(table: Table, merchant_id: str, send_id: str, fields: Mapping[str, Any]) -> None:
    names = {f"#f{i}": k for i, k in enumerate(fields)}
    values = {f":f{i}": v for i, v in enumerate(fields.values())}
    table.update(
        keys.send(merchant_id, send_id),
        "SET " + ", ".join(f"#f{i} = :f{i}" for i in range(len(fields))),
        names=names,
        values=values,
    )


def save_tally(table: Table, merchant_id: str, send_id: str, tally: Mapping[str, Any]) -> bool:
    """Keep how far the finish has counted the send (``tally``: its mark, counts so far, report
    parts and ``step``, one more than the tally it continues); False when another run moved it
    first. A retry of a save that went in (its answer lost) finds its own tally there: saved."""
    step = int(tally["step"])
    condition = "attribute_not_exists(tally)" if step == 1 else "tally.step = :before"
    values: dict[str, Any] = {":tally": dict(tally)}
    if step > 1:
        values[":before"] = step - 1
    try:
        table.update(
            keys.send(merchant_id, send_id), "SET tally = :tally", condition=condition, values=values
        )
    except ConditionFailed as failed:
        return (failed.item or {}).get("tally") == tally
    return True


def put_recipient(table: Table, merchant_id: str, send_id: str, outcome: Mapping[str, Any]) -> bool:
    """Record a recipient's outcome once; False when this send already has one for the customer.

    A retry of a put that went in (its answer lost, the SDK sending it again) finds its own record
    there, the same outcome at the same instant: recorded. Read as a repeat, its email would
    never be queued and the message would stay ``queued`` for good."""
    try:
        table.put(
            {
                **keys.send_recipient(merchant_id, send_id, outcome["customer_id"]),
                "type": "send_recipient",
                **outcome,
            },
            condition="attribute_not_exists(pk)",
        )
    except ConditionFailed as failed:
        found = failed.item or {}
        return all(found.get(k) == outcome.get(k) for k in ("at", "outcome", "message_id"))
    return True


def refused_entry(merchant_id: str, send: Mapping[str, Any], customer_id: str) -> dict[str, str]:
    """The views index entry of a recipient refused at fan-out (excluded, out of coupons): no
    message of theirs says so, so the recipient's own item does (``undelivered``)."""
    return keys.view_entry(
        merchant_id, send["campaign_id"], list_views.UNDELIVERED, customer_id, send["send_id"]
    )


def get_recipient(table: Table, merchant_id: str, send_id: str, customer_id: str) -> Item | None:
    return table.get(keys.send_recipient(merchant_id, send_id, customer_id))


def update_recipient(
    table: Table, merchant_id: str, send_id: str, customer_id: str, fields: Mapping[str, Any]
) -> None:
    names = {f"#f{i}": k for i, k in enumerate(fields)}
    values = {f":f{i}": v for i, v in enumerate(fields.values())}
    table.update(
        keys.send_recipient(merchant_id, send_id, customer_id),
        "SET " + ", ".join(f"#f{i} = :f{i}" for i in range(len(fields))),
        names=names,
        values=values,
    )


def recipients_after(
    table: Table, merchant_id: str, send_id: str, *, shard: int, after: str, limit: int
) -> list[Item]:
    """Up to ``limit`` recipients of one shard whose key sorts after ``after`` ("": from the first),
    in key order: a send's recipients read a page at a time from where a reader stopped."""
    partition = keys.send_recipients_partition(merchant_id, send_id, shard)
    if not after:  # DynamoDB takes no empty string in a key condition
        return table.query("pk = :pk", {":pk": partition}, limit=limit, consistent=True)
    return table.query(
        "pk = :pk AND sk > :after", {":pk": partition, ":after": after}, limit=limit, consistent=True
    )


def finish_chunk(
    table: Table, merchant_id: str, send_id: str, chunk: int, *, counts: Mapping[str, int], at: str
) -> Item | None:
    """Count a chunk's outcomes into the send once; returns the send after, or None on a repeat."""
    adds = ["chunks_done :one"] + [f"#c{i} :c{i}" for i in range(len(counts))]
    names = {f"#c{i}": f"count_{k}" for i, k in enumerate(counts)}
    values: dict[str, Any] = {":one": 1, **{f":c{i}": v for i, v in enumerate(counts.values())}}
    try:
        table.transact(
            [
                Put(
                    {**keys.send_chunk(merchant_id, send_id, chunk), "type": "send_chunk", "done_at": at},
                    condition="attribute_not_exists(pk)",
                ),
                Update(
                    keys.send(merchant_id, send_id),
                    "ADD " + ", ".join(adds),
                    names=names or None,
                    values=values,
                ),
            ]
        )
    except TransactionCanceled:
        return None
    return table.get(keys.send(merchant_id, send_id))
