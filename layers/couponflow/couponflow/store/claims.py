"""Claims in DynamoDB: assigning a code from the pool exactly once, under any concurrency.

One claim is one ``TransactWriteItems`` call that, all or nothing:

1. puts the claim on the customer's partition, only if the customer holds no code for this
   campaign yet (one claim per campaign and customer);
2. deletes the chosen code from its pool shard, only if it is still there (no code twice);
3. marks the code's registry item assigned, only if it was available;
4. counts the claim against the campaign's day, only if the daily limit is not reached;
5. puts the queued message that will carry the code, and upserts the customer profile.

If another claimer took the code first, the transaction is canceled on (2) and we try another
code; if the customer already holds a code, it is canceled on (1) and the existing claim is the
answer. The pool is spread over ``keys.POOL_SHARDS`` partitions, visited in random order.
The claim that finds every shard empty marks the campaign's pool exhausted (at the pool version
it read, see ``store.campaigns.mark_pool_exhausted``); later claims answer ``pool_empty`` from
the campaign item they read anyway, without querying the shards, until codes are loaded again.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from couponflow.adapters.dynamodb import Delete, Item, Put, Table, TransactAction, TransactionCanceled, Update
from couponflow.domain.campaign import Campaign
from couponflow.domain.claim_status import HOLDS_NO_CODE, ClaimStatus, OutOfCouponsReason
from couponflow.domain.message_status import RANK, MessageStatus
from couponflow.errors import RetryableError
from couponflow.store import campaigns, keys

CANDIDATES_PER_READ = 8
MAX_ATTEMPTS = 24
_NO_CODE = [str(s) for s in sorted(HOLDS_NO_CODE)]


@dataclass(frozen=True)
class Claimant:
    customer_id: str
    email: str
    name: str | None
    marketing_consent: bool
    integration_status: str | None = None  # "pending" when a provider sync will follow the claim


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

    @classmethod
    def from_item(cls, item: Item) -> ClaimRecord:
        reason = item.get("reason")
        return cls(
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


def _claim_put(campaign: Campaign, who: Claimant, now: str, fields: dict[str, Any]) -> Put:
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
    return Put(
        item,
        condition="attribute_not_exists(pk) OR #status IN (:s0, :s1)",
        names={"#status": "status"},
        values={":s0": _NO_CODE[0], ":s1": _NO_CODE[1]},
    )


def _customer_update(merchant_id: str, who: Claimant, now: str) -> Update:
    expression = (
        "SET #type = :type, merchant_id = :m, customer_id = :c, email = :e, last_interaction_at = :now, "
        "created_at = if_not_exists(created_at, :now), marketing_consent = :consent, "
        "gsi2pk = :g2pk, gsi2sk = :g2sk"  # the merchant's customer listing, by last interaction
    )
    listing = keys.customers_index(merchant_id, who.customer_id, now)
    values: dict[str, Any] = {
        ":type": "customer",
        ":m": merchant_id,
        ":c": who.customer_id,
        ":e": who.email,
        ":now": now,
        ":consent": who.marketing_consent,
        ":g2pk": listing["gsi2pk"],
        ":g2sk": listing["gsi2sk"],
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
) -> ClaimRecord:
    """Assign a code to ``who`` or tell why not; returns the existing claim on a repeat."""
    if campaign.pool_known_empty:  # a claim already found every shard empty: no queries
        return record_out_of_coupons(table, campaign, who, OutOfCouponsReason.POOL_EMPTY, now=now)
    rng = rng or random.Random()
    shards = list(range(keys.POOL_SHARDS))
    rng.shuffle(shards)
    attempts = 0
    for shard in shards:
        while True:
            codes = _candidates(table, campaign, shard)
            if not codes:
                break  # this shard is empty; try the next one
            code = rng.choice(codes)
            attempts += 1
            outcome = _try_code(table, campaign, who, code, now=now, day=day, message_id=message_id)
            if outcome is not None:
                return outcome
            if attempts >= MAX_ATTEMPTS:
                raise RetryableError("too many concurrent claims on this campaign; retry shortly")
    campaigns.mark_pool_exhausted(table, campaign.merchant_id, campaign.campaign_id, campaign.pool_version)
    return record_out_of_coupons(table, campaign, who, OutOfCouponsReason.POOL_EMPTY, now=now)


def _candidates(table: Table, campaign: Campaign, shard: int) -> list[str]:
    items = table.query(
        "pk = :pk",
        {":pk": keys.pool_partition(campaign.merchant_id, campaign.campaign_id, shard)},
        limit=CANDIDATES_PER_READ,
        consistent=True,
    )
    return [item["code"] for item in items]


def _try_code(
    table: Table, campaign: Campaign, who: Claimant, code: str, *, now: str, day: str, message_id: str
) -> ClaimRecord | None:
    m, c = campaign.merchant_id, campaign.campaign_id
    claim_fields = {
        "status": str(ClaimStatus.CLAIMED),
        "code": code,
        "claimed_at": now,
        "message_id": message_id,
        "reason": None,
        "integration_status": who.integration_status,
    }
    claim_fields.update(_offer_expiry(campaign, who.customer_id, now))
    message_item = {
        **keys.message(m, who.customer_id, message_id),
        "type": "message",
        "merchant_id": m,
        "customer_id": who.customer_id,
        "campaign_id": c,
        "message_id": message_id,
        "channel": "email",
        "recipient": who.email,
        "code": code,
        "status": str(MessageStatus.QUEUED),
        "status_rank": RANK[MessageStatus.QUEUED],
        "status_at": now,
        "created_at": now,
        **keys.outbox_index(m, who.customer_id, message_id, now),
    }
    actions: list[TransactAction] = [
        _claim_put(campaign, who, now, claim_fields),
        Delete(keys.pool_code(m, c, code), condition="attribute_exists(pk)"),
        Update(
            keys.code_registry(m, c, code),
            "SET #state = :assigned, customer_id = :cus, assigned_at = :now",
            condition="#state = :available",
            names={"#state": "state"},
            values={":assigned": "assigned", ":available": "available", ":cus": who.customer_id, ":now": now},
        ),
        Put(message_item, condition="attribute_not_exists(pk)"),
        _customer_update(m, who, now),
    ]
    daily = _daily_count(campaign, day)
    if daily is not None:
        actions.append(daily)
    try:
        table.transact(actions)
    except TransactionCanceled as canceled:
        if canceled.failed(0):
            existing = canceled.items[0] or table.get(keys.claim(m, who.customer_id, c))
            if existing is None:  # the holder vanished between the two reads: try again
                return None
            return ClaimRecord.from_item(existing)
        if daily is not None and canceled.failed(len(actions) - 1):
            return record_out_of_coupons(table, campaign, who, OutOfCouponsReason.DAILY_LIMIT, now=now)
        return None  # someone else took this code first: pick another
    return ClaimRecord(
        status=ClaimStatus.CLAIMED,
        customer_id=who.customer_id,
        campaign_id=c,
        code=code,
        claimed_at=now,
        message_id=message_id,
        new=True,
    )


def record_out_of_coupons(
    table: Table, campaign: Campaign, who: Claimant, reason: OutOfCouponsReason, *, now: str
) -> ClaimRecord:
    """Record the customer with ``out_of_coupons`` and the reason, unless they already hold a code."""
    fields = {"status": str(ClaimStatus.OUT_OF_COUPONS), "reason": str(reason), "attempted_at": now}
    try:
        table.transact(
            [_claim_put(campaign, who, now, fields), _customer_update(campaign.merchant_id, who, now)]
        )
    except TransactionCanceled as canceled:
        existing = canceled.items[0] or table.get(
            keys.claim(campaign.merchant_id, who.customer_id, campaign.campaign_id)
        )
        if existing is not None:
            return ClaimRecord.from_item(existing)
        raise RetryableError("claim changed while recording it; retry") from canceled
    return ClaimRecord(
        status=ClaimStatus.OUT_OF_COUPONS,
        customer_id=who.customer_id,
        campaign_id=campaign.campaign_id,
        reason=reason,
    )


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
