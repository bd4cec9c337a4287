"""Housekeeping's environment, and that of its task that finishes sends."""

from __future__ import annotations

from pydantic import Field, HttpUrl

from couponflow.settings import EnvSettings, MerchantUrlSettings, TableSettings


class HousekeepingSettings(TableSettings, MerchantUrlSettings):  # notice webhooks
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


class SendCompletionSettings(EnvSettings):
    """The housekeeping task that finishes sends: where reports go and who signs the notice."""

    report_bucket: str = Field(alias="REPORT_BUCKET", min_length=3)
    sender_address: str = Field(alias="SENDER_ADDRESS", min_length=3)
    send_grace_minutes: float = Field(alias="SEND_GRACE_MINUTES", default=30, gt=0)
    link_secret_arn: str = Field(alias="LINK_SECRET_ARN", min_length=1)  # signs the report link
    public_base_url: HttpUrl = Field(alias="PUBLIC_BASE_URL")  # where the report link points
