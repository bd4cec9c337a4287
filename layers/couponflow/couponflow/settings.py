"""Environment of each function as a pydantic model, validated once at cold start.

Domain code never reads ``os.environ``; handlers load their settings here and pass plain values on.
"""

from __future__ import annotations

import os
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, HttpUrl


class _EnvSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True, defer_build=True)

    @classmethod
    def from_env(cls) -> Self:
        """Validate the process environment; a missing or bad variable fails the cold start loudly."""
        return cls.model_validate(dict(os.environ))


class TableSettings(_EnvSettings):
    table_name: str = Field(alias="TABLE_NAME", min_length=3)


class ClaimSettings(TableSettings):
    mail_queue_url: str = Field(alias="MAIL_QUEUE_URL", min_length=1)
    integration_queue_url: str | None = Field(alias="INTEGRATION_QUEUE_URL", default=None)
    provider_lookup_ttl_seconds: float = Field(alias="PROVIDER_LOOKUP_TTL_SECONDS", default=60, ge=0)
    link_secret_arn: str = Field(alias="LINK_SECRET_ARN", min_length=1)  # signs coupon/unsubscribe links
    report_bucket: str = Field(alias="REPORT_BUCKET", min_length=3)  # failure reports behind report links


class MerchantApiSettings(TableSettings):
    events_table_name: str = Field(alias="EVENTS_TABLE_NAME", min_length=3)
    code_import_bucket: str = Field(alias="CODE_IMPORT_BUCKET", min_length=3)
    code_import_queue_url: str = Field(alias="CODE_IMPORT_QUEUE_URL", min_length=1)
    secret_name_prefix: str = Field(alias="SECRET_NAME_PREFIX", min_length=1, default="couponflow")
    # Merchant-set provider URLs may be http or reach internal hosts (local stack and tests only).
    allow_private_provider_hosts: bool = Field(alias="ALLOW_PRIVATE_PROVIDER_HOSTS", default=False)


class AuthorizerSettings(TableSettings):
    pass


class MailerSettings(TableSettings):
    sender_address: str = Field(alias="SENDER_ADDRESS", min_length=3)
    configuration_set_name: str = Field(alias="CONFIGURATION_SET_NAME", min_length=1)
    public_base_url: HttpUrl = Field(alias="PUBLIC_BASE_URL")
    link_secret_arn: str = Field(alias="LINK_SECRET_ARN", min_length=1)  # signs coupon/unsubscribe links
    # SES's identity notifications are routed to the SES events topic too: index SES's ids for them
    ses_identity_notifications: bool = Field(alias="SES_IDENTITY_NOTIFICATIONS", default=False)


class SesEventsSettings(TableSettings):
    events_table_name: str = Field(alias="EVENTS_TABLE_NAME", min_length=3)
    message_event_retention_days: int = Field(alias="MESSAGE_EVENT_RETENTION_DAYS", default=180, ge=1)
    sender_address: str = Field(alias="SENDER_ADDRESS", min_length=3)  # for merchant notices
    configuration_set_name: str | None = Field(alias="CONFIGURATION_SET_NAME", default=None)
    bounce_rate_threshold: float = Field(alias="BOUNCE_RATE_THRESHOLD", default=0.02, gt=0, lt=1)
    complaint_rate_threshold: float = Field(alias="COMPLAINT_RATE_THRESHOLD", default=0.0005, gt=0, lt=1)
    reputation_min_messages: int = Field(alias="REPUTATION_MIN_MESSAGES", default=100, ge=1)
    soft_bounce_threshold: int = Field(alias="SOFT_BOUNCE_THRESHOLD", default=3, ge=1)
    soft_bounce_window_days: int = Field(alias="SOFT_BOUNCE_WINDOW_DAYS", default=7, ge=1)


class SmsReceiptsSettings(TableSettings):
    events_table_name: str = Field(alias="EVENTS_TABLE_NAME", min_length=3)
    message_event_retention_days: int = Field(alias="MESSAGE_EVENT_RETENTION_DAYS", default=180, ge=1)


class CodeImportSettings(TableSettings):
    bucket: str = Field(alias="CODE_IMPORT_BUCKET", min_length=3)
    queue_url: str = Field(alias="CODE_IMPORT_QUEUE_URL", min_length=1)
    chunk_bytes: int = Field(alias="CODE_IMPORT_CHUNK_BYTES", default=256 * 1024, ge=1024)
    max_receives: int = Field(alias="IMPORT_MAX_RECEIVES", default=5, ge=1)  # the queue's maxReceiveCount


class HousekeepingSettings(TableSettings):
    mail_queue_url: str = Field(alias="MAIL_QUEUE_URL", min_length=1)
    outbox_grace_minutes: float = Field(alias="OUTBOX_GRACE_MINUTES", default=5, gt=0)
    sender_address: str = Field(alias="SENDER_ADDRESS", min_length=3)  # merchant notifications (pool alerts)
    configuration_set_name: str = Field(alias="CONFIGURATION_SET_NAME", min_length=1)
    stale_message_hours: int = Field(alias="STALE_MESSAGE_HOURS", default=72, ge=1)
    # a message whose hand-off to SES had no answer becomes `unknown` when no event came by then
    unknown_outcome_minutes: float = Field(alias="UNKNOWN_OUTCOME_MINUTES", default=60, gt=0)
    integration_queue_url: str = Field(alias="INTEGRATION_QUEUE_URL", min_length=1)  # sync re-queues
    pending_sync_minutes: int = Field(alias="PENDING_SYNC_MINUTES", default=15, ge=1)
    pending_sync_max_requeues: int = Field(alias="PENDING_SYNC_MAX_REQUEUES", default=3, ge=0)


class ProviderSyncSettings(TableSettings):
    max_attempts: int = Field(alias="PROVIDER_SYNC_MAX_ATTEMPTS", default=5, ge=1)
    allow_private_provider_hosts: bool = Field(alias="ALLOW_PRIVATE_PROVIDER_HOSTS", default=False)


class SendScheduleSettings(_EnvSettings):
    """Where a send's one-time schedule fires: the starter function, through Scheduler's role."""

    schedule_group: str = Field(alias="SEND_SCHEDULE_GROUP", min_length=1)
    starter_arn: str = Field(alias="SEND_STARTER_ARN", min_length=1)
    scheduler_role_arn: str = Field(alias="SEND_SCHEDULER_ROLE_ARN", min_length=1)
    dead_letter_arn: str = Field(alias="SEND_SCHEDULE_DLQ_ARN", min_length=1)
    public_base_url: HttpUrl = Field(alias="PUBLIC_BASE_URL")


class SendStarterSettings(TableSettings):
    fanout_queue_url: str = Field(alias="FANOUT_QUEUE_URL", min_length=1)
    sender_address: str = Field(alias="SENDER_ADDRESS", min_length=3)


class SendFanoutSettings(TableSettings):
    mail_queue_url: str = Field(alias="MAIL_QUEUE_URL", min_length=1)
    public_base_url: HttpUrl = Field(alias="PUBLIC_BASE_URL")


class SendCompletionSettings(_EnvSettings):
    """The housekeeping task that finishes sends: where reports go and who signs the notice."""

    report_bucket: str = Field(alias="REPORT_BUCKET", min_length=3)
    sender_address: str = Field(alias="SENDER_ADDRESS", min_length=3)
    send_grace_minutes: float = Field(alias="SEND_GRACE_MINUTES", default=30, gt=0)
    link_secret_arn: str = Field(alias="LINK_SECRET_ARN", min_length=1)  # signs the report link
    public_base_url: HttpUrl = Field(alias="PUBLIC_BASE_URL")  # where the report link points
