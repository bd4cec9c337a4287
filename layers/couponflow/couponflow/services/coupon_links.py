"""The coupon link and the unsubscribe link: what following them does (making them is
``couponflow.services.link_signer``).

- Opening the coupon link shows the coupon and moves the claim to ``coupon_viewed``.
- Following it to the store moves the claim to ``clicked_through`` and answers with the
  campaign's store URL carrying UTM parameters.
- The unsubscribe link (one-click POST from a mailbox provider, or the confirmation page's
  button) unsubscribes the customer from everything of that merchant; doing it again changes
  nothing.

A claim only moves forward: opening the link after clicking through, or after redemption,
records nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from couponflow.adapters.dynamodb import ConditionFailed, Item, Table
from couponflow.adapters.secrets import Secret, value_of
from couponflow.domain import coupon_links
from couponflow.domain.claim_status import ClaimStatus
from couponflow.domain.coupon_links import InvalidLink, LinkClaims, LinkPurpose
from couponflow.errors import InvalidInputError, NotFoundError
from couponflow.store import campaigns, claim_progress, keys

# Claim statuses in which the coupon can still be used at the store.
USABLE = frozenset({ClaimStatus.CLAIMED, ClaimStatus.COUPON_VIEWED, ClaimStatus.CLICKED_THROUGH})


@dataclass(frozen=True)
class CouponPage:
    """What the coupon page shows."""

    campaign_name: str
    code: str
    status: str
    usable: bool
    store_path: str | None  # where the "go to the store" button leads (relative to the stage)
    offer_expires_at: str | None


@dataclass(frozen=True)
class CouponLinks:
    table: Table
    secret: Secret

    def _verify(self, token: str, purpose: LinkPurpose, merchant_id: str | None = None) -> LinkClaims:
        try:
            return coupon_links.verify(value_of(self.secret), token, purpose, merchant_id=merchant_id)
        except InvalidLink as error:
            raise InvalidInputError(str(error), "token") from error

    def _claim(self, link: LinkClaims) -> Item:
        claim = self.table.get(keys.claim(link.merchant_id, link.customer_id, link.campaign_id))
        if claim is None or not claim.get("code"):
            raise NotFoundError("this coupon does not exist (any more)")
        return claim

    def open_coupon(self, merchant_id: str, token: str, now: datetime | None = None) -> CouponPage:
        """The coupon page; the claim becomes ``coupon_viewed`` unless it is further along."""
        link = self._verify(token, LinkPurpose.COUPON, merchant_id)
        claim = self._claim(link)
        stamp = (now or datetime.now(UTC)).isoformat()
        moved, _ = claim_progress.advance(
            self.table,
            link.merchant_id,
            link.customer_id,
            link.campaign_id,
            ClaimStatus.COUPON_VIEWED,
            at=stamp,
            read=claim,
        )
        claim = moved or claim
        campaign = campaigns.get(self.table, link.merchant_id, link.campaign_id)
        usable = ClaimStatus(claim["status"]) in USABLE
        return CouponPage(
            campaign_name=campaign.name,
            code=str(claim["code"]),
            status=str(claim["status"]),
            usable=usable,
            store_path=coupon_links.coupon_path(merchant_id, token) + "/store"
            if campaign.store_url
            else None,
            offer_expires_at=claim.get("offer_expires_at"),
        )

    def follow_to_store(self, merchant_id: str, token: str, now: datetime | None = None) -> str:
        """The store URL (with UTM parameters) to redirect to; the claim becomes ``clicked_through``."""
        link = self._verify(token, LinkPurpose.COUPON, merchant_id)
        claim = self._claim(link)
        campaign = campaigns.get(self.table, link.merchant_id, link.campaign_id)
        if not campaign.store_url:
            raise NotFoundError("this campaign has no store URL")
        stamp = (now or datetime.now(UTC)).isoformat()
        claim_progress.advance(
            self.table,
            link.merchant_id,
            link.customer_id,
            link.campaign_id,
            ClaimStatus.CLICKED_THROUGH,
            at=stamp,
            read=claim,
        )
        return coupon_links.store_url_with_utm(campaign.store_url, link.campaign_id)

    def check_unsubscribe(self, token: str) -> LinkClaims:
        """The customer an unsubscribe link is for (for the confirmation page); 4xx if not ours."""
        return self._verify(token, LinkPurpose.UNSUBSCRIBE)

    def unsubscribe(self, token: str, *, one_click: bool, now: datetime | None = None) -> dict[str, Any]:
        """Unsubscribe the customer from everything of the merchant (the first time is kept)."""
        link = self._verify(token, LinkPurpose.UNSUBSCRIBE)
        stamp = (now or datetime.now(UTC)).isoformat()
        try:
            item = self.table.update(
                keys.customer(link.merchant_id, link.customer_id),
                "SET unsubscribed_at = if_not_exists(unsubscribed_at, :at), "
                "unsubscribe_source = if_not_exists(unsubscribe_source, :source), updated_at = :at",
                condition="attribute_exists(pk)",
                values={
                    ":at": stamp,
                    ":source": {"via": "one_click" if one_click else "link", "campaign_id": link.campaign_id},
                },
                return_new=True,
            )
        except ConditionFailed as error:
            raise NotFoundError("this customer does not exist (any more)") from error
        assert item is not None
        return {"merchant_id": link.merchant_id, "unsubscribed_at": item["unsubscribed_at"]}
