"""The SES events function's environment: event retention and the sending-reputation guard."""

from __future__ import annotations

from pydantic import Field

from couponflow.settings import MerchantUrlSettings, TableSettings


class SesEventsSettings(TableSettings, MerchantUrlSettings):  # notice webhooks
    events_table_name: str = Field(alias="EVENTS_TABLE_NAME", min_length=3)
    message_event_retention_days: int = Field(alias="MESSAGE_EVENT_RETENTION_DAYS", default=180, ge=1)
    sender_address: str = Field(alias="SENDER_ADDRESS", min_length=3)  # for merchant notices
    configuration_set_name: str | None = Field(alias="CONFIGURATION_SET_NAME", default=None)
    bounce_rate_threshold: float = Field(alias="BOUNCE_RATE_THRESHOLD", default=0.02, gt=0, lt=1)
    complaint_rate_threshold: float = Field(alias="COMPLAINT_RATE_THRESHOLD", default=0.0005, gt=0, lt=1)
    reputation_min_messages: int = Field(alias="REPUTATION_MIN_MESSAGES", default=100, ge=1)
    soft_bounce_threshold: int = Field(alias="SOFT_BOUNCE_THRESHOLD", default=3, ge=1)
    soft_bounce_window_days: int = Field(alias="SOFT_BOUNCE_WINDOW_DAYS", default=7, ge=1)
