"""Import jobs (codes into a campaign's pool, customers into a merchant's audience) in DynamoDB, and
list export jobs, which the same worker runs the same way (their offset counts parts written).

A job item records what an import has done so far (byte offset in the uploaded file, or index of
the next generated code) with its counts; each chunk's progress is saved with a condition on the
offset it started from, so two deliveries of the same job never count a chunk twice. What the
counts are called is the kind's business (``imported``/``duplicate``/``invalid`` for codes,
``created``/``updated``/``unchanged``/``duplicate``/``invalid`` for customers): a chunk adds to
whichever it names.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from couponflow.adapters.dynamodb import ConditionFailed, Item, Table
from couponflow.errors import NotFoundError
from couponflow.store import keys

RUNNING = "running"
AWAITING_UPLOAD = "awaiting_upload"
DONE = "done"
FAILED = "failed"
EXPORT_JOB_PREFIX = "exp_"  # a list export, run by the same worker (``services/export_jobs.py``)


@dataclass(frozen=True)
class JobRef:
    """A code import belongs to a campaign; a customer import (``campaign_id`` None) to the merchant."""

    merchant_id: str
    campaign_id: str | None
    job_id: str

    @classmethod
    def of(cls, item: Item) -> JobRef:
        return cls(item["merchant_id"], item.get("campaign_id"), item["job_id"])

    @property
    def is_export(self) -> bool:
        return self.job_id.startswith(EXPORT_JOB_PREFIX)

    @property
    def key(self) -> dict[str, str]:
        if self.is_export:
            return keys.export_job(self.merchant_id, self.job_id)
        if self.campaign_id is None:
            return keys.customer_import(self.merchant_id, self.job_id)
        return keys.code_import(self.merchant_id, self.campaign_id, self.job_id)


def create(table: Table, ref: JobRef, fields: dict[str, Any], now: str, counts: tuple[str, ...]) -> Item:
    item = {
        **ref.key,
        "type": _type_of(ref),
        "merchant_id": ref.merchant_id,
        "job_id": ref.job_id,
        "offset": 0,
        "chunks_done": 0,
        "created_at": now,
        "updated_at": now,
        **dict.fromkeys(counts, 0),
        **fields,
    }
    if ref.campaign_id:
        item["campaign_id"] = ref.campaign_id
    table.put(item, condition="attribute_not_exists(pk)")
    return item


def _type_of(ref: JobRef) -> str:
    return "export" if ref.is_export else "code_import" if ref.campaign_id else "customer_import"


def get(table: Table, ref: JobRef) -> Item:
    item = table.get(ref.key)
    if item is None:
        raise NotFoundError(f"{_type_of(ref).replace('_', ' ')} '{ref.job_id}' not found")
    return item


def start(table: Table, ref: JobRef, fields: dict[str, Any], now: str) -> None:
    """Move an uploaded job to running (idempotent: a second start of a running job changes nothing)."""
    sets = ", ".join(f"#{k} = :{k}" for k in fields)
    with contextlib.suppress(ConditionFailed):
        table.update(
            ref.key,
            "SET #state = :running, started_at = if_not_exists(started_at, :now), updated_at = :now"
            + (f", {sets}" if sets else ""),
            condition="#state = :awaiting",
            names={"#state": "state", **{f"#{k}": k for k in fields}},
            values={
                ":running": RUNNING,
                ":awaiting": AWAITING_UPLOAD,
                ":now": now,
                **{f":{k}": v for k, v in fields.items()},
            },
        )


def save_progress(
    table: Table,
    job: Item,
    *,
    new_offset: int,
    counts: Mapping[str, int],
    finished: bool,
    now: str,
    extra: Mapping[str, Any] | None = None,
) -> bool:
    """Record one chunk; False if another worker saved this chunk first (then nothing changes)."""
    extra = extra or {}
    sets = [
        "#offset = :new",
        *[f"#n_{k} = if_not_exists(#n_{k}, :zero) + :n_{k}" for k in counts],
        "chunks_done = chunks_done + :one",
        "updated_at = :now",
        *[f"#x_{k} = :x_{k}" for k in extra],
    ]
    values: dict[str, Any] = {
        ":new": new_offset,
        ":old": job["offset"],
        ":zero": 0,
        ":one": 1,
        ":now": now,
        ":running": RUNNING,
        **{f":n_{k}": v for k, v in counts.items()},
        **{f":x_{k}": v for k, v in extra.items()},
    }
    if finished:
        sets += ["#state = :done", "finished_at = :now"]
        values[":done"] = DONE
    try:
        table.update(
            JobRef.of(job).key,
            "SET " + ", ".join(sets),
            condition="#offset = :old AND #state = :running",
            names={
                "#offset": "offset",
                "#state": "state",
                **{f"#n_{k}": k for k in counts},
                **{f"#x_{k}": k for k in extra},
            },
            values=values,
        )
    except ConditionFailed:
        return False
    return True


def fail(table: Table, job: Item, reason: str, now: str) -> None:
    table.update(
        JobRef.of(job).key,
        "SET #state = :failed, reason = :reason, finished_at = :now, updated_at = :now",
        names={"#state": "state"},
        values={":failed": FAILED, ":reason": reason, ":now": now},
    )
