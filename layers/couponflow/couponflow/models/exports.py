"""What the export jobs answer (``services/export_jobs.py``)."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from couponflow.models.base import ApiModel


class ExportJob(ApiModel):
    """A list export of any length, written to one CSV file; its link once done."""

    model_config = ConfigDict(extra="ignore")

    job_id: str
    view: str = Field(description="`customers`, `campaign_customers` or `send_recipients`")
    filters: dict[str, str] = Field(default={}, description="the list's filters, as its route took them")
    state: str = Field(description="`running`, `done` or `failed` (with `reason`)")
    reason: str | None = None
    rows: int = Field(default=0, description="rows written so far")
    parts: int = Field(default=0, description="parts of the file written so far")
    created_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    download_url: str | None = Field(
        default=None, description="once done: the CSV file, a link valid for `download_expires_in` seconds"
    )
    download_expires_in: int | None = None
