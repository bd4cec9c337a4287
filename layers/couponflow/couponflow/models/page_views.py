"""Contract of the page-view route: an anonymous visitor id, no email."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class PageViewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    visitor_id: str = Field(pattern=r"^[A-Za-z0-9_-]{8,64}$")
