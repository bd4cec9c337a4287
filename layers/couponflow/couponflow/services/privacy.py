"""A customer's right to see and to erase what a merchant's Couponflow holds about them.

``export`` gathers everything stored under the customer: the profile, claims, messages with
their events, suppression entries, list memberships and send-recipient records.

``erase`` removes the customer's personal data everywhere it is stored, keeping every code
accounted for. The customer id is derived from the email address (``ids.customer_id``), so a
claim kept under it would still point at the person: each claim moves to a fresh anonymous id
(``anon_...``) in one transaction with the code registry entry that names its holder, minus the
email and the name. A held code stays held (its offer still expires, a redemption by the store
still lands), a redeemed one stays counted. Then the messages and their events, suppression
entries and soft bounces of the address, list memberships, send-recipient records and the
profile are deleted; SES's events arriving later for those messages are dropped, not stored
(``services/ses_events.py``). Erasure is idempotent: run again, it finds nothing and says so (404).

Not reached from here, and said in ``docs/api.md``: an email provider the merchant connected
(already given the address), failure reports of finished sends (S3, deleted after 7 days),
uploaded import files (deleted after 7 days), and the claim idempotency records (24 hours).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from couponflow.adapters.dynamodb import Delete, Item, Put, Table, TransactAction, Update
from couponflow.errors import NotFoundError
from couponflow.ids import new_id, resolve_customer_id
from couponflow.store import keys, messages
from couponflow.store.claims import claim_view_entry

logger = logging.getLogger(__name__)

PERSONAL = frozenset({"email", "name", "first_name", "last_name", "phone", "recipient", "order_id"})
WRITE_CHUNK = 25


def _partition(table: Table, merchant_id: str, customer_id: str) -> list[Item]:
    return table.query(
        "pk = :pk", {":pk": keys.customer_partition(merchant_id, customer_id)}, consistent=True
    )


def export(table: Table, events_table: Table, merchant_id: str, customer_ref: str) -> dict[str, Any]:
    """Everything stored about the customer, as stored (less the key design)."""
    cid = resolve_customer_id(merchant_id, customer_ref)
    items = _partition(table, merchant_id, cid)
    profile = next((i for i in items if i["sk"] == "PROFILE"), None)
    if profile is None:
        raise NotFoundError(f"customer '{customer_ref}' not found")
    now_epoch = int(datetime.now(UTC).timestamp())
    found_messages = [i for i in items if i["sk"].startswith("MESSAGE#")]
    email = profile.get("email")
    suppression = (
        [
            keys.without_storage(s)
            for s in table.batch_get(
                [keys.suppression(merchant_id, email), keys.soft_bounces(merchant_id, email)]
            )
        ]
        if email
        else []
    )
    recipients = table.batch_get(_recipient_keys(merchant_id, cid, found_messages))
    return {
        "customer_id": cid,
        "exported_at": datetime.now(UTC).isoformat(),
        "profile": keys.without_storage(profile),
        "claims": [keys.without_storage(i) for i in items if i["sk"].startswith("CLAIM#")],
        "messages": [
            {
                **keys.without_storage(m),
                "events": [
                    keys.without_storage(e) for e in messages.timeline(events_table, m, now_epoch=now_epoch)
                ],
            }
            for m in found_messages
        ],
        "suppressions": suppression,
        "lists": sorted(profile.get("segment_ids") or []),
        "send_recipients": [
            {**keys.without_storage(r), "send_id": r["pk"].split("#")[3]} for r in recipients
        ],
    }


def _recipient_keys(merchant_id: str, customer_id: str, found_messages: list[Item]) -> list[dict[str, str]]:
    sends = {m["send_id"] for m in found_messages if m.get("send_id")}
    return [keys.send_recipient(merchant_id, s, customer_id) for s in sorted(sends)]


def erase(
    table: Table, events_table: Table, merchant_id: str, customer_ref: str, now: datetime | None = None
) -> dict[str, Any]:
    """Erase the customer (see the module's docstring); returns what was done, in counts."""
    stamp = (now or datetime.now(UTC)).isoformat()
    cid = resolve_customer_id(merchant_id, customer_ref)
    items = _partition(table, merchant_id, cid)
    if not items:
        raise NotFoundError(f"customer '{customer_ref}' not found")
    profile = next((i for i in items if i["sk"] == "PROFILE"), {})
    anonymous_id = new_id("anon")
    claims = [i for i in items if i["sk"].startswith("CLAIM#")]
    for claim in claims:
        _move_claim(table, merchant_id, claim, anonymous_id, stamp)
    found_messages = [i for i in items if i["sk"].startswith("MESSAGE#")]
    events = 0
    now_epoch = int(datetime.fromisoformat(stamp).timestamp())
    for message in found_messages:
        if message.get("ses_message_id"):
            messages.mark_erased(events_table, str(message["ses_message_id"]), now_epoch=now_epoch)
        events += _delete_events(events_table, merchant_id, message)
    email = profile.get("email") or next((c.get("email") for c in claims if c.get("email")), None)
    others: list[dict[str, str]] = [
        *_recipient_keys(merchant_id, cid, found_messages),
        *(keys.segment_member(merchant_id, s, cid) for s in sorted(profile.get("segment_ids") or [])),
        *((keys.suppression(merchant_id, email), keys.soft_bounces(merchant_id, email)) if email else ()),
        *({"pk": i["pk"], "sk": i["sk"]} for i in items if not i["sk"].startswith("CLAIM#")),
    ]
    _delete(table, others)
    logger.info(
        "customer erased",
        extra={"merchant_id": merchant_id, "claims_kept": len(claims), "messages": len(found_messages)},
    )
    return {
        "customer_id": cid,
        "erased_at": stamp,
        "claims_kept_anonymously": len(claims),
        "messages_deleted": len(found_messages),
        "events_deleted": events,
    }


def _move_claim(table: Table, merchant_id: str, claim: Item, anonymous_id: str, stamp: str) -> None:
    """The claim, minus what names the person, under the anonymous id; the code's registry entry
    follows it in the same transaction when it names this customer as the holder."""
    old_id = claim["customer_id"]
    moved = {k: v for k, v in claim.items() if k not in PERSONAL}
    moved.update(
        pk=keys.customer_partition(merchant_id, anonymous_id), customer_id=anonymous_id, erased_at=stamp
    )
    campaign_id = claim["campaign_id"]
    if claim.get("gsi1sk"):
        claimed_at = str(claim["gsi1sk"]).split("#", 1)[0]
        moved.update(keys.claim_index(merchant_id, campaign_id, anonymous_id, claimed_at))
    if str(claim.get("gsi2pk", "")).startswith("EXPIRES#"):
        expires_at = str(claim["gsi2sk"]).split("#", 1)[0]
        moved.update(keys.offer_expiry_index(merchant_id, campaign_id, anonymous_id, expires_at))
    if "gsi5pk" in moved:  # its entry on the views index, under the anonymous id
        moved.update(claim_view_entry(moved))
    actions: list[TransactAction] = [
        Put(moved, condition="attribute_not_exists(pk)"),
        Delete({"pk": claim["pk"], "sk": claim["sk"]}),
    ]
    if claim.get("code"):
        registry = keys.code_registry(merchant_id, campaign_id, str(claim["code"]))
        holder = table.get(registry)
        if holder is not None and holder.get("customer_id") == old_id:
            actions.append(
                Update(
                    registry,
                    "SET customer_id = :anon",
                    condition="customer_id = :old",
                    values={":anon": anonymous_id, ":old": old_id},
                )
            )
    table.transact(actions)


def _delete_events(events_table: Table, merchant_id: str, message: Item) -> int:
    found = events_table.query(
        "pk = :pk", {":pk": keys.message_events_partition(merchant_id, message["message_id"])}
    )
    if message.get("ses_message_id"):  # events SES sent before the message was known (orphans)
        found += events_table.query("pk = :pk", {":pk": f"ORPHAN#{message['ses_message_id']}"})
    _delete(events_table, [{"pk": e["pk"], "sk": e["sk"]} for e in found])
    return len(found)


def _delete(table: Table, wanted: list[dict[str, str]]) -> None:
    unique = list({(k["pk"], k["sk"]): k for k in wanted}.values())
    for start in range(0, len(unique), WRITE_CHUNK):
        table.transact([Delete(k) for k in unique[start : start + WRITE_CHUNK]])
