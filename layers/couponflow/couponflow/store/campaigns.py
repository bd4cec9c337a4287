"""Campaigns and their code pools in DynamoDB."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from couponflow.adapters.dynamodb import Item, Put, Table, TransactionCanceled
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
        "timezone": campaign.timezone,
        "starts_at": campaign.starts_at.isoformat() if campaign.starts_at else None,
        "ends_at": campaign.ends_at.isoformat() if campaign.ends_at else None,
        "paused": campaign.paused,
        "daily_limit": campaign.daily_limit,
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
                ]
            )
        except TransactionCanceled:
            duplicate += 1
            continue
        imported += 1
    return imported, duplicate


def available_codes(table: Table, merchant_id: str, campaign_id: str, shard: int, limit: int) -> list[str]:
    items = table.query(
        "pk = :pk",
        {":pk": keys.pool_partition(merchant_id, campaign_id, shard)},
        limit=limit,
        consistent=True,
    )
    return [item["code"] for item in items]


def count_available(table: Table, merchant_id: str, campaign_id: str) -> int:
    return sum(
        len(table.query("pk = :pk", {":pk": keys.pool_partition(merchant_id, campaign_id, s)}))
        for s in range(keys.POOL_SHARDS)
    )
