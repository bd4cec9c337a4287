"""The merchant API contract: what merchants send, and what they get back (the storefront's
claim contract is ``models/claims.py``).

Constraints sit on the fields, so bad input fails at the edge with a message naming the field.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    HttpUrl,
    ValidationInfo,
    field_validator,
    model_validator,
)

from couponflow.domain.coupon_email import PLACEHOLDERS, unknown_placeholders
from couponflow.models.base import ApiModel
from couponflow.models.claims import Channel, Email

MAX_CODES_PER_REQUEST = 1000
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{2,63}$"
_CODE = re.compile(CODE_PATTERN)


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone '{value}'") from error
    return value


def _template(value: str | None) -> str | None:
    if value is not None and (unknown := unknown_placeholders(value)):
        allowed = ", ".join(f"{{{{{p}}}}}" for p in sorted(PLACEHOLDERS))
        raise ValueError(f"unknown placeholder(s) {sorted(unknown)}; allowed: {allowed}")
    return value


Code = Annotated[str, Field(pattern=CODE_PATTERN)]
# A customer tag, as models/audience.py's ``Tag`` (which imports this module, so it is not reused).
Tag = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
Template = Annotated[str | None, Field(default=None, max_length=100_000), AfterValidator(_template)]


MAX_CODES_PER_CUSTOMER = 100
PER_CUSTOMER_LIMIT_HELP = (
    "codes one customer may be given (default 1); the next one only once the last is redeemed or expired"
)


class _Strict(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CampaignIn(_Strict):
    name: str = Field(min_length=1, max_length=200)
    subject: str = Field(default="Your coupon is here", min_length=1, max_length=200)
    html_template: Template = None
    text_template: Template = None
    store_url: HttpUrl | None = None
    channel: Channel = Channel.EMAIL
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    timezone: Annotated[str, AfterValidator(_timezone)] = "UTC"
    daily_limit: int | None = Field(default=None, ge=1)
    per_customer_limit: int = Field(
        default=1, ge=1, le=MAX_CODES_PER_CUSTOMER, description=PER_CUSTOMER_LIMIT_HELP
    )
    offer_lifetime_days: int | None = Field(default=None, ge=1, le=3650)
    release_undelivered_codes: bool = True
    required_tag: Tag | None = None  # segment sends: only customers carrying this tag
    codes: list[Code] = Field(default_factory=list, max_length=MAX_CODES_PER_REQUEST)

    @model_validator(mode="after")
    def _window(self) -> CampaignIn:
        for name in ("starts_at", "ends_at"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValueError(f"{name} must carry a time zone offset, e.g. 2026-12-01T09:00:00+01:00")
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class CampaignUpdate(_Strict):
    """PATCH /campaigns/{id}: only the fields sent change; ``null`` clears an optional setting."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    subject: str | None = Field(default=None, min_length=1, max_length=200)
    html_template: Template = None
    text_template: Template = None
    store_url: HttpUrl | None = None
    channel: Channel | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    timezone: Annotated[str | None, AfterValidator(lambda v: v if v is None else _timezone(v))] = None
    daily_limit: int | None = Field(default=None, ge=1)
    per_customer_limit: int | None = Field(
        default=None, ge=1, le=MAX_CODES_PER_CUSTOMER, description=PER_CUSTOMER_LIMIT_HELP
    )
    offer_lifetime_days: int | None = Field(default=None, ge=1, le=3650)
    release_undelivered_codes: bool | None = None
    pool_alert_threshold: int | None = Field(default=None, ge=1, le=10_000_000)
    block_disposable_emails: bool | None = None
    required_tag: Tag | None = None

    @field_validator("starts_at", "ends_at")
    @classmethod
    def _offset(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError(
                f"{info.field_name} must carry a time zone offset, e.g. 2026-12-01T09:00:00+01:00"
            )
        return value

    @field_validator("name", "subject", "channel", "timezone", "release_undelivered_codes")
    @classmethod
    def _not_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:  # runs only for a field that was sent: sent as null
            raise ValueError(f"{info.field_name} cannot be null")
        return value


class CodesIn(_Strict):
    codes: list[Code] = Field(min_length=1, max_length=MAX_CODES_PER_REQUEST)


class CodesLoaded(ApiModel):
    imported: int
    duplicate: int


class Page(ApiModel):
    items: list[dict[str, Any]]
    count: int


class MerchantSettingsIn(_Strict):
    """``PATCH /settings``: what the merchant may change about their account (all optional)."""

    message_event_retention_days: int | None = Field(default=None, ge=1, le=3650)
    notification_email: Email | None = None


class NoticeWebhookIn(_Strict):
    """``PUT /settings/notice-webhook``: where notices are posted. Setting it again (the same URL
    or another) issues a new signing secret."""

    url: HttpUrl = Field(description="https, to a public host")
