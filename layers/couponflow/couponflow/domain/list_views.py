"""Which status bucket of the list views an item sits in, and which buckets a filter reads. Pure.

A send's tracker status and a campaign's customer status are each computed from several items
(the recipient, the email, the text, the claim: ``domain/send_tracker.py``), so no one item
holds them. Instead each of those items carries an entry on the views index under a *bucket*
of its own status, and a filtered list reads the buckets a status can come from, then keeps
the rows whose computed status is the one asked for (a row is always shown as computed).

The buckets are coarser than the statuses on purpose: an entry moves (two index writes) only
when its bucket changes. And the index is sparse: the bucket nearly every row is in, an email or
text on its way (queued, sent, delayed, delivered), has no entries at all. A filter for one of
its statuses reads the list itself, keeping the rows of that status (most of what it reads);
the index serves the statuses that are a small share of the rows, where reading the list would
be reading past most of it. So a send's usual email (queued -> sent -> delivered) writes no
index entry, and its item stays under a write unit (1 KB) through its delivery.

Buckets and what sits in each:

- ``on_its_way`` (no entries: read from the list): an email or text queued, sent, delayed or
  delivered;
- ``opened``, ``clicked``, ``complained``: an email opened, clicked, marked as spam;
- ``undelivered``: an email or text bounced, dropped, failed or of unknown outcome, and a send's
  recipient refused at fan-out (who has no message to say so);
- ``never_meant``: the email a texted-only recipient's claim wrote (``message_status.never_meant``);
- ``coupon_followed`` (a coupon viewed or clicked through), ``redeemed``, ``expired``,
  ``released``, ``out_of_coupons``: a claim in that status (a ``claimed`` claim has no entry:
  its email's status places it).

A bucket a flash sale writes (every claim turned away once the pool is empty) spreads over 16
keys like the claim index; the others over 2, written at the pace of opens, clicks, bounces,
redemptions and the expiry sweep (2,000 writes a second for one campaign's bucket), so a filter
for a rare status reads few keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from couponflow.domain.claim_status import ClaimStatus
from couponflow.domain.message_status import MessageStatus, never_meant
from couponflow.domain.send_tracker import TrackerStatus

ON_ITS_WAY = "on_its_way"
OPENED = "opened"
CLICKED = "clicked"
COMPLAINED = "complained"
UNDELIVERED = "undelivered"
NEVER_MEANT = "never_meant"
COUPON_FOLLOWED = "coupon_followed"  # a claim whose coupon was viewed or clicked through

_MESSAGE_BUCKETS: Mapping[MessageStatus, str] = MappingProxyType(
    {
        MessageStatus.QUEUED: ON_ITS_WAY,
        MessageStatus.SENT: ON_ITS_WAY,
        MessageStatus.DELAYED: ON_ITS_WAY,
        MessageStatus.DELIVERED: ON_ITS_WAY,
        MessageStatus.OPENED: OPENED,
        MessageStatus.CLICKED: CLICKED,
        MessageStatus.COMPLAINED: COMPLAINED,
        MessageStatus.BOUNCED: UNDELIVERED,
        MessageStatus.DROPPED: UNDELIVERED,
        MessageStatus.FAILED: UNDELIVERED,
        MessageStatus.UNKNOWN: UNDELIVERED,
    }
)
# claim statuses that decide a row over its email's status
CLAIM_BUCKETS = frozenset(
    {
        ClaimStatus.COUPON_VIEWED,
        ClaimStatus.CLICKED_THROUGH,
        ClaimStatus.REDEEMED,
        ClaimStatus.EXPIRED,
        ClaimStatus.RELEASED,
        ClaimStatus.OUT_OF_COUPONS,
    }
)

BUSY_BUCKETS = frozenset({str(ClaimStatus.OUT_OF_COUPONS)})
BUSY_SHARDS = 16
QUIET_SHARDS = 2


def shards_of(bucket: str) -> int:
    return BUSY_SHARDS if bucket in BUSY_BUCKETS else QUIET_SHARDS


def message_bucket(status: str, details: Mapping[str, Any] | None = None) -> str:
    if never_meant(status, details):
        return NEVER_MEANT
    return _MESSAGE_BUCKETS[MessageStatus(status)]


def indexed(bucket: str | None) -> bool:
    """Whether items of ``bucket`` have entries on the views index (``on_its_way``'s do not)."""
    return bucket is not None and bucket != ON_ITS_WAY


def from_the_list(buckets: tuple[str, ...]) -> bool:
    """A filter whose status may come from ``on_its_way`` reads the list itself."""
    return ON_ITS_WAY in buckets


def claim_bucket(status: str) -> str | None:
    """A claim's bucket; None while it is just ``claimed`` (its email's entry places it)."""
    if status not in CLAIM_BUCKETS:
        return None
    if status in (ClaimStatus.COUPON_VIEWED, ClaimStatus.CLICKED_THROUGH):
        return COUPON_FOLLOWED  # one bucket: the tracker's "clicked" reads both at once
    return str(status)


_TRACKER: Mapping[TrackerStatus, tuple[str, ...]] = MappingProxyType(
    {
        TrackerStatus.INITIATED: (ON_ITS_WAY,),
        # a complaint counts as sent; so does an undelivered email whose text got there
        TrackerStatus.SENT: (ON_ITS_WAY, COMPLAINED, UNDELIVERED),
        TrackerStatus.OPENED: (OPENED,),
        TrackerStatus.CLICKED: (CLICKED, COUPON_FOLLOWED),
        TrackerStatus.REDEEMED: (str(ClaimStatus.REDEEMED),),
        TrackerStatus.EXPIRED: (str(ClaimStatus.EXPIRED),),
        TrackerStatus.RELEASED: (str(ClaimStatus.RELEASED),),
        TrackerStatus.FAILED: (UNDELIVERED,),
    }
)


def tracker_buckets(status: TrackerStatus) -> tuple[str, ...]:
    """The buckets a send tracker row of ``status`` can come from, the busiest first."""
    return _TRACKER[status]


class CampaignRowStatus(StrEnum):
    """The statuses of a campaign's customer list (``send_tracker.campaign_status``)."""

    EMAIL_QUEUED = "email_queued"
    EMAIL_SENT = "email_sent"
    EMAIL_DELAYED = "email_delayed"
    EMAIL_DELIVERED = "email_delivered"
    EMAIL_OPENED = "email_opened"
    EMAIL_CLICKED = "email_clicked"
    EMAIL_COMPLAINED = "email_complained"
    EMAIL_FAILED = "email_failed"
    EMAIL_DROPPED = "email_dropped"
    COUPON_VIEWED = "coupon_viewed"
    CLICKED_THROUGH = "clicked_through"
    REDEEMED = "redeemed"
    EXPIRED = "expired"
    RELEASED = "released"
    OUT_OF_COUPONS = "out_of_coupons"
    CLAIMED = "claimed"


_CAMPAIGN: Mapping[CampaignRowStatus, tuple[str, ...]] = MappingProxyType(
    {
        CampaignRowStatus.EMAIL_QUEUED: (ON_ITS_WAY,),
        CampaignRowStatus.EMAIL_SENT: (ON_ITS_WAY,),
        CampaignRowStatus.EMAIL_DELAYED: (ON_ITS_WAY,),
        CampaignRowStatus.EMAIL_DELIVERED: (ON_ITS_WAY,),
        CampaignRowStatus.EMAIL_OPENED: (OPENED,),
        CampaignRowStatus.EMAIL_CLICKED: (CLICKED,),
        CampaignRowStatus.EMAIL_COMPLAINED: (COMPLAINED,),
        CampaignRowStatus.EMAIL_FAILED: (UNDELIVERED,),
        CampaignRowStatus.EMAIL_DROPPED: (UNDELIVERED,),
        CampaignRowStatus.CLAIMED: (NEVER_MEANT,),
        **{CampaignRowStatus(str(s)): (str(claim_bucket(s)),) for s in CLAIM_BUCKETS},
    }
)


def campaign_buckets(status: CampaignRowStatus) -> tuple[str, ...]:
    """The buckets a campaign customer row of ``status`` can come from."""
    return _CAMPAIGN[status]
