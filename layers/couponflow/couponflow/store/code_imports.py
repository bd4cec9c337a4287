"""Code import jobs and the bulk load of codes into a campaign's pool.

A job item records what an import has done so far (byte offset in the file, or index of the next
generated code) with its counts; each chunk's progress is saved with a condition on the offset
it started from, so two deliveries of the same job never count a chunk twice.

Codes go in with transactions of ``CODES_PER_TRANSACTION`` codes, two conditional puts each
(registry item, pool entry), plus one counter update per pool shard they land in (so the pool's
count moves with its codes): BatchWriteItem cannot be conditional, and an unconditional write
could put a code that a customer holds back into the pool. A code already in the registry
cancels its transaction; the cancellation names every failed code (with its stored item), those
are counted as duplicates and the rest is sent again. A code that this very chunk wrote before
(a retried chunk: the registry item carries the job and chunk) counts as imported, not duplicate.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from couponflow.adapters.dynamodb import (
    ConditionFailed,
    Item,
    Put,
    Table,
    TransactAction,
    TransactionCanceled,
)
from couponflow.errors import NotFoundError
from couponflow.store import campaigns, keys

# two actions per code and up to POOL_SHARDS counter updates: at most 100 actions per transaction
CODES_PER_TRANSACTION = (100 - keys.POOL_SHARDS) // 2

RUNNING = "running"
AWAITING_UPLOAD = "awaiting_upload"
DONE = "done"
FAILED = "failed"


@dataclass(frozen=True)
class JobRef:
    merchant_id: str
    campaign_id: str
    job_id: str

    @classmethod
    def of(cls, item: Item) -> JobRef:
        return cls(item["merchant_id"], item["campaign_id"], item["job_id"])

    @property
    def key(self) -> dict[str, str]:
        return keys.code_import(self.merchant_id, self.campaign_id, self.job_id)


@dataclass(frozen=True)
class Loaded:
    imported: int
    duplicate: int


def create(table: Table, ref: JobRef, fields: dict[str, Any], now: str) -> Item:
    item = {
        **ref.key,
        "type": "code_import",
        "merchant_id": ref.merchant_id,
        "campaign_id": ref.campaign_id,
        "job_id": ref.job_id,
        "offset": 0,
        "imported": 0,
        "duplicate": 0,
        "invalid": 0,
        "chunks_done": 0,
        "created_at": now,
        "updated_at": now,
        **fields,
    }
    table.put(item, condition="attribute_not_exists(pk)")
    return item


def get(table: Table, ref: JobRef) -> Item:
    item = table.get(ref.key)
    if item is None:
        raise NotFoundError(f"code import '{ref.job_id}' not found")
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
    loaded: Loaded,
    invalid: int,
    finished: bool,
    now: str,
    extra: dict[str, Any] | None = None,
) -> bool:
    """Record one chunk; False if another worker saved this chunk first (then nothing changes)."""
    extra = extra or {}
    sets = [
        "#offset = :new",
        "imported = imported + :imp",
        "duplicate = duplicate + :dup",
        "invalid = invalid + :inv",
        "chunks_done = chunks_done + :one",
        "updated_at = :now",
        *[f"#{k} = :{k}" for k in extra],
    ]
    values: dict[str, Any] = {
        ":new": new_offset,
        ":old": job["offset"],
        ":imp": loaded.imported,
        ":dup": loaded.duplicate,
        ":inv": invalid,
        ":one": 1,
        ":now": now,
        ":running": RUNNING,
        **{f":{k}": v for k, v in extra.items()},
    }
    if finished:
        sets += ["#state = :done", "finished_at = :now"]
        values[":done"] = DONE
    try:
        table.update(
            JobRef.of(job).key,
            "SET " + ", ".join(sets),
            condition="#offset = :old AND #state = :running",
            names={"#offset": "offset", "#state": "state", **{f"#{k}": k for k in extra}},
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


def load_codes(table: Table, ref: JobRef, codes: Sequence[str], *, chunk: str, now: str) -> Loaded:
    """Put new codes in the registry and the pool; codes seen before (file or pool) are duplicates."""
    unique = list(dict.fromkeys(codes))
    imported, duplicate = 0, len(codes) - len(unique)
    shards: set[int] = set()
    for start in range(0, len(unique), CODES_PER_TRANSACTION):
        pending = unique[start : start + CODES_PER_TRANSACTION]
        while pending:
            actions: list[TransactAction] = []
            for code in pending:
                actions += _code_puts(ref, code, chunk, now)
            actions += campaigns.pool_count_moves(ref.merchant_id, ref.campaign_id, pending, +1)
            try:
                table.transact(actions)
            except TransactionCanceled as canceled:
                refused = set()
                for i, code in enumerate(pending):
                    if canceled.failed(2 * i) or canceled.failed(2 * i + 1):
                        refused.add(code)
                        held = canceled.items[2 * i] if 2 * i < len(canceled.items) else None
                        if (
                            held
                            and held.get("import_job") == ref.job_id
                            and held.get("import_chunk") == chunk
                        ):
                            imported += 1  # this chunk wrote it on an earlier try
                            shards.add(keys.pool_shard_of(code))
                        else:
                            duplicate += 1
                if not refused:  # a cancellation we cannot attribute: let the job retry the chunk
                    raise
                pending = [c for c in pending if c not in refused]
                continue
            imported += len(pending)
            shards.update(keys.pool_shard_of(code) for code in pending)
            pending = []
    if imported:
        campaigns.pool_refilled(table, ref.merchant_id, ref.campaign_id, shards or None)
    return Loaded(imported=imported, duplicate=duplicate)


def _code_puts(ref: JobRef, code: str, chunk: str, now: str) -> list[Put]:
    registry = {
        **keys.code_registry(ref.merchant_id, ref.campaign_id, code),
        "type": "code",
        "code": code,
        "state": "available",
        "loaded_at": now,
        "import_job": ref.job_id,
        "import_chunk": chunk,
    }
    pool = {**keys.pool_code(ref.merchant_id, ref.campaign_id, code), "type": "pool_code", "code": code}
    return [
        Put(registry, condition="attribute_not_exists(pk)"),
        Put(pool, condition="attribute_not_exists(pk)"),
    ]
