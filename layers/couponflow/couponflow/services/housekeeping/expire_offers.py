"""Expire offers not redeemed within the campaign's offer lifetime; their codes go back to the pool.

A claim made while its campaign had an offer lifetime carries ``offer_expires_at`` and sits on
the sparse gsi2 partitions ``EXPIRES#<shard>`` (``store.keys.offer_expiry_index``) until it is
redeemed, expired or released. Each run reads the due entries of every shard (sorted by
``offer_expires_at``, so only what is due) and returns each code in one conditional transaction:
a claim redeemed in the meantime is left alone, and a second run changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from couponflow.adapters.dynamodb import Table
from couponflow.domain.claim_status import ClaimStatus
from couponflow.store import claim_progress, keys

PAGE = 200  # due entries per shard per run; the rest are taken on the next run


@dataclass(frozen=True)
class ExpireOffers:
    table: Table

    def __call__(self, now: datetime) -> dict[str, int]:
        expired = skipped = 0
        stamp = now.isoformat()
        for shard in range(keys.SWEEP_SHARDS):
            due = self.table.query(
                "gsi2pk = :pk AND gsi2sk < :now",
                {":pk": keys.expiry_partition(shard), ":now": stamp},
                index=keys.GSI2,
                limit=PAGE,
            )
            for entry in due:
                claim = self.table.get({"pk": entry["pk"], "sk": entry["sk"]})  # the index may lag
                if claim is not None and claim_progress.return_code(
                    self.table, claim, ClaimStatus.EXPIRED, at=stamp, reason="offer_lifetime"
                ):
                    expired += 1
                else:
                    skipped += 1
        return {"expired": expired, "skipped": skipped}
