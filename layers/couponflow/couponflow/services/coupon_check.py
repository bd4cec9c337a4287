"""Whether a send's coupon can serve its eligible recipients at the send time: the data the pure
rule (``domain/send_schedule.check_coupon``) needs, read once, for the starter and preflight."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from couponflow.adapters.dynamodb import Table
from couponflow.domain.campaign import Campaign
from couponflow.domain.send_schedule import CouponCheck, check_coupon, lacks_tag
from couponflow.store import keys


def claimed_on_day(table: Table, campaign: Campaign, at: datetime) -> int:
    """Codes the campaign handed out on ``at``'s local day (counted only under a daily limit)."""
    if campaign.daily_limit is None:
        return 0
    item = table.get(keys.daily_count(campaign.merchant_id, campaign.campaign_id, campaign.local_day(at)))
    return int((item or {}).get("claimed", 0))


def check(
    table: Table,
    campaign: Campaign | None,
    eligible: Iterable[Mapping[str, Any]],
    *,
    at: datetime,
    codes_available: int,
) -> CouponCheck | None:
    people = list(eligible)
    tag = campaign.required_tag if campaign else None
    return check_coupon(
        campaign,
        now=at,
        recipients=len(people),
        codes_available=codes_available,
        claimed_that_day=claimed_on_day(table, campaign, at) if campaign else 0,
        lacking_tag=sum(1 for c in people if lacks_tag(c, tag)),
    )


def as_warning(found: CouponCheck) -> dict[str, Any]:
    """How preflight and the send show the problem: reason, condition (if any) and the sentence."""
    shown: dict[str, Any] = {"reason": str(found.failure), "message": found.message}
    if found.condition is not None:
        shown["condition"] = str(found.condition)
    return shown
