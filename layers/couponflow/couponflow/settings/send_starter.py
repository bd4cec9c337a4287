"""The send starter's environment."""

from __future__ import annotations

from pydantic import Field

from couponflow.settings import MerchantUrlSettings, TableSettings


class SendStarterSettings(TableSettings, MerchantUrlSettings):  # notice webhooks
    fanout_queue_url: str = Field(alias="FANOUT_QUEUE_URL", min_length=1)
    sender_address: str = Field(alias="SENDER_ADDRESS", min_length=3)
