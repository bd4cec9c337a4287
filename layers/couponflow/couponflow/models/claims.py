"""The storefront's claim contract: what a claim sends and what it is answered.

Apart from the merchant API's models (``models/api.py``), so the claim function, on the
storefront's path, builds only these at its cold start.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field

from couponflow.domain.emails import InvalidEmail, normalize_email
from couponflow.models.base import ApiModel


def _email(value: str) -> str:
    try:
        return normalize_email(value)
    except InvalidEmail as error:
        raise ValueError(str(error)) from error


Email = Annotated[str, Field(min_length=3, max_length=254), AfterValidator(_email)]


class Channel(StrEnum):
    EMAIL = "email"  # the code is sent by email only
    PAGE = "page"  # the code is shown on the page too (and emailed as a copy)


class ClaimIn(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    email: Email
    name: str | None = Field(default=None, max_length=100)
    marketing_consent: bool = False


class ClaimOut(ApiModel):
    """What a storefront's claim is answered."""

    claim_id: str = Field(description="the claim's id: the same on a repeat, and in the merchant's lists")
    status: str = Field(description="`claimed` or `out_of_coupons`")
    reason: str | None = Field(
        default=None,
        description="why out of coupons: `pool_empty`, `daily_limit`, `not_started`, `ended`, `paused`",
    )
    customer_id: str
    campaign_id: str
    claimed_at: str | None = None
    code: str | None = None
    coupon_url: str | None = None  # page campaigns: the signed coupon link (also in the email)
    message: str
