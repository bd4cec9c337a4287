"""A campaign's statistics for the merchant: its funnel (claims by the statuses they reached,
out-of-coupons answers by reason, messages by current status), codes left, and the bounce and
complaint rates against the reputation guard's thresholds (``domain.reputation``)."""

from __future__ import annotations

from couponflow.adapters.dynamodb import Table
from couponflow.domain.claim_status import ClaimStatus, OutOfCouponsReason
from couponflow.domain.reputation import Thresholds, rates
from couponflow.models.views import CampaignStats, ClaimFunnel
from couponflow.store import campaign_stats, campaigns

_REACHED = (
    ClaimStatus.CLAIMED,
    ClaimStatus.COUPON_VIEWED,
    ClaimStatus.CLICKED_THROUGH,
    ClaimStatus.REDEEMED,
    ClaimStatus.EXPIRED,
    ClaimStatus.RELEASED,
)


def stats_view(table: Table, merchant_id: str, campaign_id: str) -> CampaignStats:
    campaign = campaigns.get_item(table, merchant_id, campaign_id)  # 404 for an unknown campaign
    counts = campaign_stats.counts(table, merchant_id, campaign_id)
    pool = campaigns.pool_counts(table, merchant_id, campaign_id)
    current, guard = rates(counts), Thresholds()
    return CampaignStats(
        campaign_id=campaign_id,
        claims=ClaimFunnel(**{str(s): pool.get(str(s), 0) for s in _REACHED}),
        out_of_coupons={str(r): pool.get(f"out_of_coupons_{r}", 0) for r in OutOfCouponsReason},
        codes_available=pool.get("available", 0),
        counts=counts,
        messages=sum(counts.values()),
        attempted=current.attempted,
        bounce_rate=round(current.bounce_rate, 6),
        complaint_rate=round(current.complaint_rate, 6),
        bounce_rate_limit=guard.bounce_rate,
        complaint_rate_limit=guard.complaint_rate,
        paused=bool(campaign.get("paused", False)),
        paused_reason=campaign.get("paused_reason"),
        reputation_paused_at=campaign.get("reputation_paused_at"),
    )
