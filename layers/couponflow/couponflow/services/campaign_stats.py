"""A campaign's send statistics for the merchant: messages by current status, bounce and
complaint rates (``domain.reputation``), and whether the reputation guard paused it."""

from __future__ import annotations

from typing import Any

from couponflow.adapters.dynamodb import Table
from couponflow.domain.reputation import rates
from couponflow.store import campaign_stats, campaigns


def stats_view(table: Table, merchant_id: str, campaign_id: str) -> dict[str, Any]:
    campaign = campaigns.get_item(table, merchant_id, campaign_id)  # 404 for an unknown campaign
    counts = campaign_stats.counts(table, merchant_id, campaign_id)
    current = rates(counts)
    return {
        "campaign_id": campaign_id,
        "counts": counts,
        "messages": sum(counts.values()),
        "attempted": current.attempted,
        "bounce_rate": round(current.bounce_rate, 6),
        "complaint_rate": round(current.complaint_rate, 6),
        "paused": bool(campaign.get("paused", False)),
        "paused_reason": campaign.get("paused_reason"),
        "reputation_paused_at": campaign.get("reputation_paused_at"),
    }
