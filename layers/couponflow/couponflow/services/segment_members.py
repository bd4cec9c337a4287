"""Who is in a segment now: the customers a send goes to, and a segment's size.

A segment is static (members added and removed) or rule-based (active within N days, has a tag,
claimed a campaign); either way its members are resolved here, from one Query of the merchant's
customers (gsi2) plus the static members or the campaign's claimants. Apart from the merchant
API's audience service (``services/audience.py``), so a send's functions load none of its models.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from couponflow.adapters.dynamodb import Item, Table
from couponflow.domain.audience import SegmentRule
from couponflow.store import audience


def _rule(item: Item) -> SegmentRule | None:
    raw = item.get("rule")
    return SegmentRule(**raw) if raw else None


@dataclass(frozen=True)
class Members:
    segment: Item
    customers: list[Item]


def members(table: Table, merchant_id: str, segment_id: str, now: datetime | None = None) -> Members:
    """The segment's customers now (profiles), whatever kind of segment it is."""
    now = now or datetime.now(UTC)
    segment = audience.get_segment(table, merchant_id, segment_id)
    rule = _rule(segment)
    if rule is None:
        wanted = audience.member_ids(table, merchant_id, segment_id)
        everyone = audience.all_customers(table, merchant_id)
        return Members(segment, [c for c in everyone if c["customer_id"] in wanted])
    since = (now - timedelta(days=rule.active_within_days)).isoformat() if rule.active_within_days else None
    claimed: set[str] = set()
    if rule.claimed_campaign_id:
        claimed = audience.campaign_claimants(table, merchant_id, rule.claimed_campaign_id)
    candidates = audience.all_customers(table, merchant_id, since=since)
    return Members(segment, [c for c in candidates if rule.matches(c, now, claimed)])
