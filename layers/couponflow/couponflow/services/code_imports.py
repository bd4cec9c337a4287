"""Code loading at scale: CSV uploads (up to 1,000,000 codes) and generated codes, as async jobs.

``start_upload`` creates a job and hands back a presigned S3 PUT URL; the import function runs
it through the shared import machinery (``services/import_jobs.py``) with the steps of
``kinds()``: ``csv`` reads the next chunk of the file, ``generate`` derives the next codes from
the job's seed. A generation is started by a message on the import queue instead of an upload.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

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
from couponflow.models.code_imports import CodeGenerationIn
from couponflow.services import import_jobs as jobs
from couponflow.services.import_jobs import FileChunk, JobKind, Step
from couponflow.store import campaigns, code_imports, import_jobs
from couponflow.store.import_jobs import JobRef

UPLOAD_CONTENT_TYPE = "text/csv"
COUNTS = ("imported", "duplicate", "invalid")
_SHOWN = ("campaign_id", "kind", *COUNTS, "requested")


def view(job: Item) -> dict[str, Any]:
    """The job as the merchant sees it, with its progress between 0 and 1."""
    shown = jobs.shown(job, _SHOWN)
    if job.get("kind") == "generate":
        done = job.get("imported", 0) / max(1, job.get("requested", 1))
        shown["progress"] = 1.0 if job.get("state") == import_jobs.DONE else round(min(done, 1.0), 4)
    else:
        shown["progress"] = jobs.progress(job)
    return shown


@dataclass(frozen=True)
class CodeImports:
    table: Table
    bucket: str
    queue_url: str
    generation_chunk: int = 5000

    def kinds(self) -> dict[str, JobKind]:
        return {
            "csv": JobKind(self._csv_chunk, max_bytes=MAX_IMPORT_BYTES),
            "generate": JobKind(self._generate_chunk, reads_file=False),
        }

    # --- merchant API -----------------------------------------------------------------------

    def start_upload(self, merchant_id: str, campaign_id: str) -> dict[str, Any]:
        campaigns.get_item(self.table, merchant_id, campaign_id)  # 404 for an unknown campaign
        ref = JobRef(merchant_id, campaign_id, new_id("imp"))
        key = jobs.object_key(ref)
        fields = {"kind": "csv", "state": import_jobs.AWAITING_UPLOAD, "object_key": key}
        job = import_jobs.create(self.table, ref, fields, jobs.now(), COUNTS)
        offer = jobs.upload_offer(
            self.bucket, key, UPLOAD_CONTENT_TYPE, max_codes=MAX_CODES_PER_IMPORT, max_bytes=MAX_IMPORT_BYTES
        )
        return {**view(job), "upload": offer}

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
            "state": import_jobs.RUNNING,
            "requested": request.count,
            "length": request.length,
            "alphabet": request.alphabet,
            "prefix": request.prefix,
            "seed": secrets.token_hex(16),
        }
        job = import_jobs.create(self.table, ref, fields, jobs.now(), COUNTS)
        jobs.continue_later(self.queue_url, ref)
        return view(job)

    def get(self, merchant_id: str, campaign_id: str, job_id: str) -> dict[str, Any]:
        return view(import_jobs.get(self.table, JobRef(merchant_id, campaign_id, job_id)))

    # --- import function steps --------------------------------------------------------------

    def _csv_chunk(self, job: Item, file: FileChunk | None) -> Step:
        assert file is not None
        chunk = read_chunk(file.data, at_file_start=file.at_start, at_file_end=file.at_end)
        rows = int(job.get("rows", 0))
        room = MAX_CODES_PER_IMPORT - rows
        codes, over_limit = chunk.codes[:room], max(0, len(chunk.codes) - room)
        ref = JobRef.of(job)
        loaded = code_imports.load_codes(self.table, ref, codes, chunk=str(file.offset), now=jobs.now())
        extra: dict[str, Any] = {"rows": rows + len(codes)}
        if over_limit:
            extra["reason"] = f"stopped after {MAX_CODES_PER_IMPORT} codes; the rest of the file was not read"
        return Step(
            new_offset=file.offset + chunk.consumed,
            counts={"imported": loaded.imported, "duplicate": loaded.duplicate, "invalid": chunk.invalid},
            finished=file.at_end or bool(over_limit),
            extra=extra,
        )

    def _generate_chunk(self, job: Item, _file: FileChunk | None) -> Step:
        offset, requested, imported = int(job["offset"]), int(job["requested"]), int(job["imported"])
        if offset > 2 * requested + 1000:  # collisions should be rare (see check_generation)
            return Step(offset, failed="too many generated codes collided with existing ones")
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
        loaded = code_imports.load_codes(self.table, JobRef.of(job), codes, chunk=str(offset), now=jobs.now())
        return Step(
            new_offset=offset + count,
            counts={"imported": loaded.imported, "duplicate": loaded.duplicate},
            finished=imported + loaded.imported >= requested,
        )
