"""Code loading at scale: CSV uploads (up to 1,000,000 codes) and generated codes, as async jobs.

``start_upload`` creates a job and hands back a presigned S3 PUT URL; S3's ObjectCreated
notification reaches the import queue, and the import function runs the job chunk by chunk
(``run``), saving the offset and counts after each chunk, so a crash or a timeout resumes where
it stopped (a worker short of time queues a continuation of the job for itself). A generation
runs through the same path, started by a message on the import queue.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from couponflow.adapters import s3, sqs
from couponflow.adapters.dynamodb import Item, Table
from couponflow.domain.code_import import (
    MAX_CODES_PER_IMPORT,
    MAX_IMPORT_BYTES,
    GenerationError,
    check_generation,
    generate,
    read_chunk,
)
from couponflow.errors import InvalidInputError
from couponflow.ids import new_id
from couponflow.models.code_imports import CodeGenerationIn, ImportContinuation
from couponflow.store import campaigns, code_imports
from couponflow.store.code_imports import JobRef, Loaded

logger = logging.getLogger(__name__)

UPLOAD_CONTENT_TYPE = "text/csv"
UPLOAD_URL_SECONDS = 3600
OBJECT_PREFIX = "code-imports/"
_OBJECT_KEY = re.compile(r"^code-imports/(?P<m>[^/]+)/(?P<c>[^/]+)/(?P<job>imp_[a-z0-9]+)\.csv$")
_SHOWN = (
    "job_id",
    "campaign_id",
    "kind",
    "state",
    "reason",
    "imported",
    "duplicate",
    "invalid",
    "rows",
    "requested",
    "total_bytes",
    "chunks_done",
    "created_at",
    "started_at",
    "finished_at",
)


def object_key(ref: JobRef) -> str:
    return f"{OBJECT_PREFIX}{ref.merchant_id}/{ref.campaign_id}/{ref.job_id}.csv"


def ref_of_object(key: str) -> JobRef | None:
    match = _OBJECT_KEY.match(key)
    return JobRef(match["m"], match["c"], match["job"]) if match else None


def _now() -> str:
    return datetime.now(UTC).isoformat()


def view(job: Item) -> dict[str, Any]:
    """The job as the merchant sees it, with its progress between 0 and 1."""
    shown = {k: job[k] for k in _SHOWN if k in job}
    if job.get("kind") == "generate":
        done = job.get("imported", 0) / max(1, job.get("requested", 1))
    else:
        done = job.get("offset", 0) / job["total_bytes"] if job.get("total_bytes") else 0.0
    shown["progress"] = 1.0 if job.get("state") == code_imports.DONE else round(min(done, 1.0), 4)
    return shown


@dataclass(frozen=True)
class CodeImports:
    table: Table
    bucket: str
    queue_url: str
    chunk_bytes: int = 256 * 1024
    generation_chunk: int = 5000
    reserve_ms: int = 20_000  # stop taking chunks with less time left than this

    # --- merchant API -----------------------------------------------------------------------

    def start_upload(self, merchant_id: str, campaign_id: str) -> dict[str, Any]:
        campaigns.get_item(self.table, merchant_id, campaign_id)  # 404 for an unknown campaign
        ref = JobRef(merchant_id, campaign_id, new_id("imp"))
        key = object_key(ref)
        job = code_imports.create(
            self.table, ref, {"kind": "csv", "state": code_imports.AWAITING_UPLOAD, "object_key": key}, _now()
        )
        url = s3.presigned_put(
            self.bucket, key, content_type=UPLOAD_CONTENT_TYPE, expires_in=UPLOAD_URL_SECONDS
        )
        return {
            **view(job),
            "upload": {
                "url": url,
                "method": "PUT",
                "headers": {"Content-Type": UPLOAD_CONTENT_TYPE},
                "expires_in": UPLOAD_URL_SECONDS,
                "max_codes": MAX_CODES_PER_IMPORT,
                "max_bytes": MAX_IMPORT_BYTES,
            },
        }

    def start_generation(
        self, merchant_id: str, campaign_id: str, request: CodeGenerationIn
    ) -> dict[str, Any]:
        try:
            check_generation(request.count, request.length, request.alphabet, request.prefix)
        except GenerationError as error:
            raise InvalidInputError(str(error), error.field) from error
        campaigns.get_item(self.table, merchant_id, campaign_id)
        ref = JobRef(merchant_id, campaign_id, new_id("imp"))
        fields = {
            "kind": "generate",
            "state": code_imports.RUNNING,
            "requested": request.count,
            "length": request.length,
            "alphabet": request.alphabet,
            "prefix": request.prefix,
            "seed": secrets.token_hex(16),
        }
        job = code_imports.create(self.table, ref, fields, _now())
        sqs.send_json(self.queue_url, ImportContinuation(**ref.__dict__).model_dump())
        return view(job)

    def get(self, merchant_id: str, campaign_id: str, job_id: str) -> dict[str, Any]:
        return view(code_imports.get(self.table, JobRef(merchant_id, campaign_id, job_id)))

    # --- import function --------------------------------------------------------------------

    def on_uploaded(self, key: str, size: int, remaining_ms: Callable[[], int]) -> str:
        """S3 says a file landed; objects that are not an import of ours are ignored (logged)."""
        ref = ref_of_object(key)
        if ref is None:
            logger.warning("object is not a code import; ignored", extra={"key": key})
            return "ignored"
        code_imports.start(self.table, ref, {"total_bytes": size}, _now())
        job = code_imports.get(self.table, ref)
        if size > MAX_IMPORT_BYTES and job["state"] == code_imports.RUNNING:
            code_imports.fail(self.table, job, f"file is larger than {MAX_IMPORT_BYTES} bytes", _now())
            return code_imports.FAILED
        return self.run(ref, remaining_ms)

    def run(self, ref: JobRef, remaining_ms: Callable[[], int]) -> str:
        """Process chunks until the job is done or time runs short (then queue its continuation)."""
        first = True  # every invocation moves the job on by at least one chunk
        while True:
            job = code_imports.get(self.table, ref)
            if job.get("state") != code_imports.RUNNING:
                return str(job.get("state"))
            if not first and remaining_ms() < self.reserve_ms:
                sqs.send_json(self.queue_url, ImportContinuation(**ref.__dict__).model_dump())
                return "continued"
            first = False
            if job["kind"] == "generate":
                self._generate_chunk(ref, job)
            else:
                self._csv_chunk(ref, job)

    def _csv_chunk(self, ref: JobRef, job: Item) -> None:
        offset, total = int(job["offset"]), int(job.get("total_bytes", 0))
        buffer = (
            s3.read_range(self.bucket, job["object_key"], offset, self.chunk_bytes) if offset < total else b""
        )
        at_end = offset + len(buffer) >= total
        chunk = read_chunk(buffer, at_file_start=offset == 0, at_file_end=at_end)
        rows = int(job.get("rows", 0))
        room = MAX_CODES_PER_IMPORT - rows
        codes, over_limit = chunk.codes[:room], max(0, len(chunk.codes) - room)
        loaded = code_imports.load_codes(self.table, ref, codes, chunk=str(offset), now=_now())
        extra: dict[str, Any] = {"rows": rows + len(codes)}
        if over_limit:
            extra["reason"] = f"stopped after {MAX_CODES_PER_IMPORT} codes; the rest of the file was not read"
        code_imports.save_progress(
            self.table,
            job,
            new_offset=offset + chunk.consumed,
            loaded=loaded,
            invalid=chunk.invalid,
            finished=at_end or bool(over_limit),
            now=_now(),
            extra=extra,
        )

    def _generate_chunk(self, ref: JobRef, job: Item) -> None:
        offset, requested, imported = int(job["offset"]), int(job["requested"]), int(job["imported"])
        if offset > 2 * requested + 1000:  # collisions should be rare (see check_generation)
            code_imports.fail(self.table, job, "too many generated codes collided with existing ones", _now())
            return
        count = min(self.generation_chunk, requested - imported)
        codes = list(
            generate(
                job["seed"],
                offset,
                count,
                length=int(job["length"]),
                alphabet=job["alphabet"],
                prefix=job["prefix"],
            )
        )
        loaded: Loaded = code_imports.load_codes(self.table, ref, codes, chunk=str(offset), now=_now())
        code_imports.save_progress(
            self.table,
            job,
            new_offset=offset + count,
            loaded=loaded,
            invalid=0,
            finished=imported + loaded.imported >= requested,
            now=_now(),
        )
