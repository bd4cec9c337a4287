"""Merchant use cases for campaigns and code pools."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from couponflow.adapters.dynamodb import Item, Table
from couponflow.domain.campaign import Campaign
from couponflow.ids import new_id
from couponflow.models.api import CampaignIn, CodesLoaded
from couponflow.store import campaigns, keys


def public(item: Item) -> dict[str, Any]:
    return keys.without_storage(item)


def create_campaign(
    table: Table, merchant_id: str, request: CampaignIn, now: datetime | None = None
) -> dict[str, Any]:
    stamp = (now or datetime.now(UTC)).isoformat()
    campaign = Campaign(
        merchant_id=merchant_id,
        campaign_id=new_id("cmp"),
        name=request.name,
        subject=request.subject,
        channel=str(request.channel),
        timezone=request.timezone,
        starts_at=request.starts_at,
        ends_at=request.ends_at,
        daily_limit=request.daily_limit,
        per_customer_limit=request.per_customer_limit,
        store_url=str(request.store_url) if request.store_url else None,
        html_template=request.html_template,
        text_template=request.text_template,
        offer_lifetime_days=request.offer_lifetime_days,
        release_undelivered_codes=request.release_undelivered_codes,
        required_tag=request.required_tag,
    )
    campaigns.create(table, campaign, stamp)
    loaded = campaigns.add_codes(table, merchant_id, campaign.campaign_id, request.codes, stamp)
    return {
        **public(campaigns.to_item(campaign, stamp)),
        "codes": {"imported": loaded[0], "duplicate": loaded[1]},
    }


def get_campaign(table: Table, merchant_id: str, campaign_id: str) -> dict[str, Any]:
    item = campaigns.get_item(table, merchant_id, campaign_id)
    return {**public(item), "codes_available": campaigns.count_available(table, merchant_id, campaign_id)}


def add_codes(table: Table, merchant_id: str, campaign_id: str, codes: list[str]) -> CodesLoaded:
    campaigns.get_item(table, merchant_id, campaign_id)  # 404 for an unknown campaign
    imported, duplicate = campaigns.add_codes(
        table, merchant_id, campaign_id, codes, datetime.now(UTC).isoformat()
    )
    return CodesLoaded(imported=imported, duplicate=duplicate)
