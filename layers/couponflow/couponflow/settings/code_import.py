"""The code import function's environment: where uploaded code files arrive, and in what chunks."""

from __future__ import annotations

from pydantic import Field

from couponflow.settings import TableSettings


class CodeImportSettings(TableSettings):
    bucket: str = Field(alias="CODE_IMPORT_BUCKET", min_length=3)
    queue_url: str = Field(alias="CODE_IMPORT_QUEUE_URL", min_length=1)
    chunk_bytes: int = Field(alias="CODE_IMPORT_CHUNK_BYTES", default=256 * 1024, ge=1024)
    max_receives: int = Field(alias="IMPORT_MAX_RECEIVES", default=5, ge=1)  # the queue's maxReceiveCount
