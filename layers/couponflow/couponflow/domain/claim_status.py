"""Coupon (claim) status per customer per campaign: the one place that defines it.

| ours            | seeds' words                                   |
|-----------------|------------------------------------------------|
| page_viewed     | Viewed coupon (no email asked)                 |
| claimed         | code assigned                                  |
| coupon_viewed   | Coupon viewed (opened the coupon link)         |
| clicked_through | clicked through to the store                   |
| redeemed        | Used/Redeemed (the store reported the code)    |
| expired         | Expired (offer lapsed unused; code back to pool) |
| released        | code returned: message dropped/bounced, send canceled |
| out_of_coupons  | Out of coupons, with a reason                  |
"""

from __future__ import annotations

from enum import StrEnum


class ClaimStatus(StrEnum):
    PAGE_VIEWED = "page_viewed"
    CLAIMED = "claimed"
    COUPON_VIEWED = "coupon_viewed"
    CLICKED_THROUGH = "clicked_through"
    REDEEMED = "redeemed"
    EXPIRED = "expired"
    RELEASED = "released"
    OUT_OF_COUPONS = "out_of_coupons"


class OutOfCouponsReason(StrEnum):
    POOL_EMPTY = "pool_empty"
    DAILY_LIMIT = "daily_limit"
    NOT_STARTED = "not_started"
    ENDED = "ended"
    PAUSED = "paused"


# A customer in one of these states holds no code, so a new claim may still assign one.
HOLDS_NO_CODE = frozenset({ClaimStatus.PAGE_VIEWED, ClaimStatus.OUT_OF_COUPONS})

# Forward moves of a claim that holds a code; anything else is refused.
TRANSITIONS: dict[ClaimStatus, frozenset[ClaimStatus]] = {
    ClaimStatus.PAGE_VIEWED: frozenset({ClaimStatus.CLAIMED, ClaimStatus.OUT_OF_COUPONS}),
    ClaimStatus.OUT_OF_COUPONS: frozenset({ClaimStatus.CLAIMED, ClaimStatus.OUT_OF_COUPONS}),
    ClaimStatus.CLAIMED: frozenset(
        {
            ClaimStatus.COUPON_VIEWED,
            ClaimStatus.CLICKED_THROUGH,
            ClaimStatus.REDEEMED,
            ClaimStatus.EXPIRED,
            ClaimStatus.RELEASED,
        }
    ),
    ClaimStatus.COUPON_VIEWED: frozenset(
        {ClaimStatus.CLICKED_THROUGH, ClaimStatus.REDEEMED, ClaimStatus.EXPIRED}
    ),
    ClaimStatus.CLICKED_THROUGH: frozenset({ClaimStatus.REDEEMED, ClaimStatus.EXPIRED}),
    ClaimStatus.REDEEMED: frozenset(),
    ClaimStatus.EXPIRED: frozenset(),
    ClaimStatus.RELEASED: frozenset(),
}


def can_move(current: ClaimStatus, new: ClaimStatus) -> bool:
    return new in TRANSITIONS[current]
