"""Customer imports at scale: a CSV or JSON Lines file of customers, uploaded and run as an async job.

``start_upload`` creates the job and hands back a presigned S3 PUT URL; S3's notification starts
the import function, which runs the job through the shared import machinery
(``services/import_jobs.py``) with the ``customers`` step: read the next chunk of the file into
rows, check each row with the same model and normalisation as a single customer's create
(email lower-cased and validated, phone in E.164), keep the last row of each customer in the
chunk, and upsert them in bulk (``store/customer_imports.py``). The job counts rows ``created``,
``updated``, ``unchanged``, ``duplicate`` (another row for a customer earlier in the file) and
``invalid``, and keeps the first invalid rows with their line and reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from couponflow.adapters.dynamodb import Item, Table
from couponflow.domain.customer_import import (
    COLUMNS,
    EXTENSIONS,
    FORMATS,
    MAX_IMPORT_BYTES,
    MAX_INVALID_SHOWN,
    Chunk,
    FileRejected,
    InvalidRow,
    RawRow,
    read_csv_chunk,
    read_jsonl_chunk,
)
from couponflow.ids import new_id
from couponflow.models.audience import CustomerRowIn
from couponflow.services import import_jobs as jobs
from couponflow.services.audience import customer_fields, id_for
from couponflow.services.import_jobs import FileChunk, JobKind, Step
from couponflow.store import customer_imports, import_jobs
from couponflow.store.import_jobs import JobRef

KIND = "customers"
COUNTS = ("created", "updated", "unchanged", "duplicate", "invalid")
_SHOWN = ("format", *COUNTS, "invalid_rows")


def view(job: Item) -> dict[str, Any]:
    """The job as the merchant sees it: state, counts, the first invalid rows, progress 0..1."""
    shown = jobs.shown(job, _SHOWN)
    shown["import_id"] = job["job_id"]
    shown.setdefault("rows", 0)
    shown.setdefault("invalid_rows", [])
    shown["progress"] = jobs.progress(job)
    return shown


def _reason(line: int, error: ValidationError) -> InvalidRow:
    """The first problem of a row, worded for a merchant: ``field: message``."""
    first = error.errors()[0]
    field = ".".join(str(p) for p in first["loc"] if not isinstance(p, int)) or None
    message = str(first["msg"]).removeprefix("Value error, ")
    if message == "email or phone is required":
        return InvalidRow(line, "missing both email and phone")
    return InvalidRow(line, f"{field}: {message}" if field else message, field)


def check(merchant_id: str, row: RawRow) -> tuple[str, dict[str, Any]] | InvalidRow:
    """A row as the customer id and profile fields to write, or why it is invalid."""
    try:
        customer = CustomerRowIn.model_validate(row.values)
    except ValidationError as error:
        return _reason(row.line, error)
    fields = customer_fields(customer)
    fields["name"] = customer.name or fields["name"]
    fields["marketing_consent"] = customer.marketing_consent
    return id_for(merchant_id, customer), fields


def _merged(earlier: dict[str, Any] | None, later: dict[str, Any]) -> dict[str, Any]:
    """Two rows of one customer as if written one after the other, as rows in two chunks would be:
    the later row's values win, its blanks keep the earlier ones, and the later interaction counts."""
    if earlier is None:
        return later
    merged = {**earlier, **{k: v for k, v in later.items() if v is not None}}
    when = [t for t in (earlier.get("last_interaction_at"), later.get("last_interaction_at")) if t]
    merged["last_interaction_at"] = max(when) if when else None
    return merged


@dataclass(frozen=True)
class CustomerImports:
    table: Table
    bucket: str

    def kinds(self) -> dict[str, JobKind]:
        return {KIND: JobKind(self._chunk, max_bytes=MAX_IMPORT_BYTES)}

    # --- merchant API -----------------------------------------------------------------------

    def start_upload(self, merchant_id: str, file_format: str) -> dict[str, Any]:
        ref = JobRef(merchant_id, None, new_id("cimp"))
        key = jobs.object_key(ref, EXTENSIONS[file_format])
        state = import_jobs.AWAITING_UPLOAD
        fields = {"kind": KIND, "format": file_format, "state": state, "object_key": key}
        job = import_jobs.create(self.table, ref, fields, jobs.now(), COUNTS)
        offer = jobs.upload_offer(self.bucket, key, FORMATS[file_format], max_bytes=MAX_IMPORT_BYTES)
        return {**view(job), "upload": offer, "columns": list(COLUMNS)}

    def get(self, merchant_id: str, job_id: str) -> dict[str, Any]:
        return view(import_jobs.get(self.table, JobRef(merchant_id, None, job_id)))

    # --- import function step ---------------------------------------------------------------

    def _read(self, job: Item, file: FileChunk) -> Chunk:
        first_line = int(job.get("lines", 0)) + 1
        if job.get("format") == "json":
            return read_jsonl_chunk(
                file.data, first_line=first_line, at_file_start=file.at_start, at_file_end=file.at_end
            )
        return read_csv_chunk(
            file.data, columns=job.get("columns"), first_line=first_line, at_file_end=file.at_end
        )

    def _chunk(self, job: Item, file: FileChunk | None) -> Step:
        assert file is not None
        try:
            chunk = self._read(job, file)
        except FileRejected as error:
            return Step(file.offset, failed=str(error))
        merchant_id = job["merchant_id"]
        invalid = list(chunk.invalid)
        latest: dict[str, dict[str, Any]] = {}  # customer id -> their rows in the chunk, merged
        valid = 0
        for row in chunk.rows:
            checked = check(merchant_id, row)
            if isinstance(checked, InvalidRow):
                invalid.append(checked)
                continue
            valid += 1
            cid, fields = checked
            latest[cid] = _merged(latest.get(cid), fields)
        outcomes = customer_imports.upsert(
            self.table, merchant_id, latest, job_id=job["job_id"], chunk=str(file.offset), now=jobs.now()
        )
        shown = list(job.get("invalid_rows", []))
        room = MAX_INVALID_SHOWN - len(shown)
        extra: dict[str, Any] = {
            "rows": int(job.get("rows", 0)) + len(chunk.rows) + len(chunk.invalid),
            "lines": int(job.get("lines", 0)) + chunk.lines,
        }
        if chunk.columns is not None and "columns" not in job:
            extra["columns"] = chunk.columns
        if invalid and room > 0:
            extra["invalid_rows"] = shown + [r.shown() for r in sorted(invalid, key=lambda r: r.line)[:room]]
        counts = {name: outcomes.get(name, 0) for name in COUNTS if name != "invalid"}
        counts["duplicate"] += valid - len(latest)  # earlier rows of a customer in this chunk
        counts["invalid"] = len(invalid)
        return Step(file.offset + chunk.consumed, counts=counts, finished=file.at_end, extra=extra)
