"""List exports of any length, as jobs: the customers tab, a campaign's customers, a send's tracker.

An inline export (``GET /exports/...``) answers 5,000 rows at a time. A job (``POST`` to the same
route) writes the whole list to one CSV in S3 and gives a download link once done:

- the merchant API creates the job (``running``) and queues it on the import queue; the import
  function runs it like every import job (``services/import_jobs.py``): a step at a time, the
  progress saved after each with a condition on the step it started from, a continuation queued
  when its time runs short;
- a step reads the list's own pages from the saved cursor until it has at least ``part_bytes``
  of CSV (or the list ends) and uploads them as the next part of one S3 multipart upload (the
  job's offset counts the parts); the last step joins the parts into the file. A step run twice
  (a crash before its progress was saved) uploads the same part number again, which replaces it;
- ``GET /export-jobs/{id}`` shows the job and, once done, a presigned link to the file valid for
  15 minutes (asked again, a fresh one); the file is kept 7 days (the bucket's lifecycle rule).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from couponflow import ids
from couponflow.adapters import s3
from couponflow.adapters.dynamodb import Item, Table
from couponflow.errors import NotFoundError
from couponflow.models.exports import ExportJob
from couponflow.services import import_jobs as jobs
from couponflow.services import list_exports
from couponflow.services.import_jobs import FileChunk, JobKind, Step
from couponflow.services.list_exports import View
from couponflow.store import import_jobs
from couponflow.store.import_jobs import JobRef

PREFIX = "exports/"
PART_BYTES = 8 * 1024 * 1024  # S3 takes parts of 5 MB and up (but the last)
LINK_SECONDS = 900
KIND = "export"
SHOWN = ("view", "filters")


@dataclass(frozen=True)
class ExportJobs:
    table: Table
    bucket: str
    queue_url: str
    part_bytes: int = PART_BYTES
    # the list a job writes (a test gives its own)
    source: Callable[[Table, str, View, Mapping[str, str | None]], list_exports.Source] = list_exports.source

    def kinds(self) -> dict[str, JobKind]:
        return {KIND: JobKind(self._step, reads_file=False)}

    def start(self, merchant_id: str, view: View, filters: Mapping[str, str | None]) -> ExportJob:
        """Create the job and queue its first step; the job as the merchant sees it."""
        given = {k: v for k, v in filters.items() if v is not None}
        self.source(self.table, merchant_id, view, given).page(1, None)  # a 404 or 400 now, not later
        ref = JobRef(merchant_id, None, ids.new_id(import_jobs.EXPORT_JOB_PREFIX.rstrip("_")))
        fields = {
            "kind": KIND,
            "state": import_jobs.RUNNING,
            "view": str(view),
            "filters": given,
            "object_key": f"{PREFIX}{merchant_id}/{ref.job_id}.csv",
            "started_at": jobs.now(),
        }
        job = import_jobs.create(self.table, ref, fields, jobs.now(), ("rows",))
        jobs.continue_later(self.queue_url, ref)
        return self.shown(job)

    def get(self, merchant_id: str, job_id: str) -> ExportJob:
        if not job_id.startswith(import_jobs.EXPORT_JOB_PREFIX):
            raise NotFoundError(f"export '{job_id}' not found")
        return self.shown(import_jobs.get(self.table, JobRef(merchant_id, None, job_id)))

    def shown(self, job: Item) -> ExportJob:
        out = {**jobs.shown(job, SHOWN), "parts": int(job.get("offset", 0))}
        if job.get("state") == import_jobs.DONE:
            out["download_url"] = s3.presigned_get(self.bucket, job["object_key"], expires_in=LINK_SECONDS)
            out["download_expires_in"] = LINK_SECONDS
        return ExportJob.model_validate(out)

    def _step(self, job: Item, _file: FileChunk | None) -> Step:
        number = int(job["offset"]) + 1
        source = self.source(self.table, job["merchant_id"], View(job["view"]), job["filters"])
        written = list_exports.part(
            source, after=job.get("cursor") or None, header=number == 1, min_bytes=self.part_bytes
        )
        key = str(job["object_key"])
        upload_id = job.get("upload_id") or s3.start_upload(self.bucket, key, filename=f"{source.name}.csv")
        etags = [
            *job.get("etags", []),
            s3.upload_part(self.bucket, key, upload_id, number, written.text.encode()),
        ]
        done = written.next is None
        if done:
            s3.finish_upload(self.bucket, key, upload_id, etags)
        return Step(
            new_offset=number,
            counts={"rows": written.rows},
            finished=done,
            extra={"cursor": written.next or "", "upload_id": upload_id, "etags": etags},
        )
