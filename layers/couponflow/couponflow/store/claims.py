"""Claims in DynamoDB: assigning a code from the pool exactly once, under any concurrency.

One claim is one ``TransactWriteItems`` call that, all or nothing:

1. puts the claim on the customer's partition, only if the customer holds no code for this
   campaign yet (one claim per campaign and customer), or, for a campaign with a
   ``per_customer_limit`` above 1, only if the claim it replaces is still the one read (see below);
2. deletes the chosen code from its pool shard, only if it is still there (no code twice);
3. marks the code's registry item assigned, only if it was available;
4. takes one from the shard's counter of available codes (``keys.pool_count``);
5. puts the queued message that will carry the code, and upserts the customer profile;
6. counts the claim against the campaign's day, only if the daily limit is not reached.

If another claimer took the code first, the transaction is canceled on (2) and we try another
code; if the customer already holds a code, it is canceled on (1) and the existing claim is the
answer. The pool is spread over ``keys.POOL_SHARDS`` partitions, visited in random order.

Empty shards: shards known empty are marked on the campaign item (``empty_shards``, at the pool
version the claim read, see ``store.campaigns.empty_marks``), and later claims, which read the
campaign item anyway, skip them. The claim that takes the only code its query saw in a shard
marks that shard in its own transaction, as well as any shard it found empty on the way (a
claim that ends with no code marks them with a write of its own). So near the end of a pool a
claim still costs the campaign read, one query and the transaction. Once every shard is marked
the campaign answers ``pool_empty`` without any query, until codes are loaded or returned again
(which removes the marks of the shards they went into).

More than one code per customer (``per_customer_limit`` N > 1): the ``CLAIM#<c>`` item is the
customer's latest claim and carries its number (``claim_number``, 1 for the first code). While
that claim holds an unredeemed code, a repeat claim answers it again. Once it is ``redeemed`` or
``expired`` and fewer than N codes were given, a claim assigns the next code: the same
transaction copies the latest claim to ``CLAIM#<c>#<n>`` and replaces it, on the condition that
the stored claim is still the one read (same message id and status), so two concurrent claims
of one customer never get two new codes. After N codes the latest claim is the answer.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from couponflow.adapters.dynamodb import (
    Check,
    ConditionFailed,
    Delete,
    Item,
    Put,
    Table,
    TransactAction,
    TransactionCanceled,
    Update,
)
from couponflow.domain import list_views
from couponflow.domain.campaign import Campaign
from couponflow.domain.claim_status import HOLDS_NO_CODE, ClaimStatus, OutOfCouponsReason
from couponflow.domain.message_status import RANK, MessageStatus
from couponflow.errors import RetryableError
from couponflow.store import campaigns, keys, messages
from couponflow.store.claim_receipts import ReceiptFound

logger = logging.getLogger(__name__)

CANDIDATES_PER_READ = 8
MAX_ATTEMPTS = 24
_NO_CODE = [str(s) for s in sorted(HOLDS_NO_CODE)]
# A latest claim in one of these states lets the customer claim their next code (per_customer_limit).
MAKES_ROOM = frozenset({ClaimStatus.REDEEMED, ClaimStatus.EXPIRED})


@dataclass(frozen=True)
class Claimant:
    customer_id: str
    email: str
    name: str | None
    marketing_consent: bool
    integration_status: str | None = None  # "pending" when a provider sync will follow the claim
    # A claim is the customer's own interaction: it upserts their profile (last interaction,
    # consent). A code a segment send assigns is ours, not theirs: it must not make anyone active.
    interacted: bool = True


class ReceiptWriter(Protocol):
    """The receipt a claim sent with an ``Idempotency-Key`` writes with itself: of the answer
    ``record`` gets (``store.claim_receipts``)."""

    def of(self, record: ClaimRecord) -> Put: ...


@dataclass(frozen=True)
class ClaimRecord:
    status: ClaimStatus
    customer_id: str
    campaign_id: str
    code: str | None = None
    reason: OutOfCouponsReason | None = None
    claimed_at: str | None = None
    message_id: str | None = None
    new: bool = False  # True when this call assigned the code (so the message must be queued)
    integration_status: str | None = None
    claim_number: int = 1  # the how-manieth code of this campaign the customer was given
    receipted: bool = False  # its receipt (an Idempotency-Key's answer) was written with it

    @classmethod
    def from_item(cls, item: Item) -> ClaimRecord:
        reason = item.get("reason")
        return cls(
            claim_number=int(item.get("claim_number") or 1),
            status=ClaimStatus(item["status"]),
            customer_id=item["customer_id"],
            campaign_id=item["campaign_id"],
            code=item.get("code"),
            reason=OutOfCouponsReason(reason) if reason else None,
            claimed_at=item.get("claimed_at"),
            message_id=item.get("message_id"),
            integration_status=item.get("integration_status"),
        )


def get(table: Table, merchant_id: str, customer_id: str, campaign_id: str) -> ClaimRecord | None:
    item = table.get(keys.claim(merchant_id, customer_id, campaign_id))
    return ClaimRecord.from_item(item) if item else None


def makes_room(claim: Item | None, campaign: Campaign) -> bool:
    """True when ``claim`` (the customer's latest) lets them be given their next code."""
    return (
        claim is not None
        and claim.get("status") in MAKES_ROOM
        and int(claim.get("claim_number") or 1) < campaign.per_customer_limit
    )


def _claim_put(
    campaign: Campaign, who: Claimant, now: str, fields: dict[str, Any], replaces: Item | None = None
) -> Put:
    """The customer's latest claim; ``replaces`` is the latest claim read, when this is their next code."""
    item = {
        **keys.claim(campaign.merchant_id, who.customer_id, campaign.campaign_id),
        **keys.claim_index(campaign.merchant_id, campaign.campaign_id, who.customer_id, now),
        "type": "claim",
        "merchant_id": campaign.merchant_id,
        "campaign_id": campaign.campaign_id,
        "customer_id": who.customer_id,
        "email": who.email,
        "updated_at": now,
        **fields,
    }
    item.update(claim_view_entry(item))
    if replaces is not None:  # only while the stored claim is still the one read
        return Put(
            item,
            condition="message_id = :previous AND #status = :status",
            names={"#status": "status"},
            values={":previous": replaces.get("message_id"), ":status": replaces.get("status")},
        )
    return Put(
        item,
        condition="attribute_not_exists(pk) OR #status IN (:s0, :s1)",
        names={"#status": "status"},
        values={":s0": _NO_CODE[0], ":s1": _NO_CODE[1]},
    )


def claim_view_entry(claim: Mapping[str, Any], status: str | None = None) -> dict[str, str]:
    """The claim's entry on the views index in ``status`` (default: its own); {} while it is just
    ``claimed`` (its email's entry places it)."""
    bucket = list_views.claim_bucket(str(status or claim["status"]))
    if bucket is None:
        return {}
    return keys.view_entry(
        claim["merchant_id"], claim["campaign_id"], bucket, claim["customer_id"], keys.view_origin(claim)
    )


def _customer_update(merchant_id: str, who: Claimant, now: str) -> Update:
    expression = (
        "SET #type = :type, merchant_id = :m, customer_id = :c, email = :e, last_interaction_at = :now, "
        "created_at = if_not_exists(created_at, :now), marketing_consent = :consent, "
        "gsi2pk = :g2pk, gsi2sk = :g2sk"  # the merchant's customer listing, by last interaction
    )
    listing = keys.customers_index(merchant_id, who.customer_id, now)
    search = keys.customer_search_index(merchant_id, who.customer_id, email=who.email, name=who.name)
    for name in search:  # the same values on a repeat: a keys-only index is not rewritten
        expression += f", {name} = :{name}"
    values: dict[str, Any] = {
        ":type": "customer",
        ":m": merchant_id,
        ":c": who.customer_id,
        ":e": who.email,
        ":now": now,
        ":consent": who.marketing_consent,
        ":g2pk": listing["gsi2pk"],
        ":g2sk": listing["gsi2sk"],
        **{f":{name}": value for name, value in search.items()},
    }
    if who.name:
        expression += ", #name = :name"
        values[":name"] = who.name
    names = {"#type": "type", **({"#name": "name"} if who.name else {})}
    return Update(keys.customer(merchant_id, who.customer_id), expression, names=names, values=values)


def _offer_expiry(campaign: Campaign, customer_id: str, now: str) -> dict[str, str]:
    """When the campaign has an offer lifetime: the lapse time and the sweep index (gsi2)."""
    if not campaign.offer_lifetime_days:
        return {}
    expires = (datetime.fromisoformat(now) + timedelta(days=campaign.offer_lifetime_days)).isoformat()
    index = keys.offer_expiry_index(campaign.merchant_id, campaign.campaign_id, customer_id, expires)
    return {"offer_expires_at": expires, **index}


def _daily_count(campaign: Campaign, now_day: str) -> Update | None:
    if campaign.daily_limit is None:
        return None
    return Update(
        keys.daily_count(campaign.merchant_id, campaign.campaign_id, now_day),
        "SET claimed = if_not_exists(claimed, :zero) + :one",
        condition="attribute_not_exists(claimed) OR claimed < :limit",
        values={":zero": 0, ":one": 1, ":limit": campaign.daily_limit},
    )


def assign(
    table: Table,
    campaign: Campaign,
    who: Claimant,
    *,
    now: str,
    day: str,
    message_id: str,
    rng: random.Random | None = None,
    outbox: bool = True,
    message_fields: dict[str, Any] | None = None,
    receipt: ReceiptWriter | None = None,
) -> ClaimRecord:
    """Assign a code to ``who`` or tell why not; returns the existing claim on a repeat.

    ``receipt`` (a claim sent with an ``Idempotency-Key``) gives the receipt of the claim's answer,
    written in the claim's own transaction (``store.claim_receipts``); a receipt already there
    raises ``ReceiptFound`` instead.

    The claim's email message is written with it, on the outbox index (housekeeping queues it
    again should the caller die before queueing it), unless ``outbox`` is False: a segment send's
    fan-out, whose redelivered chunk queues its emails again, spares those index writes.
    ``message_fields`` are set on the message too (a send's id, so the mailer renders its template).
    """
    shards = [s for s in range(keys.POOL_SHARDS) if s not in campaign.empty_shards]
    if campaign.pool_known_empty or not shards:  # claims found every shard empty: no queries
        return record_out_of_coupons(
            table, campaign, who, OutOfCouponsReason.POOL_EMPTY, now=now, receipt=receipt
        )
    rng = rng or random.Random()
    rng.shuffle(shards)
    found_empty: set[int] = set()
    replaces: Item | None = None  # the latest claim this one replaces (per_customer_limit above 1)
    attempts = 0
    for shard in shards:
        while True:
            codes = _candidates(table, campaign, shard)
            if not codes:
                found_empty.add(shard)
                break  # this shard is empty; try the next one
            code = rng.choice(codes)
            # Shards to mark empty in the claim's own transaction: those found empty, and this one
            # when the query saw its only code (taking it leaves the shard empty).
            marks = found_empty | ({shard} if len(codes) == 1 else set())
            outcome: ClaimRecord | Item | None = None
            while attempts < MAX_ATTEMPTS:
                attempts += 1
                outcome = _try_code(
                    table,
                    campaign,
                    who,
                    code,
                    now=now,
                    day=day,
                    message_id=message_id,
                    replaces=replaces,
                    marks=marks,
                    outbox=outbox,
                    message_fields=message_fields,
                    receipt=receipt,
                )
                if not isinstance(outcome, dict):
                    break
                replaces = outcome  # the customer may have their next code: same code, replacing it
            if isinstance(outcome, ClaimRecord):
                return outcome
            if attempts >= MAX_ATTEMPTS:
                raise RetryableError("too many concurrent claims on this campaign; retry shortly")
    _mark_empty(table, campaign, found_empty)
    return record_out_of_coupons(
        table, campaign, who, OutOfCouponsReason.POOL_EMPTY, now=now, receipt=receipt
    )


def _mark_empty(table: Table, campaign: Campaign, found_empty: set[int]) -> None:
    """Record the shards this claim found empty (and the pool exhausted once all are)."""
    if not found_empty:
        return
    exhausted = campaign.empty_shards | found_empty >= set(range(keys.POOL_SHARDS))
    campaigns.mark_shards_empty(
        table,
        campaign.merchant_id,
        campaign.campaign_id,
        found_empty,
        campaign.pool_version,
        exhausted=exhausted,
    )


def _candidates(table: Table, campaign: Campaign, shard: int) -> list[str]:
    return campaigns.available_codes(
        table, campaign.merchant_id, campaign.campaign_id, shard, CANDIDATES_PER_READ
    )


def _try_code(
    table: Table,
    campaign: Campaign,
    who: Claimant,
    code: str,
    *,
    now: str,
    day: str,
    message_id: str,
    replaces: Item | None,
    marks: set[int],
    outbox: bool = True,
    message_fields: dict[str, Any] | None = None,
    receipt: ReceiptWriter | None = None,
) -> ClaimRecord | Item | None:
    """The claim made; or the customer's latest claim when it makes room for their next code (try
    again replacing it); or None when someone else took ``code`` first.

    ``marks`` are pool shards to record empty with the claim (see ``campaigns.empty_marks``); if
    codes entered the pool since the campaign was read, the claim is made without them.
    """
    m, c = campaign.merchant_id, campaign.campaign_id
    number = int(replaces.get("claim_number") or 1) + 1 if replaces is not None else 1
    claim_fields = _claimed(campaign, who, code, now=now, message_id=message_id, number=number)
    claim_fields.update(_send_of(message_fields))
    made = ClaimRecord(
        status=ClaimStatus.CLAIMED,
        customer_id=who.customer_id,
        campaign_id=c,
        code=code,
        claimed_at=now,
        message_id=message_id,
        new=True,
        claim_number=number,
        receipted=receipt is not None,
    )
    while True:
        actions: list[TransactAction] = [
            _claim_put(campaign, who, now, claim_fields, replaces),
            *_code_taken(campaign, who, code, now),
            *campaigns.pool_count_moves(m, c, [code], -1, tally=str(ClaimStatus.CLAIMED)),
            _message_put(campaign, who, code, message_id, now, outbox=outbox, fields=message_fields),
        ]
        message_at = len(actions) - 1
        if who.interacted:
            actions.append(_customer_update(m, who, now))
        if replaces is not None:
            actions.append(_earlier_claim_put(replaces))
        mark_at = len(actions)
        if marks:
            exhausted = campaign.empty_shards | marks >= set(range(keys.POOL_SHARDS))
            actions.append(campaigns.empty_marks(m, c, marks, campaign.pool_version, exhausted=exhausted))
        daily = _daily_count(campaign, day)
        if daily is not None:
            actions.append(daily)
        daily_at = len(actions) - 1
        receipt_at = _with_receipt(actions, receipt, made)
        try:
            table.transact(actions)
        except TransactionCanceled as canceled:
            _raise_if_receipted(canceled, receipt_at)
            if canceled.failed(0):
                existing = canceled.items[0] or table.get(keys.claim(m, who.customer_id, c))
                if existing is None:  # the holder vanished between the two reads: try again
                    return None
                if makes_room(existing, campaign):
                    return existing
                return ClaimRecord.from_item(existing)
            if daily is not None and canceled.failed(daily_at):
                return record_out_of_coupons(
                    table, campaign, who, OutOfCouponsReason.DAILY_LIMIT, now=now, receipt=receipt
                )
            if replaces is not None and canceled.failed(message_at):
                # This message id already carried a code of this customer (a send's chunk delivered
                # again after they used that code): the claim it made is the answer, not a new one.
                return ClaimRecord.from_item(replaces)
            if marks and canceled.failed(mark_at):  # codes came since the campaign was read:
                marks = set()  # the same claim, without the marks
                continue
            return None  # someone else took this code first: pick another
        return made


def _send_of(message_fields: Mapping[str, Any] | None) -> dict[str, Any]:
    """The segment send a claim is made for (its fan-out names it on the message), if any: the
    claim's entry on the views index sits in the send's range."""
    send_id = (message_fields or {}).get("send_id")
    return {"send_id": send_id} if send_id else {}


def _claimed(
    campaign: Campaign, who: Claimant, code: str, *, now: str, message_id: str, number: int = 1
) -> dict[str, Any]:
    """The fields of a claim that holds ``code``."""
    return {
        "status": str(ClaimStatus.CLAIMED),
        "code": code,
        "claimed_at": now,
        "message_id": message_id,
        "claim_number": number,
        "reason": None,
        "integration_status": who.integration_status,
        **_offer_expiry(campaign, who.customer_id, now),
    }


def _code_taken(campaign: Campaign, who: Claimant, code: str, now: str) -> list[TransactAction]:
    """The code leaves its pool shard (only if still there) and its registry names the holder."""
    return [_leaves_pool(campaign, code), _holder_named(campaign, who, code, now)]


def _leaves_pool(campaign: Campaign, code: str) -> Delete:
    """The code leaves its pool shard, only if still there: no one else can take it from then on."""
    return Delete(
        keys.pool_code(campaign.merchant_id, campaign.campaign_id, code), condition="attribute_exists(pk)"
    )


def _holder_named(campaign: Campaign, who: Claimant, code: str, now: str, *, again: bool = False) -> Update:
    """The code's registry names ``who`` its holder, only if it was available (``again``: or
    names them already, for a write done once more)."""
    condition = "#state = :available"
    if again:
        condition += " OR (#state = :assigned AND customer_id = :cus)"
    return Update(
        keys.code_registry(campaign.merchant_id, campaign.campaign_id, code),
        "SET #state = :assigned, customer_id = :cus, assigned_at = :now",
        condition=condition,
        names={"#state": "state"},
        values={":assigned": "assigned", ":available": "available", ":cus": who.customer_id, ":now": now},
    )


def _message_put(
    campaign: Campaign,
    who: Claimant,
    code: str,
    message_id: str,
    now: str,
    *,
    outbox: bool,
    fields: dict[str, Any] | None,
) -> Put:
    """The queued email that carries the code (on the outbox index unless ``outbox`` is False)."""
    m = campaign.merchant_id
    item = {
        **(fields or {}),
        **keys.message(m, who.customer_id, message_id),
        "type": "message",
        "merchant_id": m,
        "customer_id": who.customer_id,
        "campaign_id": campaign.campaign_id,
        "message_id": message_id,
        "channel": "email",
        "recipient": who.email,
        "code": code,
        "status": str(MessageStatus.QUEUED),
        "status_rank": RANK[MessageStatus.QUEUED],
        "status_at": now,
        "created_at": now,
        **(keys.outbox_index(m, who.customer_id, message_id, now) if outbox else {}),
    }
    item.update(messages.view_entry(item, keys.view_origin(item)))
    return Put(item, condition="attribute_not_exists(pk)")


def _earlier_claim_put(latest: Item) -> Put:
    """The customer's latest claim, kept under its number once their next code replaces it."""
    number = int(latest.get("claim_number") or 1)
    kept = {k: v for k, v in latest.items() if k not in ("gsi2pk", "gsi2sk", "gsi5pk", "gsi5sk")}
    kept.update(
        keys.earlier_claim(latest["merchant_id"], latest["customer_id"], latest["campaign_id"], number)
    )
    kept["claim_number"] = number
    return Put(kept, condition="attribute_not_exists(pk)")


BULK_GROUP = 20  # claimants per transaction: 3 writes each plus a pool counter per shard (<= 100)


@dataclass(frozen=True)
class Assignment:
    """One claimant of ``assign_many``, the message id their code goes out with, and fields of
    that message its own (beside the ``message_fields`` all of them share)."""

    who: Claimant
    message_id: str
    message_fields: Mapping[str, Any] = field(default_factory=dict)

    def fields(self, shared: Mapping[str, Any] | None) -> dict[str, Any]:
        return {**(shared or {}), **self.message_fields}


def assign_many(
    table: Table,
    campaign: Campaign,
    wanted: list[Assignment],
    *,
    now: str,
    day: str,
    outbox: bool = True,
    message_fields: dict[str, Any] | None = None,
    rng: random.Random | None = None,
) -> list[ClaimRecord]:
    """Assign codes to many claimants at once (a segment send's chunk); one record each, in order.

    Each group of up to ``BULK_GROUP`` claimants is one transaction: per claimant the claim and
    the code leaving its shard, with the same conditions as ``assign``; and one counter move per
    pool shard for the whole group (``assign`` moves a counter per claim). The codes' registry
    items, naming their holders, and the group's messages follow, each written on its own at
    half a transaction's price (the registry first: nothing reads it about a code before its
    email goes out, and the pool entry's delete already keeps anyone else from the code; imports
    skip a code whose registry item exists). Should the caller die in between, its retry finds
    the claims made and writes the rest again (``restore_after_group``). If any condition fails
    (a claimant who holds a code already, as on a
    redelivered chunk; a code a storefront claim took meanwhile) the group is canceled as a
    whole and assigned one by one with ``assign``, which has the answer for each case; so is a
    group the pool cannot fill, and a campaign with a daily limit.
    """
    rng = rng or random.Random()
    records: list[ClaimRecord] = []
    for start in range(0, len(wanted), BULK_GROUP):
        group = wanted[start : start + BULK_GROUP]
        done = None
        if campaign.daily_limit is None and not campaign.pool_known_empty:
            done = _assign_group(
                table, campaign, group, now=now, outbox=outbox, fields=message_fields, rng=rng
            )
        if done is None:
            done = [
                assign(
                    table,
                    campaign,
                    a.who,
                    now=now,
                    day=day,
                    message_id=a.message_id,
                    rng=rng,
                    outbox=outbox,
                    message_fields=a.fields(message_fields),
                )
                for a in group
            ]
        records.extend(done)
    return records


def _assign_group(
    table: Table,
    campaign: Campaign,
    group: list[Assignment],
    *,
    now: str,
    outbox: bool,
    fields: dict[str, Any] | None,
    rng: random.Random,
) -> list[ClaimRecord] | None:
    """The group's claims made in one transaction, or None when it has to go one by one."""
    codes = _codes_for(table, campaign, len(group), rng)
    if len(codes) < len(group):
        return None  # the pool is running out: one by one marks the empty shards and says why
    actions: list[TransactAction] = []
    for a, code in zip(group, codes, strict=True):
        claim = {**_claimed(campaign, a.who, code, now=now, message_id=a.message_id), **_send_of(fields)}
        actions.append(_claim_put(campaign, a.who, now, claim))
        actions.append(_leaves_pool(campaign, code))
    actions.extend(
        campaigns.pool_count_moves(
            campaign.merchant_id, campaign.campaign_id, codes, -1, tally=str(ClaimStatus.CLAIMED)
        )
    )
    try:
        table.transact(actions)
    except (TransactionCanceled, RetryableError):  # a failed condition, or a conflict: one by one
        return None
    for a, code in zip(group, codes, strict=True):
        _name_holder(table, campaign, a.who, code, now)
    for a, code in zip(group, codes, strict=True):
        # each only if absent: a copy of this chunk running at the same time may have put it
        # back already (``restore_after_group``) and the mailer sent it since; never reset it
        _put_if_absent(
            table,
            _message_put(campaign, a.who, code, a.message_id, now, outbox=outbox, fields=a.fields(fields)),
        )
    return [
        ClaimRecord(
            status=ClaimStatus.CLAIMED,
            customer_id=a.who.customer_id,
            campaign_id=campaign.campaign_id,
            code=code,
            claimed_at=now,
            message_id=a.message_id,
            new=True,
        )
        for a, code in zip(group, codes, strict=True)
    ]


def _name_holder(table: Table, campaign: Campaign, who: Claimant, code: str, now: str) -> None:
    """Name ``who`` the holder of ``code`` in its registry, just after the group's transaction
    gave them the code (the pool entry's delete gave it to their claim alone); done once more,
    it changes nothing."""
    named = _holder_named(campaign, who, code, now, again=True)
    try:
        table.update(
            named.key, named.expression, condition=named.condition, names=named.names, values=named.values
        )
    except ConditionFailed:  # never: nothing else moves a code out of its pool shard
        logger.error(
            "code registry names another holder",
            extra={"campaign_id": campaign.campaign_id, "code": code, "customer_id": who.customer_id},
        )


def _name_holder_again(table: Table, campaign: Campaign, who: Claimant, code: str, now: str) -> None:
    """``_name_holder`` for a retry, in one transaction with a check that the claim still holds
    the code as ``claimed``: a code released since (its email bounced; the registry available
    again and the code back in the pool) is never named theirs again."""
    try:
        table.transact(
            [
                Check(
                    keys.claim(campaign.merchant_id, who.customer_id, campaign.campaign_id),
                    "code = :code AND #status = :claimed",
                    names={"#status": "status"},
                    values={":code": code, ":claimed": str(ClaimStatus.CLAIMED)},
                ),
                _holder_named(campaign, who, code, now, again=True),
            ]
        )
    except TransactionCanceled:  # the claim moved on: its code's registry moved with it
        return


def restore_after_group(
    table: Table,
    campaign: Campaign,
    who: Claimant,
    record: ClaimRecord,
    *,
    fields: dict[str, Any] | None = None,
) -> bool:
    """Write again what ``assign_many`` writes after a group's transaction, for a claim it made
    (the caller may have died in between): the registry naming the holder, and the message if
    its put never happened (True when it was missing), as it was first meant."""
    if record.code is None or record.message_id is None or record.claimed_at is None:
        return False
    if record.status is ClaimStatus.CLAIMED:
        _name_holder_again(table, campaign, who, record.code, record.claimed_at)
    return _put_if_absent(
        table,
        _message_put(
            campaign,
            who,
            record.code,
            record.message_id,
            record.claimed_at,
            outbox=False,
            fields=fields,
        ),
    )


def _put_if_absent(table: Table, put: Put) -> bool:
    """Write ``put`` (conditioned on the item being absent) outside a transaction; False if it was there."""
    try:
        table.put(put.item, condition=put.condition)
    except ConditionFailed:
        return False
    return True


def _codes_for(table: Table, campaign: Campaign, count: int, rng: random.Random) -> list[str]:
    """Up to ``count`` available codes, from pool shards visited in random order."""
    shards = [s for s in range(keys.POOL_SHARDS) if s not in campaign.empty_shards]
    rng.shuffle(shards)
    codes: list[str] = []
    for shard in shards:
        need = count - len(codes)
        if need <= 0:
            break
        # twice what is needed, and a random pick of them, so concurrent chunks rarely collide
        found = campaigns.available_codes(table, campaign.merchant_id, campaign.campaign_id, shard, 2 * need)
        codes.extend(rng.sample(found, min(need, len(found))))
    return codes


def record_out_of_coupons(
    table: Table,
    campaign: Campaign,
    who: Claimant,
    reason: OutOfCouponsReason,
    *,
    now: str,
    receipt: ReceiptWriter | None = None,
) -> ClaimRecord:
    """Record the customer with ``out_of_coupons`` and the reason, unless they already hold a code.

    A customer whose latest code is used up (redeemed, expired) and who may have another is told
    ``out_of_coupons`` with the reason, and their latest claim stays as it is. ``receipt``: as for
    ``assign``.
    """
    fields = {"status": str(ClaimStatus.OUT_OF_COUPONS), "reason": str(reason), "attempted_at": now}
    turned_away = ClaimRecord(
        status=ClaimStatus.OUT_OF_COUPONS,
        customer_id=who.customer_id,
        campaign_id=campaign.campaign_id,
        reason=reason,
        receipted=receipt is not None,
    )
    try:
        profile = [_customer_update(campaign.merchant_id, who, now)] if who.interacted else []
        tally = campaigns.claim_tally(
            campaign.merchant_id, campaign.campaign_id, who.customer_id, f"out_of_coupons_{reason}"
        )
        actions: list[TransactAction] = [_claim_put(campaign, who, now, fields), *profile, tally]
        receipt_at = _with_receipt(actions, receipt, turned_away)
        table.transact(actions)
    except TransactionCanceled as canceled:
        _raise_if_receipted(canceled, receipt_at)
        existing = canceled.items[0] or table.get(
            keys.claim(campaign.merchant_id, who.customer_id, campaign.campaign_id)
        )
        if existing is None:
            raise RetryableError("claim changed while recording it; retry") from canceled
        if makes_room(existing, campaign):  # their next code is what is out: say so, keep the claim
            return ClaimRecord(
                status=ClaimStatus.OUT_OF_COUPONS,
                customer_id=who.customer_id,
                campaign_id=campaign.campaign_id,
                reason=reason,
                claim_number=int(existing.get("claim_number") or 1),
            )
        return ClaimRecord.from_item(existing)
    return turned_away


def _with_receipt(
    actions: list[TransactAction], receipt: ReceiptWriter | None, record: ClaimRecord
) -> int | None:
    """Add the receipt of ``record``'s answer to the transaction; its index (None without one)."""
    if receipt is None:
        return None
    actions.append(receipt.of(record))
    return len(actions) - 1


def _raise_if_receipted(canceled: TransactionCanceled, receipt_at: int | None) -> None:
    """A receipt with the key was there: the request was answered before (``ReceiptFound``)."""
    if receipt_at is not None and canceled.failed(receipt_at):
        raise ReceiptFound(canceled.items[receipt_at] or {}, canceled.items[0])


def list_for_campaign(table: Table, merchant_id: str, campaign_id: str, limit: int = 100) -> list[Item]:
    """Claims of a campaign, newest first, merged across the index shards."""
    items: list[Item] = []
    for shard in range(keys.CLAIM_INDEX_SHARDS):
        items.extend(
            table.query(
                "gsi1pk = :pk",
                {":pk": keys.campaign_claims_partition(merchant_id, campaign_id, shard)},
                index=keys.GSI1,
                forward=False,
                limit=limit,
            )
        )
    items.sort(key=lambda i: i.get("gsi1sk", ""), reverse=True)
    return items[:limit]
