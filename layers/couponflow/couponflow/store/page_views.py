"""Page views without an email: an anonymous visitor saw the campaign's page (``page_viewed``)."""

from __future__ import annotations

from couponflow.adapters.dynamodb import Table
from couponflow.domain.claim_status import ClaimStatus
from couponflow.store import keys


def record(table: Table, merchant_id: str, campaign_id: str, visitor_id: str, now: str) -> bool:
    """Count one view of the visitor; True for the visitor's first view of this campaign."""
    item = table.update(
        keys.page_view(merchant_id, campaign_id, visitor_id),
        "SET #type = :type, merchant_id = :m, campaign_id = :c, visitor_id = :v, #status = :status, "
        "first_viewed_at = if_not_exists(first_viewed_at, :now), last_viewed_at = :now ADD #views :one",
        names={"#type": "type", "#status": "status", "#views": "views"},
        values={
            ":type": "page_view",
            ":m": merchant_id,
            ":c": campaign_id,
            ":v": visitor_id,
            ":status": str(ClaimStatus.PAGE_VIEWED),
            ":now": now,
            ":one": 1,
        },
        return_new=True,
    )
    return int((item or {}).get("views", 0)) == 1


def visitors(table: Table, merchant_id: str, campaign_id: str) -> int:
    """How many anonymous visitors viewed the page (a COUNT query per shard)."""
    return sum(
        table.count("pk = :pk", {":pk": keys.page_view_partition(merchant_id, campaign_id, shard)})
        for shard in range(keys.PAGE_VIEW_SHARDS)
    )
