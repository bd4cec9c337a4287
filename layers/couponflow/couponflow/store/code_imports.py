"""The bulk load of codes into a campaign's pool (the job item is ``store/import_jobs.py``'s).

Codes go in with transactions of ``CODES_PER_TRANSACTION`` codes, two conditional puts each
(registry item, pool entry), plus one counter update per pool shard they land in (so the pool's
count moves with its codes): BatchWriteItem cannot be conditional, and an unconditional write
could put a code that a customer holds back into the pool. A code already in the registry
cancels its transaction; the cancellation names every failed code (with its stored item), those
are counted as duplicates and the rest is sent again. A code that this very chunk wrote before
(a retried chunk: the registry item carries the job and chunk) counts as imported, not duplicate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from couponflow.adapters.dynamodb import Put, Table, TransactAction, TransactionCanceled
from couponflow.store import campaigns, keys
from couponflow.store.import_jobs import JobRef

# two actions per code and up to POOL_SHARDS counter updates: at most 100 actions per transaction
CODES_PER_TRANSACTION = (100 - keys.POOL_SHARDS) // 2


@dataclass(frozen=True)
class Loaded:
    imported: int
    duplicate: int


def load_codes(table: Table, ref: JobRef, codes: Sequence[str], *, chunk: str, now: str) -> Loaded:
    """Put new codes in the registry and the pool; codes seen before (file or pool) are duplicates."""
    if ref.campaign_id is None:
        raise ValueError("codes are loaded into a campaign")
    campaign_id = ref.campaign_id
    unique = list(dict.fromkeys(codes))
    imported, duplicate = 0, len(codes) - len(unique)
    shards: set[int] = set()
    for start in range(0, len(unique), CODES_PER_TRANSACTION):
        pending = unique[start : start + CODES_PER_TRANSACTION]
        while pending:
            actions: list[TransactAction] = []
            for code in pending:
                actions += _code_puts(
                    ref.merchant_id, campaign_id, code, job_id=ref.job_id, chunk=chunk, now=now
                )
            actions += campaigns.pool_count_moves(ref.merchant_id, campaign_id, pending, +1)
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
        campaigns.pool_refilled(table, ref.merchant_id, campaign_id, shards or None)
    return Loaded(imported=imported, duplicate=duplicate)


def _code_puts(
    merchant_id: str, campaign_id: str, code: str, *, job_id: str, chunk: str, now: str
) -> list[Put]:
    registry = {
        **keys.code_registry(merchant_id, campaign_id, code),
        "type": "code",
        "code": code,
        "state": "available",
        "loaded_at": now,
        "import_job": job_id,
        "import_chunk": chunk,
    }
    pool = {**keys.pool_code(merchant_id, campaign_id, code), "type": "pool_code", "code": code}
    return [
        Put(registry, condition="attribute_not_exists(pk)"),
        Put(pool, condition="attribute_not_exists(pk)"),
    ]
