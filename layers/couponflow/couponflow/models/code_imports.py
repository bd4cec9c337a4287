"""Contract of code loading at scale: the generation request, and the import queue's messages."""

from __future__ import annotations

from urllib.parse import unquote_plus

from pydantic import BaseModel, ConfigDict, Field, field_validator

from couponflow.domain.code_import import MAX_CODES_PER_IMPORT

DEFAULT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: easy to read out and type


class CodeGenerationIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    count: int = Field(ge=1, le=MAX_CODES_PER_IMPORT)
    length: int = Field(default=10, ge=4, le=32)
    alphabet: str = Field(default=DEFAULT_ALPHABET, pattern=r"^[A-Za-z0-9]{2,62}$")
    prefix: str = Field(default="", pattern=r"^([A-Za-z0-9][A-Za-z0-9_-]{0,31})?$")


class ImportContinuation(BaseModel):
    """Run (or go on with) a job: sent for generations, and by a worker whose time ran out.

    A code import names its campaign; a customer import has none (it belongs to the merchant).
    """

    merchant_id: str = Field(min_length=1)
    campaign_id: str | None = Field(default=None, min_length=1)
    job_id: str = Field(min_length=1)


class S3Object(BaseModel):
    key: str
    size: int = 0

    @field_validator("key")
    @classmethod
    def _unquote(cls, value: str) -> str:
        return unquote_plus(value)  # S3 event keys are URL-encoded


class S3Bucket(BaseModel):
    name: str


class S3Entity(BaseModel):
    bucket: S3Bucket
    object: S3Object


class S3EventRecord(BaseModel):
    eventName: str  # noqa: N815 (S3's field name)
    s3: S3Entity


class S3Notification(BaseModel):
    """An S3 event notification delivered to SQS; S3's ``s3:TestEvent`` has no ``Records``."""

    Records: list[S3EventRecord] = Field(default_factory=list)
    Event: str | None = None
