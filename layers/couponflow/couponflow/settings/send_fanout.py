"""The send fan-out function's environment."""

from __future__ import annotations

from pydantic import Field, HttpUrl

from couponflow.settings import TableSettings


class SendFanoutSettings(TableSettings):
    mail_queue_url: str = Field(alias="MAIL_QUEUE_URL", min_length=1)
    public_base_url: HttpUrl = Field(alias="PUBLIC_BASE_URL")
