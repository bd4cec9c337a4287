"""The merchant's link to a send's failure report, and following it.

The report is a CSV in the report bucket (deleted by the bucket's lifecycle rule after 7 days).
A presigned S3 URL cannot be the link: it dies with the credentials that signed it, and a
Lambda role's are session credentials that last hours. So the link is ours:
``<api>/public/reports/<token>``, the token signed with the link secret over (merchant, send,
expiry = report time + 7 days). Following it checks the token and answers with a fresh
presigned URL of the object that only has to live for the redirect (5 minutes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from couponflow.adapters import s3
from couponflow.adapters.dynamodb import Table
from couponflow.adapters.secrets import Secret, value_of
from couponflow.domain import coupon_links
from couponflow.errors import NotFoundError
from couponflow.store import sends

REPORT_LINK_LIFETIME = timedelta(days=7)  # as long as the bucket keeps the report
REDIRECT_LIFETIME_SECONDS = 300


class ReportGone(NotFoundError):
    """The link is ours and still valid, but the report is no longer there."""


@dataclass(frozen=True)
class SendReports:
    table: Table
    secret: Secret
    bucket: str

    def download_url(self, token: str, now: datetime | None = None) -> str:
        """A short-lived presigned GET of the report the token names.

        Raises ``InvalidLink`` (forged, altered, not a report link), ``ExpiredLink`` (past its
        7 days), ``NotFoundError`` (no such send or no report) or ``ReportGone`` (deleted).
        """
        link = coupon_links.verify_report(value_of(self.secret), token, now=now or datetime.now(UTC))
        try:
            send = sends.get(self.table, link.merchant_id, link.send_id)
        except NotFoundError as error:
            raise NotFoundError("this send does not exist (any more)") from error
        key = send.get("report_key")
        if not key:
            raise NotFoundError("this send has no failure report")
        if not s3.exists(self.bucket, str(key)):
            raise ReportGone("this report was deleted")
        return s3.presigned_get(self.bucket, str(key), expires_in=REDIRECT_LIFETIME_SECONDS)
