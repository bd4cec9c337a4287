"""Messages and their event timelines in DynamoDB.

The message item carries the status derived so far. Every status write is conditional on the
new status outranking the stored one (``status_rank``), so the stored status is the maximum by
precedence over all events applied, whatever order they came in and however often.

A message's timeline is its events in the events table, and one more held on the message itself:
the delivery-path SES event that decided its status (``status_event``, ``status_details``,
``status_at``) is not written to the events table as well, but marked held (``held_until``, its
expiry) in the same write that moves the status, so an email's delivery costs one write less.
Any later move that replaces those fields first writes the held event out (``spill_held``) and
is conditioned on the held event read being still the one there; ``timeline`` reads both.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from couponflow import metrics, retry
from couponflow.adapters.dynamodb import (
    ConditionFailed,
    Item,
    Table,
    TransactAction,
    TransactionCanceled,
    Update,
)
from couponflow.domain import list_views
from couponflow.domain.message_status import FINAL_STATUSES, RANK, MessageStatus
from couponflow.errors import RetryableError
from couponflow.store import campaign_stats, keys


def get(table: Table, merchant_id: str, customer_id: str, message_id: str) -> Item | None:
    return table.get(keys.message(merchant_id, customer_id, message_id))


def _looked_up(table: Table, index_key: Mapping[str, str]) -> Item | None:
    """The message whose lookup index (keys only) entry is ``index_key``, read from the table."""
    found = table.query("gsi4pk = :pk", {":pk": index_key["gsi4pk"]}, index=keys.MESSAGE_LOOKUPS, limit=1)
    return table.get({"pk": found[0]["pk"], "sk": found[0]["sk"]}) if found else None


def find_by_ses_id(table: Table, ses_message_id: str) -> Item | None:
    """The message SES knows as ``ses_message_id`` (for identity notifications, which carry no tags)."""
    return _looked_up(table, keys.ses_message_index(ses_message_id))


def find_by_sns_id(table: Table, sns_message_id: str) -> Item | None:
    """The SMS message SNS knows as ``sns_message_id`` (delivery receipts carry only that id)."""
    return _looked_up(table, keys.sms_message_index(sns_message_id))


def _sweep_entries(table: Table, partition: str, before: str, after: str | None = None) -> list[Item]:
    """The keys-only entries of one sweep partition (gsi3) older than ``before`` and, given
    ``after``, newer than it, in time order."""
    if after is None:
        condition, values = "gsi3pk = :pk AND gsi3sk < :before", {":pk": partition, ":before": before}
    else:  # a key condition has no open range at both ends: BETWEEN, its two ends left out below
        condition = "gsi3pk = :pk AND gsi3sk BETWEEN :after AND :before"
        values = {":pk": partition, ":after": after, ":before": before}
    entries = table.query(condition, values, index=keys.MESSAGE_SWEEPS)
    return [e for e in entries if (after or "") < str(e["gsi3sk"]) < before]


def _messages_of(table: Table, entries: list[Item]) -> list[Item]:
    return table.batch_get([{"pk": e["pk"], "sk": e["sk"]} for e in entries])


def _swept(table: Table, partition: str, before: str) -> list[Item]:
    """Messages of one sweep partition (gsi3, keys only) older than ``before``, read from the table."""
    return _messages_of(table, _sweep_entries(table, partition, before))


def put_sms(table: Table, item: Item, *, listed: bool = True) -> bool:
    """Record an SMS message (``queued``) once; False when it was recorded before."""
    stored = {
        **item,
        "type": "message",
        "channel": "sms",
        "status": str(MessageStatus.QUEUED),
        "status_rank": RANK[MessageStatus.QUEUED],
        "status_at": item["created_at"],
    }
    if not listed:
        stored["unlisted"] = True  # its recipient's email is what the views show, now and later
    stored.update(view_entry(stored, keys.view_origin(stored)))
    try:
        table.put(stored, condition="attribute_not_exists(pk)")
    except ConditionFailed:
        return False
    return True


def status_move(
    item: Item,
    status: MessageStatus,
    *,
    at: str,
    details: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
    event_order: str | None = None,
    remove: tuple[str, ...] = (),
    held_until: int | None = None,
    spilled: bool = False,
) -> list[TransactAction]:
    """The writes that move the message ``item`` (as just read) to ``status``; [] if it does not outrank.

    The message update is conditioned on the exact ``status_rank`` read, so a concurrent move makes
    the transaction fail (re-read and retry) instead of counting the message twice. The campaign's
    counter shard moves in the same transaction. Reaching a final status takes the message off
    the outbox or unknown-outcome sweep (and clears a ``needs_attention`` flag).

    ``remove`` names attributes the same write removes.

    ``event_order`` (``<occurred_at>#<event key>``) makes the status details follow the event that
    decides the status whatever the arrival order: an event of the same rank as the stored status
    replaces its details when it orders after the event that set them (the latest word wins),
    without moving any counter.

    ``held_until`` holds that event on the message (its expiry; see the module's docstring). A
    move of a message that holds an event replaces it, so the caller must have written it out
    first (``spilled``), and the write is conditioned on it being still the one held; a move of
    one read as holding none is conditioned on it holding none still (a stale or raced read would
    otherwise replace an event that was never written out).
    """
    current = MessageStatus(item.get("status", MessageStatus.QUEUED))
    current_rank = int(item.get("status_rank", RANK[current]))
    same_rank = RANK[status] == current_rank
    if RANK[status] < current_rank:
        return []
    if same_rank and (event_order is None or event_order <= str(item.get("status_event", ""))):
        return []
    holding = holds_event(item)
    if holding and not spilled:
        raise RuntimeError(f"moving message {item['sk']} would lose its held event: spill_held first")
    if held_until is not None and event_order is None:
        raise ValueError("only an event (event_order) can be held on the message")
    sets = ["#status = :status", "status_rank = :rank", "status_at = :at", "status_details = :details"]
    values: dict[str, Any] = {
        ":status": str(status),
        ":rank": RANK[status],
        ":at": at,
        ":details": dict(details or {}),
        ":current": current_rank,
    }
    names = {"#status": "status"}
    condition = "attribute_exists(pk) AND status_rank = :current"
    if event_order is not None:
        sets.append("status_event = :event")
        values[":event"] = event_order
        if same_rank:
            condition += " AND (attribute_not_exists(status_event) OR status_event < :event)"
    if holding:  # the held event written out is the one this write replaces
        condition += " AND status_event = :held"
        values[":held"] = item["status_event"]
    else:  # and none held since the read (a stale read, or a race): it would be lost unwritten
        condition += " AND attribute_not_exists(held_until)"
    if held_until is not None:
        sets.append("held_until = :held_until")
        values[":held_until"] = held_until
    elif holding:
        remove = (*remove, "held_until")
    view, unlisted = _view_move(item, status, details)
    fields = {**(extra or {}), **view}
    remove = (*remove, *unlisted)
    for i, (name, value) in enumerate(fields.items()):
        names[f"#x{i}"] = name
        values[f":x{i}"] = value
        sets.append(f"#x{i} = :x{i}")
    expression = "SET " + ", ".join(sets)
    removed = [*remove, *(_final_removes(item) if status in FINAL_STATUSES else ())]
    if removed:
        expression += " REMOVE " + ", ".join(removed)
    actions: list[TransactAction] = [
        Update(
            key={"pk": item["pk"], "sk": item["sk"]},
            expression=expression,
            condition=condition,
            names=names,
            values=values,
        )
    ]
    # The campaign's counters are its emails' (the reputation guard's rates are SES's): SMS stays out.
    if not same_rank and item.get("campaign_id") and item.get("channel", "email") == "email":
        actions.append(
            campaign_stats.move(item["merchant_id"], item["campaign_id"], item["message_id"], current, status)
        )
    return actions


def _final_removes(item: Mapping[str, Any]) -> tuple[str, ...]:
    """What a final status removes: a ``needs_attention`` flag, and the message's sweep entry
    (outbox, unknown outcome) but its awaiting one, which the stale sweep reads past (``keys``)."""
    on_sweep = "gsi3pk" in item and not str(item["gsi3pk"]).startswith("AWAITING#")
    return (*(("gsi3pk", "gsi3sk") if on_sweep else ()), "needs_attention", "needs_attention_at")


def view_entry(item: Mapping[str, Any], origin: str) -> dict[str, str]:
    """The message's entry on the views index for its status now; none without a campaign, for a
    text its recipient's email speaks for (``unlisted``), or while it is on its way
    (``list_views``: the index is sparse). ``origin``: its send, or ``claim``."""
    bucket = list_views.message_bucket(str(item["status"]), item.get("status_details"))
    if not item.get("campaign_id") or item.get("unlisted") or not list_views.indexed(bucket):
        return {}
    return keys.view_entry(item["merchant_id"], item["campaign_id"], bucket, item["customer_id"], origin)


def _view_move(
    item: Mapping[str, Any], status: MessageStatus, details: Mapping[str, Any] | None
) -> tuple[dict[str, str], tuple[str, ...]]:
    """The views index entry a move to ``status`` sets, or the entry it removes (its bucket has
    none); nothing while the bucket stays."""
    moved = view_entry({**item, "status": str(status), "status_details": details}, keys.view_origin(item))
    if moved.get("gsi5pk") == item.get("gsi5pk"):
        return {}, ()
    if not moved:
        return {}, ("gsi5pk", "gsi5sk")
    return moved, ()


MOVE_ATTEMPTS = 8


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

    ``extra`` attributes are set in the same write (only when the status moves). One read and
    one transaction (status + campaign counter); a lost race is re-read and retried.
    """
    for attempt in range(MOVE_ATTEMPTS):
        if attempt:
            retry.pause(attempt)
        item = table.get(dict(key))
        if item is None:
            return False
        actions = status_move(item, status, at=at, details=details, extra=extra)
        if not actions:
            return False
        try:
            table.transact(actions)
        except TransactionCanceled:
            continue
        metrics.message_moved(str(item.get("channel") or "email"), str(status))
        return True
    raise RetryableError(f"message {key} kept moving under a status write; retry")


def record_handoff(
    table: Table,
    key: Mapping[str, str],
    ses_message_id: str,
    *,
    at: str,
    awaiting: bool = True,
    lookup: bool = True,
) -> None:
    """Remember SES's id for the message, whatever its status has become; ``awaiting`` and
    ``lookup``: as ``handoff_fields``."""
    fields = handoff_fields(
        key["sk"].removeprefix("MESSAGE#"), ses_message_id, at, awaiting=awaiting, lookup=lookup
    )
    table.update(
        dict(key),
        "SET " + ", ".join(f"{name} = :{name}" for name in fields) + " REMOVE lease_until, lease_owner",
        condition="attribute_exists(pk)",
        values={f":{name}": value for name, value in fields.items()},
    )


def handoff_fields(
    message_id: str, ses_message_id: str, at: str, *, awaiting: bool = True, lookup: bool = True
) -> dict[str, str]:
    """What the hand-off to SES writes on the message: SES's id; with ``lookup``, its entry on the
    lookup index, by which SES's identity notifications (they carry no tags) find the message,
    written only where the operator routes them to us (``SES_IDENTITY_NOTIFICATIONS``): the
    configuration set's events carry the message's tags, and the entry is a write unit an email;
    with ``awaiting``, the awaiting index entry. A segment send's emails go without it
    (``awaits_on_its_own``)."""
    index = keys.ses_message_index(ses_message_id) if lookup else {}
    entry = keys.awaiting_index(message_id, at) if awaiting else {}
    return {"ses_message_id": ses_message_id, "sent_at": at, **index, **entry}


def awaits_on_its_own(item: Mapping[str, Any]) -> bool:
    """Whether the message goes on the awaiting index at its hand-off: all but a segment send's
    emails, which their send's finish puts there if still in flight then, and which are mostly
    delivered by then (``housekeeping/stale_messages.watch_in_flight``): an index write saved
    per email of a send."""
    return not item.get("send_id")


def record_sent(table: Table, handed: list[tuple[Item, str]], *, at: str, lookup: bool = True) -> None:
    """Record SES's ids for messages just handed off and move them to ``sent``: one transaction.

    ``handed`` pairs each message as leased (still ``queued``) with SES's id; all belong to one
    campaign. Each message update is conditioned on the status read, and the campaign's
    counters move by one ``ADD`` for them all, all or nothing. Should anything have moved meanwhile
    (an SES event that got there first), each message is recorded on its own instead.
    """
    actions: list[TransactAction] = []
    counted: list[str] = []
    for item, ses_id in handed:
        moves = status_move(
            item,
            MessageStatus.SENT,
            at=at,
            details={"ses_message_id": ses_id},
            extra=handoff_fields(
                item["message_id"], ses_id, at, awaiting=awaits_on_its_own(item), lookup=lookup
            ),
            remove=("lease_until", "lease_owner"),  # as record_handoff: the lease is spent
        )
        if not moves:
            actions = []
            break
        actions.append(moves[0])
        if item.get("campaign_id"):
            counted.append(item["message_id"])
    campaign_ids = {item.get("campaign_id") for item, _ in handed}
    if actions and len(campaign_ids) == 1 and len(actions) < 100:
        campaign_id = next(iter(campaign_ids))
        merchant_id = handed[0][0]["merchant_id"]
        if campaign_id and counted:
            actions.append(
                campaign_stats.moves(
                    merchant_id, campaign_id, counted, MessageStatus.QUEUED, MessageStatus.SENT
                )
            )
        try:
            table.transact(actions)
        except (TransactionCanceled, RetryableError):  # something moved meanwhile: one by one
            pass
        else:
            metrics.message_moved("email", str(MessageStatus.SENT), len(handed))
            return
    for item, ses_id in handed:  # one at a time, whatever each has become
        key = {"pk": item["pk"], "sk": item["sk"]}
        record_handoff(table, key, ses_id, at=at, awaiting=awaits_on_its_own(item), lookup=lookup)
        raise_status(table, key, MessageStatus.SENT, at=at, details={"ses_message_id": ses_id})


def take_send_lease(
    table: Table, key: Mapping[str, str], *, now_epoch: int, lease_seconds: int, owner: str
) -> bool:
    """Take the right to hand the queued message to SES, just before the call; False if it is not
    queued, already handed off, of unknown outcome, or leased (an expired lease is never taken
    over: its holder may have reached SES, see ``services/mailer.py``). ``owner`` names the
    invocation, so only it can give the lease back.

    A lease ``owner`` holds already counts as taken: when the write took effect but its answer
    was lost, the SDK sends it again, and that retry must not read the lease as another's (the
    message would wait out the lease and end of unknown hand-off, never sent)."""
    try:
        table.update(
            dict(key),
            "SET lease_until = :until, lease_owner = :owner",
            condition=(
                "attribute_exists(pk) AND attribute_not_exists(ses_message_id) AND status_rank = :queued "
                "AND attribute_not_exists(handoff) "
                "AND (attribute_not_exists(lease_until) OR lease_owner = :owner)"
            ),
            values={
                ":until": now_epoch + lease_seconds,
                ":owner": owner,
                ":queued": RANK[MessageStatus.QUEUED],
            },
        )
    except ConditionFailed:
        return False
    return True


def release_lease(table: Table, key: Mapping[str, str], *, owner: str) -> None:
    """Give back a lease ``owner`` holds, when the message was surely not handed to SES (so a retry
    can send it). Another invocation's lease is never touched."""
    with contextlib.suppress(ConditionFailed):
        table.update(
            dict(key),
            "REMOVE lease_until, lease_owner",
            condition=(
                "attribute_exists(pk) AND attribute_not_exists(ses_message_id) AND lease_owner = :owner"
            ),
            values={":owner": owner},
        )


def mark_outcome_unknown(table: Table, key: Mapping[str, str], *, at: str, reason: str) -> bool:
    """Record that the message may have been handed to SES but nobody knows: it is never sent again.

    It stays ``queued`` (any SES event for it, found by its tags, moves it on) and goes on the
    sweep index ``UNKNOWN#<shard>`` by ``at``, where housekeeping gives it the status ``unknown``
    once the deadline passes with no event. False when it had moved on already.
    """
    message_id = key["sk"].removeprefix("MESSAGE#")
    try:
        table.update(
            dict(key),
            "SET handoff = :unknown, handoff_at = :at, handoff_reason = :reason, "
            "gsi3pk = :gsi3pk, gsi3sk = :gsi3sk REMOVE lease_until, lease_owner",
            condition=(
                "attribute_exists(pk) AND attribute_not_exists(ses_message_id) AND status_rank = :queued"
            ),
            values={
                ":unknown": "unknown",
                ":at": at,
                ":reason": reason,
                ":queued": RANK[MessageStatus.QUEUED],
                **{f":{k}": v for k, v in keys.unknown_outcome_index(message_id, at).items()},
            },
        )
    except ConditionFailed:
        return False
    return True


def leave_unknown(table: Table, key: Mapping[str, str]) -> None:
    """Take a message that an event moved on off the unknown-outcome index (onto the awaiting one
    while it is still in flight)."""
    item = table.get(dict(key))
    if item is None or not str(item.get("gsi3pk", "")).startswith("UNKNOWN#"):
        return
    status = MessageStatus(item.get("status", MessageStatus.QUEUED))
    awaiting = keys.awaiting_index(item["message_id"], str(item.get("handoff_at", item.get("status_at"))))
    with contextlib.suppress(ConditionFailed):
        if status in FINAL_STATUSES:
            table.update(
                dict(key),
                "REMOVE gsi3pk, gsi3sk",
                condition="begins_with(gsi3pk, :u)",
                values={":u": "UNKNOWN#"},
            )
        else:
            table.update(
                dict(key),
                "SET gsi3pk = :pk, gsi3sk = :sk",
                condition="begins_with(gsi3pk, :u)",
                values={":pk": awaiting["gsi3pk"], ":sk": awaiting["gsi3sk"], ":u": "UNKNOWN#"},
            )


def outcome_unknown_older_than(table: Table, shard: int, before: str) -> list[Item]:
    """Messages of one shard whose hand-off outcome became unknown before ``before`` (ISO time)."""
    return _swept(table, keys.unknown_outcome_partition(shard), before)


def outbox_older_than(table: Table, shard: int, before: str) -> list[Item]:
    """Messages in one outbox shard created before ``before`` (ISO time) and not yet handed to SES."""
    return _swept(table, keys.outbox_partition(shard), before)


def leave_outbox(table: Table, key: Mapping[str, str]) -> None:
    """Take a message that is no longer queued out of the outbox index."""
    with contextlib.suppress(ConditionFailed):  # already out, or still queued
        table.update(
            dict(key),
            "REMOVE gsi3pk, gsi3sk",
            condition="attribute_exists(pk) AND status_rank > :queued AND begins_with(gsi3pk, :outbox)",
            values={":queued": RANK[MessageStatus.QUEUED], ":outbox": "OUTBOX#"},
        )


ERASED_MARK_DAYS = 30  # SES sends events of a message for days at most (opens, clicks: longer, rarely)


def mark_erased(events_table: Table, ses_message_id: str, *, now_epoch: int) -> None:
    """Remember that SES's message belonged to an erased customer, so an event SES sends for it
    later that names no message of ours (an identity notification) is not kept as an orphan."""
    events_table.put(
        {"pk": f"ERASED#{ses_message_id}", "sk": "ERASED", "expires_at": now_epoch + ERASED_MARK_DAYS * 86400}
    )


def is_erased(events_table: Table, ses_message_id: str) -> bool:
    return events_table.get({"pk": f"ERASED#{ses_message_id}", "sk": "ERASED"}, consistent=False) is not None


def holds_event(item: Mapping[str, Any]) -> bool:
    """Whether the message holds the event that decided its status (not in the events table)."""
    return "held_until" in item and "status_event" in item


def is_held(item: Mapping[str, Any], event_sk: str) -> bool:
    """Whether the event whose timeline key is ``event_sk`` is the one the message holds."""
    held = held_event(item)
    return held is not None and held["sk"] == event_sk


def held_event(item: Mapping[str, Any]) -> Item | None:
    """The timeline item of the event the message holds, as the events table would keep it."""
    if not holds_event(item):
        return None
    details = dict(item.get("status_details") or {})
    event_type = details.pop("event_type", None)
    occurred, event_key = str(item["status_event"]).split("#", 1)
    return {
        **keys.message_event(item["merchant_id"], item["message_id"], occurred, event_key),
        "type": "message_event",
        "event_type": event_type,
        "event_key": event_key,
        "ses_message_id": item.get("ses_message_id"),
        "recipient": item.get("recipient"),
        "status": item.get("status"),
        "details": details,
        "occurred_at": item.get("status_at"),
        "expires_at": item["held_until"],
        "merchant_id": item["merchant_id"],
        "customer_id": item["customer_id"],
        "message_id": item["message_id"],
    }


def spill_held(events_table: Table, item: Mapping[str, Any]) -> None:
    """Write the event the message holds to the events table, before a move replaces it (once:
    a copy there already, from a move that failed after writing it out, is left as it is)."""
    event = held_event(item)
    if event is not None:
        put_event(events_table, event)


def put_event(table: Table, item: Item) -> bool:
    """Store one timeline event; False when the same event was stored before (a duplicate)."""
    try:
        table.put(item, condition="attribute_not_exists(pk)")
    except ConditionFailed:
        return False
    return True


def timeline(events_table: Table, message: Mapping[str, Any], *, now_epoch: int) -> list[Item]:
    """A message's events in time order (those in the events table and the one it holds, once),
    leaving out those past their retention (TTL not yet run)."""
    partition = keys.message_events_partition(message["merchant_id"], message["message_id"])
    items = events_table.query("pk = :pk", {":pk": partition})
    held = held_event(message)
    if held is not None and all(i["sk"] != held["sk"] for i in items):
        items = sorted([*items, held], key=lambda i: str(i["sk"]))
    return [i for i in items if int(i.get("expires_at", now_epoch + 1)) > now_epoch]


def is_suppressed(table: Table, merchant_id: str, email: str) -> Item | None:
    return table.get(keys.suppression(merchant_id, email), consistent=False)


def awaiting_since_mark(table: Table, shard: int, before: str) -> tuple[list[Item], str | None]:
    """Messages of one awaiting shard handed to SES before ``before`` (ISO time) that the stale
    sweep has not read yet (past the shard's mark), final or not; and the mark to move to once
    they are dealt with (None: nothing new). Read eventually consistent: a status that is final
    but not yet seen only costs a flag's conditional write, which the status wins."""
    stored = table.get(keys.awaiting_mark(shard), consistent=False)
    mark = str(stored["mark"]) if stored else None
    if mark is not None and mark >= before:  # the limit was raised since: nothing new is old enough
        return [], None
    entries = _sweep_entries(table, keys.awaiting_partition(shard), before, after=mark)
    if not entries:
        return [], None
    return _messages_of(table, entries), str(entries[-1]["gsi3sk"])


def move_awaiting_mark(table: Table, shard: int, mark: str) -> None:
    """Record that the sweep has read the shard's entries up to ``mark``; never moves it back."""
    with contextlib.suppress(ConditionFailed):
        table.update(
            keys.awaiting_mark(shard),
            "SET mark = :mark",
            condition="attribute_not_exists(mark) OR mark < :mark",
            values={":mark": mark},
        )


# The condition that a message has no final status yet, for the writes that only one in flight
# takes (with its values, ``_FINAL_RANKS``).
_FINAL_RANKS = {f":f{i}": RANK[s] for i, s in enumerate(sorted(FINAL_STATUSES))}
_IN_FLIGHT = f"NOT status_rank IN ({', '.join(_FINAL_RANKS)})"


def await_verdict(table: Table, key: Mapping[str, str], *, handed_off_at: str) -> bool:
    """Put a message still in flight on the awaiting index by its hand-off time; False when it
    has an entry on gsi3 (the unknown-outcome index's deadline moves it on) or a final status."""
    entry = keys.awaiting_index(key["sk"].removeprefix("MESSAGE#"), handed_off_at)
    try:
        table.update(
            dict(key),
            "SET gsi3pk = :pk, gsi3sk = :sk",
            condition=f"attribute_exists(pk) AND attribute_not_exists(gsi3pk) AND {_IN_FLIGHT}",
            values={":pk": entry["gsi3pk"], ":sk": entry["gsi3sk"], **_FINAL_RANKS},
        )
    except ConditionFailed:
        return False
    return True


def flag_needs_attention(table: Table, key: Mapping[str, str], *, at: str, reason: str) -> bool:
    """Flag a message still in flight as needing attention and take it off the awaiting index.

    Conditional on the status still not being final, so a final status that landed since wins.
    """
    try:
        table.update(
            dict(key),
            "SET needs_attention = :yes, needs_attention_at = :at, needs_attention_reason = :reason "
            "REMOVE gsi3pk, gsi3sk",
            condition=f"attribute_exists(pk) AND {_IN_FLIGHT}",
            values={":yes": True, ":at": at, ":reason": reason, **_FINAL_RANKS},
        )
    except ConditionFailed:
        return False
    return True
