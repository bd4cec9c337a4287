"""API contract of redemptions: the store reports that a customer used a code."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from couponflow.models.api import CODE_PATTERN
from couponflow.models.base import ApiModel
from couponflow.models.views import ClaimRow


class RedemptionIn(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    campaign_id: str = Field(min_length=1, max_length=64)
    code: str = Field(pattern=CODE_PATTERN)
    order_id: str = Field(min_length=1, max_length=128)


class RedemptionOut(ApiModel):
    status: str = Field(description="`redeemed`")
    order_id: str = Field(description="the order the code was used in (the first report's, on a retry)")
    claim: ClaimRow = Field(description="the claim, now `redeemed`, and whose it is")
