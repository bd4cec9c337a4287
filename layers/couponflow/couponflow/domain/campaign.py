"""A coupon campaign as the claim rules see it: its window, pause switch and daily limit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from couponflow.domain.claim_status import OutOfCouponsReason


@dataclass(frozen=True)
class Campaign:
    merchant_id: str
    campaign_id: str
    name: str
    subject: str
    channel: str
    timezone: str = "UTC"
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    paused: bool = False
    daily_limit: int | None = None
    store_url: str | None = None
    html_template: str | None = None
    text_template: str | None = None
    offer_lifetime_days: int | None = None
    release_undelivered_codes: bool = True
    block_disposable_emails: bool = False  # refuse claims from throwaway-address domains
    required_tag: str | None = None  # segment sends: only for customers carrying this tag
    per_customer_limit: int = 1  # codes one customer may be given, one at a time (see store.claims)
    # Pool exhaustion marker: ``pool_version`` counts loads (and returns) of codes into the pool;
    # a claim that found every shard empty records the version it saw. The marker holds only
    # while no code has been added since, so it can never hide codes loaded after it was set.
    pool_version: int = 0
    pool_exhausted_version: int | None = None
    # Pool shards a claim found empty since the last load or return into them (claims skip them).
    empty_shards: frozenset[int] = frozenset()

    @property
    def pool_known_empty(self) -> bool:
        """True when a claim found the pool empty and no code has entered it since."""
        return self.pool_exhausted_version is not None and self.pool_exhausted_version == self.pool_version

    def closed_reason(self, now: datetime) -> OutOfCouponsReason | None:
        """Why the campaign hands out nothing at ``now``, or None when it is open."""
        if self.paused:
            return OutOfCouponsReason.PAUSED
        if self.starts_at and now < self.starts_at:
            return OutOfCouponsReason.NOT_STARTED
        if self.ends_at and now >= self.ends_at:
            return OutOfCouponsReason.ENDED
        return None

    def local_day(self, now: datetime) -> str:
        """The campaign's calendar day at ``now``: the daily limit resets at local midnight."""
        return now.astimezone(ZoneInfo(self.timezone)).date().isoformat()
