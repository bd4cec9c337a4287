"""The merchant's customers tab: a customer with their claims and messages (and each message's events)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from couponflow.adapters.dynamodb import Item, Table
from couponflow.domain.audience import is_active
from couponflow.domain.event_summary import summary
from couponflow.domain.message_status import RANK, MessageStatus, never_meant
from couponflow.errors import NotFoundError
from couponflow.ids import resolve_customer_id
from couponflow.services.campaigns import public
from couponflow.store import keys, messages


def _event(item: Item) -> dict[str, Any]:
    keep = ("event_type", "status", "occurred_at", "recipient", "details", "ses_message_id")
    shown = {k: item[k] for k in keep if k in item}
    shown["summary"] = summary(str(item.get("event_type")), item.get("details"))
    return shown


def _order(event: dict[str, Any]) -> tuple[str, int]:
    """Time order; events of one instant in the order they happen (an open before its click)."""
    status = str(event.get("status"))
    rank = RANK[MessageStatus(status)] if status in RANK else 0
    return str(event.get("occurred_at")), rank


def _handed_off(item: Item) -> dict[str, Any] | None:
    """The timeline's ``send`` entry, from the hand-off the mailer recorded: SES's API answer is
    the ``sent`` verdict, so SES's own ``Send`` event is not published (one SNS message, one queue
    message and one write less per email; see template.yaml, the configuration set)."""
    if not item.get("ses_message_id") or not item.get("sent_at"):
        return None
    return {
        "event_type": "send",
        "status": "sent",
        "occurred_at": item["sent_at"],
        "recipient": item.get("recipient"),
        "ses_message_id": item["ses_message_id"],
        "details": {"source": "ses_api"},
        "summary": summary("send", None),
    }


def _message(item: Item, events_table: Table, now_epoch: int) -> dict[str, Any]:
    view = public(item)
    for internal in (
        "lease_until",
        "lease_owner",
        "gsi2pk",
        "gsi2sk",
        "gsi3pk",
        "gsi3sk",
        "gsi4pk",
        "gsi4sk",
    ):
        view.pop(internal, None)
    view.setdefault("needs_attention", False)
    events = [_event(e) for e in messages.timeline(events_table, item, now_epoch=now_epoch)]
    events.sort(key=_order)
    sent = _handed_off(item)
    if sent is not None and not any(e.get("event_type") == "send" for e in events):
        events.insert(0, sent)  # nothing SES reports about a message comes before it took it
    view["events"] = events
    return view


def customer_view(table: Table, events_table: Table, merchant_id: str, customer_ref: str) -> dict[str, Any]:
    """Profile, claims and messages in one Query of the customer's partition, plus each message's events."""
    cid = resolve_customer_id(merchant_id, customer_ref)
    items = table.query("pk = :pk", {":pk": keys.customer_partition(merchant_id, cid)}, consistent=True)
    profile = next((i for i in items if i["sk"] == "PROFILE"), None)
    if profile is None:
        raise NotFoundError(f"customer '{customer_ref}' not found")
    now_epoch = int(datetime.now(UTC).timestamp())
    return {
        **public(profile),
        "active": is_active(profile.get("last_interaction_at"), datetime.now(UTC)),
        "claims": [public(i) for i in items if i["sk"].startswith("CLAIM#")],
        "messages": [
            _message(i, events_table, now_epoch)
            for i in items
            if i["sk"].startswith("MESSAGE#") and not never_meant(i.get("status"), i.get("status_details"))
        ],
    }


def message_view(
    table: Table, events_table: Table, merchant_id: str, customer_ref: str, message_id: str
) -> dict[str, Any]:
    cid = resolve_customer_id(merchant_id, customer_ref)
    item = messages.get(table, merchant_id, cid, message_id)
    if item is None:
        raise NotFoundError(f"message '{message_id}' not found")
    return _message(item, events_table, int(datetime.now(UTC).timestamp()))
