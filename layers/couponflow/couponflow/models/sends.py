"""API contract of scheduled segment sends."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field

from couponflow.domain.audience import Channel
from couponflow.models.api import Template, _template, _timezone
from couponflow.models.base import ApiModel

SMS_MAX = 480  # three concatenated SMS segments


class SendIn(ApiModel):
    """Schedule a send: who (segment), what (campaign and message), how (channel) and when.

    ``send_at`` without an offset is read in ``timezone`` (default: the merchant's time zone).
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    segment_id: str = Field(min_length=1, max_length=64)
    campaign_id: str = Field(min_length=1, max_length=64)
    channel: Channel = Channel.EMAIL
    send_at: datetime
    timezone: Annotated[str | None, AfterValidator(lambda v: v if v is None else _timezone(v))] = None
    subject: Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_template)] = (
        "{{campaign}}: your coupon"
    )
    body: Template = None
    sms_text: Annotated[str, Field(min_length=1, max_length=SMS_MAX), AfterValidator(_template)] = (
        "{{campaign}}: your code {{code}} {{coupon_url}}"
    )
    include_inactive: bool = False
