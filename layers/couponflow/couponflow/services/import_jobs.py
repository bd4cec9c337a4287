"""Import jobs at scale, whatever they load: the upload, the S3 notification and the chunked run.

A merchant API call creates a job and hands back a presigned S3 PUT URL (``upload_offer``); S3's
ObjectCreated notification reaches the import queue, and the import function runs the job chunk
by chunk (``ImportWorker.run``), saving the offset and counts after each chunk, so a crash or a
timeout resumes where it stopped (a worker short of time queues a continuation of the job for
itself). What a chunk does is the job kind's business: each kind (``csv`` and ``generate`` for
codes, ``customers``) gives a step that turns the job and the next bytes of its file into a
:class:`Step`; the worker reads, saves and loops the same way for all of them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from couponflow.adapters import s3, sqs
from couponflow.adapters.dynamodb import Item, Table
from couponflow.models.code_imports import ImportContinuation
from couponflow.store import import_jobs
from couponflow.store.import_jobs import JobRef

logger = logging.getLogger(__name__)

UPLOAD_URL_SECONDS = 3600
CODE_PREFIX = "code-imports/"
CUSTOMER_PREFIX = "customer-imports/"
_CODE_OBJECT = re.compile(r"^code-imports/(?P<m>[^/]+)/(?P<c>[^/]+)/(?P<job>imp_[a-z0-9]+)\.csv$")
_CUSTOMER_OBJECT = re.compile(r"^customer-imports/(?P<m>[^/]+)/(?P<job>cimp_[a-z0-9]+)\.(?:csv|jsonl)$")


def object_key(ref: JobRef, extension: str = "csv") -> str:
    if ref.campaign_id is None:
        return f"{CUSTOMER_PREFIX}{ref.merchant_id}/{ref.job_id}.{extension}"
    return f"{CODE_PREFIX}{ref.merchant_id}/{ref.campaign_id}/{ref.job_id}.{extension}"


def ref_of_object(key: str) -> JobRef | None:
    if match := _CODE_OBJECT.match(key):
        return JobRef(match["m"], match["c"], match["job"])
    if match := _CUSTOMER_OBJECT.match(key):
        return JobRef(match["m"], None, match["job"])
    return None


def now() -> str:
    return datetime.now(UTC).isoformat()


# What every import job shows its merchant, besides the fields and counts of its kind.
SHOWN = (
    "job_id",
    "state",
    "reason",
    "rows",
    "total_bytes",
    "chunks_done",
    "created_at",
    "started_at",
    "finished_at",
)


def shown(job: Item, fields: Iterable[str]) -> dict[str, Any]:
    """The job's fields the merchant sees: ``SHOWN``, then those of its kind (counts and the like)."""
    return {k: job[k] for k in (*SHOWN, *fields) if k in job}


def progress(job: Item) -> float:
    """How far a file import has read its file, between 0 and 1 (1 once done)."""
    if job.get("state") == import_jobs.DONE:
        return 1.0
    done = job.get("offset", 0) / job["total_bytes"] if job.get("total_bytes") else 0.0
    return round(min(done, 1.0), 4)


def upload_offer(bucket: str, key: str, content_type: str, **limits: int) -> dict[str, Any]:
    """How the merchant uploads the job's file: a presigned PUT, valid for an hour."""
    url = s3.presigned_put(bucket, key, content_type=content_type, expires_in=UPLOAD_URL_SECONDS)
    return {
        "url": url,
        "method": "PUT",
        "headers": {"Content-Type": content_type},
        "expires_in": UPLOAD_URL_SECONDS,
        **limits,
    }


def continue_later(queue_url: str, ref: JobRef) -> None:
    sqs.send_json(queue_url, ImportContinuation(**ref.__dict__).model_dump(exclude_none=True))


@dataclass(frozen=True)
class FileChunk:
    """The next bytes of a job's file from its offset (up to the chunk size)."""

    data: bytes
    offset: int
    at_start: bool
    at_end: bool


@dataclass(frozen=True)
class Step:
    """What one chunk did: the offset to go on from, counts to add, fields to set, done or failed."""

    new_offset: int
    counts: Mapping[str, int] = field(default_factory=dict)
    finished: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)
    failed: str | None = None  # the job cannot go on (a malformed file...): why


StepFn = Callable[[Item, FileChunk | None], Step]


@dataclass(frozen=True)
class JobKind:
    step: StepFn
    reads_file: bool = True
    max_bytes: int = 0  # an uploaded file larger than this fails at once (0: no limit)


@dataclass(frozen=True)
class ImportWorker:
    """The import function's loop, for every kind of job."""

    table: Table
    bucket: str
    queue_url: str
    kinds: Mapping[str, JobKind]
    chunk_bytes: int = 256 * 1024
    reserve_ms: int = 20_000  # stop taking chunks with less time left than this

    def on_uploaded(
        self, key: str, size: int, remaining_ms: Callable[[], int], *, last_attempt: bool = False
    ) -> str:
        """S3 says a file landed; objects that are not an import of ours are ignored (logged)."""
        ref = ref_of_object(key)
        if ref is None:
            logger.warning("object is not an import; ignored", extra={"key": key})
            return "ignored"
        import_jobs.start(self.table, ref, {"total_bytes": size}, now())
        job = import_jobs.get(self.table, ref)
        limit = self._kind(job).max_bytes
        if limit and size > limit and job["state"] == import_jobs.RUNNING:
            import_jobs.fail(self.table, job, f"file is larger than {limit} bytes", now())
            return import_jobs.FAILED
        return self.run(ref, remaining_ms, last_attempt=last_attempt)

    def run(self, ref: JobRef, remaining_ms: Callable[[], int], *, last_attempt: bool = False) -> str:
        """Process chunks until the job is done or time runs short (then queue its continuation).

        An error is raised for the queue to retry the message; on its ``last_attempt`` (the next
        failure parks it in the dead-letter queue) the job is marked ``failed`` with the error first,
        so the merchant never watches a job that will not move stay ``running``.
        """
        try:
            return self._run(ref, remaining_ms)
        except Exception as error:
            if last_attempt:
                job = import_jobs.get(self.table, ref)
                if job.get("state") == import_jobs.RUNNING:
                    import_jobs.fail(self.table, job, f"the import stopped on an error: {error}", now())
            raise

    def _run(self, ref: JobRef, remaining_ms: Callable[[], int]) -> str:
        first = True  # every invocation moves the job on by at least one chunk
        while True:
            job = import_jobs.get(self.table, ref)
            if job.get("state") != import_jobs.RUNNING:
                return str(job.get("state"))
            if not first and remaining_ms() < self.reserve_ms:
                continue_later(self.queue_url, ref)
                return "continued"
            first = False
            kind = self._kind(job)
            step = kind.step(job, self._read(job) if kind.reads_file else None)
            if step.failed:
                logger.warning("import failed", extra={"job_id": ref.job_id, "reason": step.failed})
                import_jobs.fail(self.table, job, step.failed, now())
                continue
            import_jobs.save_progress(
                self.table,
                job,
                new_offset=step.new_offset,
                counts=step.counts,
                finished=step.finished,
                now=now(),
                extra=step.extra,
            )

    def _kind(self, job: Item) -> JobKind:
        kind = self.kinds.get(str(job.get("kind")))
        if kind is None:
            raise ValueError(f"import job of unknown kind {job.get('kind')!r}")
        return kind

    def _read(self, job: Item) -> FileChunk:
        offset, total = int(job["offset"]), int(job.get("total_bytes", 0))
        data = b""
        if offset < total:
            data = s3.read_range(self.bucket, job["object_key"], offset, self.chunk_bytes)
        return FileChunk(data, offset, at_start=offset == 0, at_end=offset + len(data) >= total)
