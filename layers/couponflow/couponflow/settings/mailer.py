"""The mailer's environment: who sends, through which configuration set, and the links' secret."""

from __future__ import annotations

from pydantic import Field, HttpUrl

from couponflow.settings import TableSettings


class MailerSettings(TableSettings):
    sender_address: str = Field(alias="SENDER_ADDRESS", min_length=3)
    configuration_set_name: str = Field(alias="CONFIGURATION_SET_NAME", min_length=1)
    public_base_url: HttpUrl = Field(alias="PUBLIC_BASE_URL")
    link_secret_arn: str = Field(alias="LINK_SECRET_ARN", min_length=1)  # signs coupon/unsubscribe links
    # SES's identity notifications are routed to the SES events topic too: index SES's ids for them
    ses_identity_notifications: bool = Field(alias="SES_IDENTITY_NOTIFICATIONS", default=False)
