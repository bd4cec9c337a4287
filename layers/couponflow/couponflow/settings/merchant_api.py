"""The merchant API's environment, and where a send's one-time schedule fires (the merchant API
schedules sends)."""

from __future__ import annotations

from pydantic import Field, HttpUrl

from couponflow.settings import EnvSettings, MerchantUrlSettings, TableSettings


class MerchantApiSettings(TableSettings, MerchantUrlSettings):
    events_table_name: str = Field(alias="EVENTS_TABLE_NAME", min_length=3)
    code_import_bucket: str = Field(alias="CODE_IMPORT_BUCKET", min_length=3)
    code_import_queue_url: str = Field(alias="CODE_IMPORT_QUEUE_URL", min_length=1)
    secret_name_prefix: str = Field(alias="SECRET_NAME_PREFIX", min_length=1, default="couponflow")


class SendScheduleSettings(EnvSettings):
    """Where a send's one-time schedule fires: the starter function, through Scheduler's role."""

    schedule_group: str = Field(alias="SEND_SCHEDULE_GROUP", min_length=1)
    starter_arn: str = Field(alias="SEND_STARTER_ARN", min_length=1)
    scheduler_role_arn: str = Field(alias="SEND_SCHEDULER_ROLE_ARN", min_length=1)
    dead_letter_arn: str = Field(alias="SEND_SCHEDULE_DLQ_ARN", min_length=1)
    public_base_url: HttpUrl = Field(alias="PUBLIC_BASE_URL")
