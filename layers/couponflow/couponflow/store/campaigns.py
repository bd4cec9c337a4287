"""Campaigns and their code pools in DynamoDB."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from couponflow.adapters.dynamodb import ConditionFailed, Item, Put, Table, TransactionCanceled, Update
from couponflow.domain.campaign import Campaign
from couponflow.errors import NotFoundError
from couponflow.store import keys


def _dt(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def to_item(campaign: Campaign, created_at: str) -> Item:
    return {
        **keys.campaign(campaign.merchant_id, campaign.campaign_id),
        "gsi1pk": keys.campaigns_index(campaign.merchant_id),
        "gsi1sk": f"{created_at}#{campaign.campaign_id}",
        "type": "campaign",
        "merchant_id": campaign.merchant_id,
        "campaign_id": campaign.campaign_id,
        "name": campaign.name,
        "subject": campaign.subject,
        "channel": campaign.channel,
        "required_tag": campaign.required_tag,
        "timezone": campaign.timezone,
        "starts_at": campaign.starts_at.isoformat() if campaign.starts_at else None,
        "ends_at": campaign.ends_at.isoformat() if campaign.ends_at else None,
        "paused": campaign.paused,
        "daily_limit": campaign.daily_limit,
        "per_customer_limit": campaign.per_customer_limit,
        "store_url": campaign.store_url,
        "html_template": campaign.html_template,
        "text_template": campaign.text_template,
        "offer_lifetime_days": campaign.offer_lifetime_days,
        "release_undelivered_codes": campaign.release_undelivered_codes,
        "created_at": created_at,
    }


def from_item(item: Item) -> Campaign:
    return Campaign(
        merchant_id=item["merchant_id"],
        campaign_id=item["campaign_id"],
        name=item["name"],
        subject=item["subject"],
        channel=item["channel"],
        required_tag=item.get("required_tag"),
        timezone=item.get("timezone", "UTC"),
        starts_at=_dt(item.get("starts_at")),
        ends_at=_dt(item.get("ends_at")),
        paused=bool(item.get("paused", False)),
        daily_limit=item.get("daily_limit"),
        store_url=item.get("store_url"),
        html_template=item.get("html_template"),
        text_template=item.get("text_template"),
        offer_lifetime_days=item.get("offer_lifetime_days"),
        release_undelivered_codes=bool(item.get("release_undelivered_codes", True)),
        block_disposable_emails=bool(item.get("block_disposable_emails", False)),
        pool_version=int(item.get("pool_version", 0)),
        pool_exhausted_version=item.get("pool_exhausted_version"),
        per_customer_limit=int(item.get("per_customer_limit") or 1),
        empty_shards=frozenset(int(s) for s in item.get("empty_shards") or ()),
    )


def create(table: Table, campaign: Campaign, created_at: str) -> None:
    table.put(to_item(campaign, created_at), condition="attribute_not_exists(pk)")


def get(table: Table, merchant_id: str, campaign_id: str) -> Campaign:
    item = table.get(keys.campaign(merchant_id, campaign_id), consistent=False)
    if item is None:
        raise NotFoundError(f"campaign '{campaign_id}' not found")
    return from_item(item)


def get_item(table: Table, merchant_id: str, campaign_id: str) -> Item:
    item = table.get(keys.campaign(merchant_id, campaign_id), consistent=False)
    if item is None:
        raise NotFoundError(f"campaign '{campaign_id}' not found")
    return item


def add_codes(
    table: Table, merchant_id: str, campaign_id: str, codes: Iterable[str], now: str
) -> tuple[int, int]:
    """Load codes into the pool; returns (imported, duplicate).

    Each code first gets its registry item (``attribute_not_exists``), so a code already loaded,
    or already handed out, is counted as a duplicate and never enters the pool again.
    """
    imported = duplicate = 0
    shards: set[int] = set()
    for code in dict.fromkeys(codes):
        registry = {
            **keys.code_registry(merchant_id, campaign_id, code),
            "type": "code",
            "code": code,
            "state": "available",
            "loaded_at": now,
        }
        pool = {**keys.pool_code(merchant_id, campaign_id, code), "type": "pool_code", "code": code}
        try:
            table.transact(
                [
                    Put(registry, condition="attribute_not_exists(pk)"),
                    Put(pool, condition="attribute_not_exists(pk)"),
                    *pool_count_moves(merchant_id, campaign_id, [code], +1),
                ]
            )
        except TransactionCanceled:
            duplicate += 1
            continue
        imported += 1
        shards.add(keys.pool_shard_of(code))
    if imported:
        pool_refilled(table, merchant_id, campaign_id, shards)
    return imported, duplicate


def pool_count_moves(
    merchant_id: str, campaign_id: str, codes: Iterable[str], sign: int, *, tally: str | None = None
) -> list[Update]:
    """Counter updates, one per pool shard, for codes entering (+1) or leaving (-1) the pool.

    Every write that puts a code into, or deletes one from, a pool shard carries these in the same
    transaction, so the counts are exact whatever fails or runs concurrently. ``tally`` names the
    claim status the move brings its claims to (``claimed``, ``expired``, ``released``): the same
    update adds them to the campaign's funnel (``claim_tally``), at no extra write.
    """
    per_shard: dict[int, int] = {}
    for code in codes:
        shard = keys.pool_shard_of(code)
        per_shard[shard] = per_shard.get(shard, 0) + sign
    updates = []
    for shard, n in sorted(per_shard.items()):
        expression, names, values = "ADD available :n", dict[str, str](), {":n": n}
        if tally is not None:
            expression += ", #tally :reached"
            names["#tally"], values[":reached"] = tally, abs(n)
        updates.append(
            Update(keys.pool_count(merchant_id, campaign_id, shard), expression, names=names, values=values)
        )
    return updates


def claim_tally(merchant_id: str, campaign_id: str, spread_by: str, reached: str) -> Update:
    """One more claim of the campaign reached ``reached`` (a transaction action).

    The funnel's counts are cumulative (a claim counted ``coupon_viewed`` stays counted when it is
    redeemed) and ride on the pool's counter shards, chosen by ``spread_by`` (the code, or the
    customer of an out-of-coupons answer), so a flash sale's tallies spread as its claims do. Each
    is written in the transaction that moves the claim, whose conditions let a claim reach a
    status once: the counts are exact.
    """
    return Update(
        keys.pool_count(merchant_id, campaign_id, keys.pool_shard_of(spread_by)),
        "ADD #tally :one",
        names={"#tally": reached},
        values={":one": 1},
    )


def pool_refill(merchant_id: str, campaign_id: str, shards: Iterable[int] | None = None) -> Update:
    """The campaign update of ``pool_refilled``, as a transaction action: a code returned to the
    pool carries it in the same transaction, so no failure between the two can leave the code
    behind its shard's empty mark."""
    values: dict[str, Any] = {":zero": 0, ":one": 1, **_watch_values(merchant_id, campaign_id)}
    expression = "SET pool_version = if_not_exists(pool_version, :zero) + :one, gsi2pk = :wpk, gsi2sk = :wsk"
    touched = None if shards is None else set(shards)
    if touched is None or len(touched) >= keys.POOL_SHARDS:
        expression += " REMOVE empty_shards"
    elif touched:
        expression += " DELETE empty_shards :filled"
        values[":filled"] = touched
    return Update(keys.campaign(merchant_id, campaign_id), expression, "attribute_exists(pk)", values=values)


def pool_refilled(
    table: Table, merchant_id: str, campaign_id: str, shards: Iterable[int] | None = None
) -> int:
    """Count one more load of codes into the pool; call it AFTER the codes are written.

    Bumping ``pool_version`` invalidates a pool-exhausted marker set before (so no stale marker
    can hide these codes: a claim that saw the pool empty before the codes landed set the marker
    at the old version) and re-arms the pool alerts. It also puts the campaign on the pool
    watch index that housekeeping sweeps for alerts. Every path that returns codes to the pool
    (expiry, release) calls it too.

    ``shards`` are the pool shards the codes went into (None: any): their empty marks go, in the
    same write as the version bump, so a mark never hides a code (see ``mark_shards_empty``).
    """
    action = pool_refill(merchant_id, campaign_id, shards)
    item = table.update(
        action.key,
        action.expression,
        condition=action.condition,
        values=action.values,
        return_new=True,
    )
    return int((item or {}).get("pool_version", 0))


def _watch_values(merchant_id: str, campaign_id: str) -> dict[str, str]:
    index = keys.pool_watch_index(merchant_id, campaign_id)
    return {":wpk": index["gsi2pk"], ":wsk": index["gsi2sk"]}


def mark_pool_exhausted(table: Table, merchant_id: str, campaign_id: str, seen_version: int) -> bool:
    """Record that a claim found every pool shard empty at ``seen_version``; False if codes came since.

    Conditional on the version the claim read: a load that finished after the claim read the
    campaign has bumped it, so the marker is not set; a load still in flight bumps it after its
    codes are written, which invalidates the marker the moment the codes become claimable.
    """
    try:
        table.update(
            keys.campaign(merchant_id, campaign_id),
            "SET pool_exhausted_version = :v",
            condition="attribute_exists(pk) AND "
            "(pool_version = :v OR (attribute_not_exists(pool_version) AND :v = :zero))",
            values={":v": seen_version, ":zero": 0},
        )
    except ConditionFailed:
        return False
    return True


def empty_marks(
    merchant_id: str, campaign_id: str, shards: Iterable[int], seen_version: int, *, exhausted: bool = False
) -> Update:
    """The write that records pool shards found (or left) empty, for a transaction or on its own.

    Conditional on the pool version the claim read before it queried the shards: a load or return
    that finished since has bumped it (the mark is not set); one still in flight removes the marks
    of the shards it filled in the same write that bumps the version, after its codes are written.
    With ``exhausted`` (every shard is now known empty) the pool-exhausted marker is set too.
    """
    return Update(
        keys.campaign(merchant_id, campaign_id),
        "ADD empty_shards :shards" + (" SET pool_exhausted_version = :v" if exhausted else ""),
        condition="attribute_exists(pk) AND "
        "(pool_version = :v OR (attribute_not_exists(pool_version) AND :v = :zero))",
        values={":shards": set(shards), ":v": seen_version, ":zero": 0},
    )


def mark_shards_empty(
    table: Table,
    merchant_id: str,
    campaign_id: str,
    shards: Iterable[int],
    seen_version: int,
    *,
    exhausted: bool = False,
) -> bool:
    """Record pool shards a claim found empty, so later claims skip them; False if codes came since
    (see ``empty_marks``)."""
    mark = empty_marks(merchant_id, campaign_id, shards, seen_version, exhausted=exhausted)
    try:
        table.update(mark.key, mark.expression, condition=mark.condition, values=mark.values)
    except ConditionFailed:
        return False
    return True


def update_fields(table: Table, merchant_id: str, campaign_id: str, fields: dict[str, Any], now: str) -> Item:
    """Set (or, for None, remove) campaign settings; returns the campaign as stored after."""
    sets = ["updated_at = :updated_at"]
    removes: list[str] = []
    names: dict[str, str] = {}
    values: dict[str, Any] = {":updated_at": now}
    for n, (name, value) in enumerate(sorted(fields.items())):
        names[f"#f{n}"] = name
        if value is None:
            removes.append(f"#f{n}")
        else:
            sets.append(f"#f{n} = :v{n}")
            values[f":v{n}"] = value
    expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
    try:
        item = table.update(
            keys.campaign(merchant_id, campaign_id),
            expression,
            condition="attribute_exists(pk)",
            names=names,
            values=values,
            return_new=True,
        )
    except ConditionFailed as error:
        raise NotFoundError(f"campaign '{campaign_id}' not found") from error
    assert item is not None
    return item


def list_for_merchant(table: Table, merchant_id: str, limit: int) -> list[Item]:
    """The merchant's campaigns, newest first (one Query on the campaigns index)."""
    return table.query(
        "gsi1pk = :pk",
        {":pk": keys.campaigns_index(merchant_id)},
        index=keys.GSI1,
        forward=False,
        limit=limit,
    )


def available_codes(table: Table, merchant_id: str, campaign_id: str, shard: int, limit: int) -> list[str]:
    items = table.query(
        "pk = :pk",
        {":pk": keys.pool_partition(merchant_id, campaign_id, shard)},
        limit=limit,
        consistent=True,
    )
    return [item["code"] for item in items]


def count_available(table: Table, merchant_id: str, campaign_id: str) -> int:
    """Codes left in the pool: the sum of the ``POOL_SHARDS`` shard counters, one BatchGetItem.

    The counters move in the same transactions as the codes (load, import, claim, expiry,
    release), so the sum is exact; reading it costs the same for ten codes or ten million.
    """
    return pool_counts(table, merchant_id, campaign_id).get("available", 0)


def available_in(table: Table, merchant_id: str, campaign_ids: list[str]) -> dict[str, int]:
    """Codes left in each campaign's pool: their shard counters in one BatchGetItem per 100."""
    shards = [(c, keys.pool_count(merchant_id, c, s)) for c in campaign_ids for s in range(keys.POOL_SHARDS)]
    owner = {key["pk"]: c for c, key in shards}
    left = dict.fromkeys(campaign_ids, 0)
    for item in table.batch_get([key for _, key in shards], consistent=True):
        left[owner[item["pk"]]] += int(item.get("available", 0))
    return left


def pool_counts(table: Table, merchant_id: str, campaign_id: str) -> dict[str, int]:
    """Every counter on the pool's shards, summed: ``available`` and the claim tallies."""
    shards = [keys.pool_count(merchant_id, campaign_id, shard) for shard in range(keys.POOL_SHARDS)]
    totals: dict[str, int] = {}
    for item in table.batch_get(shards, consistent=True):
        for name, value in item.items():
            if name not in ("pk", "sk") and isinstance(value, int):
                totals[name] = totals.get(name, 0) + int(value)
    return totals


def watched_for_pool_alerts(table: Table, shard: int) -> list[Item]:
    """Campaigns on one shard of the pool watch index (armed alerts; see ``pool_refilled``)."""
    return table.query("gsi2pk = :pk", {":pk": keys.pool_watch_partition(shard)}, index=keys.GSI2)


def _alert_attribute(alert: str) -> str:
    return {"pool_low": "pool_low_alerted_version", "pool_empty": "pool_empty_alerted_version"}[alert]


def take_pool_alert(table: Table, merchant_id: str, campaign_id: str, alert: str, version: int) -> bool:
    """Claim the right to send ``alert`` at pool ``version``; False if it was sent or codes came since."""
    try:
        table.update(
            keys.campaign(merchant_id, campaign_id),
            "SET #a = :v",
            condition="pool_version = :v AND (attribute_not_exists(#a) OR #a <> :v)",
            names={"#a": _alert_attribute(alert)},
            values={":v": version},
        )
    except ConditionFailed:
        return False
    return True


def give_back_pool_alert(table: Table, merchant_id: str, campaign_id: str, alert: str, version: int) -> None:
    """Undo ``take_pool_alert`` when delivery failed, so the next sweep tries again."""
    with contextlib.suppress(ConditionFailed):
        table.update(
            keys.campaign(merchant_id, campaign_id),
            "REMOVE #a",
            condition="#a = :v",
            names={"#a": _alert_attribute(alert)},
            values={":v": version},
        )


def stop_watching_pool(table: Table, merchant_id: str, campaign_id: str, version: int) -> None:
    """Leave the pool watch index, unless codes were loaded since ``version`` (they re-armed it)."""
    with contextlib.suppress(ConditionFailed):
        table.update(
            keys.campaign(merchant_id, campaign_id),
            "REMOVE gsi2pk, gsi2sk",
            condition="pool_version = :v",
            values={":v": version},
        )
