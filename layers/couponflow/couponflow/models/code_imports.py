"""Contract of code loading at scale: the generation request, the jobs as answered (their shape
shared with customer imports), and the import queue's messages."""

from __future__ import annotations

from urllib.parse import unquote_plus

from pydantic import ConfigDict, Field, field_validator

from couponflow.domain.code_import import MAX_CODES_PER_IMPORT
from couponflow.models.base import ApiModel

DEFAULT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: easy to read out and type


class CodeGenerationIn(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    count: int = Field(ge=1, le=MAX_CODES_PER_IMPORT)
    length: int = Field(default=10, ge=4, le=32)
    alphabet: str = Field(default=DEFAULT_ALPHABET, pattern=r"^[A-Za-z0-9]{2,62}$")
    prefix: str = Field(default="", pattern=r"^([A-Za-z0-9][A-Za-z0-9_-]{0,31})?$")


class ImportContinuation(ApiModel):
    """Run (or go on with) a job: sent for generations, and by a worker whose time ran out.

    A code import names its campaign; a customer import has none (it belongs to the merchant).
    """

    merchant_id: str = Field(min_length=1)
    campaign_id: str | None = Field(default=None, min_length=1)
    job_id: str = Field(min_length=1)


class S3Object(ApiModel):
    key: str
    size: int = 0

    @field_validator("key")
    @classmethod
    def _unquote(cls, value: str) -> str:
        return unquote_plus(value)  # S3 event keys are URL-encoded


class S3Bucket(ApiModel):
    name: str


class S3Entity(ApiModel):
    bucket: S3Bucket
    object: S3Object


class S3EventRecord(ApiModel):
    eventName: str  # noqa: N815 (S3's field name)
    s3: S3Entity


class S3Notification(ApiModel):
    """An S3 event notification delivered to SQS; S3's ``s3:TestEvent`` has no ``Records``."""

    Records: list[S3EventRecord] = Field(default_factory=list)
    Event: str | None = None


class UploadOffer(ApiModel):
    """How to upload the job's file: a presigned PUT, valid ``expires_in`` seconds."""

    url: str
    method: str = "PUT"
    headers: dict[str, str] = Field(description="send these with the PUT (the file's content type)")
    expires_in: int
    max_bytes: int
    max_codes: int | None = None


class ImportJobOut(ApiModel):
    """An import job of codes or of customers: its state, counts and progress."""

    model_config = ConfigDict(extra="ignore")

    job_id: str
    state: str = Field(description="`awaiting_upload`, `running`, `done` or `failed` (with `reason`)")
    reason: str | None = None
    progress: float = Field(ge=0, le=1, description="how far the file (or the generation) is, 0 to 1")
    rows: int | None = None
    total_bytes: int | None = None
    chunks_done: int | None = None
    created_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    upload: UploadOffer | None = Field(default=None, description="on creation of an upload job")


class CodeImportJob(ImportJobOut):
    campaign_id: str
    kind: str = Field(description="`csv` (an uploaded file) or `generate`")
    imported: int = 0
    duplicate: int = 0
    invalid: int = 0
    requested: int | None = Field(default=None, description="codes asked for (a generation)")
