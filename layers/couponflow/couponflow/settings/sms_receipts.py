"""The SMS delivery receipts function's environment."""

from __future__ import annotations

from pydantic import Field

from couponflow.settings import TableSettings


class SmsReceiptsSettings(TableSettings):
    events_table_name: str = Field(alias="EVENTS_TABLE_NAME", min_length=3)
    message_event_retention_days: int = Field(alias="MESSAGE_EVENT_RETENTION_DAYS", default=180, ge=1)
