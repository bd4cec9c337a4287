"""The signed links that go into coupon emails, claim answers and send notices.

Making a link needs only the secret and the URL it points under; following one (the coupon page,
the store redirect, unsubscribing) is ``couponflow.services.coupon_links``. The claim function
signs a link with every claim and follows none, so it loads this module alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from couponflow.adapters.secrets import Secret, value_of
from couponflow.domain import coupon_links
from couponflow.domain.coupon_links import LinkClaims, LinkPurpose


@dataclass(frozen=True)
class LinkSigner:
    """Makes the signed links that go into coupon emails and claim answers (``secret``: the value,
    or how to read it when the first link is signed)."""

    secret: Secret
    base_url: str  # the API stage URL, e.g. https://<api>.execute-api.<region>.amazonaws.com/v1

    def coupon_url(self, merchant_id: str, customer_id: str, campaign_id: str) -> str:
        token = coupon_links.sign(
            value_of(self.secret), LinkClaims(LinkPurpose.COUPON, merchant_id, customer_id, campaign_id)
        )
        return self.base_url.rstrip("/") + coupon_links.coupon_path(merchant_id, token)

    def unsubscribe_url(self, merchant_id: str, customer_id: str, campaign_id: str) -> str:
        token = coupon_links.sign(
            value_of(self.secret), LinkClaims(LinkPurpose.UNSUBSCRIBE, merchant_id, customer_id, campaign_id)
        )
        return self.base_url.rstrip("/") + coupon_links.unsubscribe_path(token)

    def report_url(self, merchant_id: str, send_id: str, expires_at: datetime) -> str:
        """The merchant's link to a send's failure report: ours to redirect, good until ``expires_at``."""
        link = coupon_links.ReportLink(merchant_id, send_id, expires_at)
        token = coupon_links.sign_report(value_of(self.secret), link)
        return self.base_url.rstrip("/") + coupon_links.report_path(token)
