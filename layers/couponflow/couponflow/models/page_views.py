"""Contract of the page-view route: an anonymous visitor id, no email."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from couponflow.models.base import ApiModel


class PageViewIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    visitor_id: str = Field(pattern=r"^[A-Za-z0-9_-]{8,64}$")


class PageViewOut(ApiModel):
    status: str = Field(description="`page_viewed`")
    visitor_id: str
    first_view: bool = Field(description="false when this visitor was counted before")


class PageViewsOut(ApiModel):
    campaign_id: str
    visitors: int = Field(description="anonymous visitors who viewed the page (no email asked)")
