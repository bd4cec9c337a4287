"""The claim function's environment: where claims are written and their emails queued."""

from __future__ import annotations

from pydantic import Field

from couponflow.settings import TableSettings


class ClaimSettings(TableSettings):
    mail_queue_url: str = Field(alias="MAIL_QUEUE_URL", min_length=1)
    integration_queue_url: str | None = Field(alias="INTEGRATION_QUEUE_URL", default=None)
    provider_lookup_ttl_seconds: float = Field(alias="PROVIDER_LOOKUP_TTL_SECONDS", default=60, ge=0)
    link_secret_arn: str = Field(alias="LINK_SECRET_ARN", min_length=1)  # signs coupon/unsubscribe links
    report_bucket: str = Field(alias="REPORT_BUCKET", min_length=3)  # failure reports behind report links
