"""The bulk upsert of imported customers: one BatchGetItem per 100 customers to tell created from
updated from unchanged, then transactions of up to 100 writes (nothing for unchanged customers).

Writes are conditional, so nothing a claim, an update or an unsubscribe wrote meanwhile is lost:
a new customer is a Put only if the profile does not exist (BatchWriteItem cannot be
conditional, and an unconditional put would wipe a profile a claim created a moment before);
an existing one is an Update of the imported fields only, never ``unsubscribed_at`` (an import
never resubscribes anyone) nor a field the row leaves blank. A cancelled transaction (a profile
appeared or changed in between) is read and decided again.

Every written profile records ``last_import`` (``<job>#<chunk>#<outcome>``, one string: a map
would make every later read of the profile cost more): a chunk retried after a crash finds its
own writes and counts them as it did the first time, and a second row for the same customer in a
later chunk of the same file counts ``duplicate`` (the last row still wins).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from couponflow.adapters.dynamodb import Item, Put, Table, TransactAction, TransactionCanceled, Update
from couponflow.errors import RetryableError
from couponflow.store import keys

WRITES_PER_TRANSACTION = 100
_ATTEMPTS = 5

CREATED = "created"
UPDATED = "updated"
UNCHANGED = "unchanged"
DUPLICATE = "duplicate"


def _decide(
    merchant_id: str,
    customer_id: str,
    fields: Mapping[str, Any],
    stored: Item | None,
    *,
    stamp: str,
    now: str,
) -> tuple[str, TransactAction | None]:
    """The outcome for one customer and the write it takes (None when nothing changes)."""
    given = {k: v for k, v in fields.items() if v is not None}
    key = keys.customer(merchant_id, customer_id)
    search = keys.customer_search_index(
        merchant_id, customer_id, email=given.get("email"), name=given.get("name")
    )
    if stored is None:
        index = {
            **keys.customers_index(merchant_id, customer_id, given.get("last_interaction_at")),
            **search,
        }
        item = {
            **key,
            **index,
            **given,
            "type": "customer",
            "merchant_id": merchant_id,
            "customer_id": customer_id,
            "created_at": now,
            "updated_at": now,
            "last_import": f"{stamp}#{CREATED}",
        }
        return CREATED, Put(item, condition="attribute_not_exists(pk)")
    earlier_job, _, earlier_chunk_outcome = str(stored.get("last_import") or "##").partition("#")
    earlier_chunk, _, earlier_outcome = earlier_chunk_outcome.partition("#")
    if f"{earlier_job}#{earlier_chunk}" == stamp:
        return earlier_outcome or UPDATED, None  # this very chunk wrote it on an earlier try
    kept = stored.get("last_interaction_at")
    if kept and given.get("last_interaction_at") and given["last_interaction_at"] < kept:
        del given["last_interaction_at"]  # an older file never makes a customer look less recent
    latest = given.get("last_interaction_at") or kept
    index = {**keys.customers_index(merchant_id, customer_id, latest), **search}
    changes = {k: v for k, v in {**given, **index}.items() if stored.get(k) != v}
    same_file = earlier_job == stamp.partition("#")[0]
    outcome = DUPLICATE if same_file else (UPDATED if changes else UNCHANGED)
    if not changes:
        return outcome, None
    sets = {**changes, "updated_at": now, "last_import": f"{stamp}#{outcome}"}
    names = {f"#f{i}": name for i, name in enumerate(sets)}
    values = {f":f{i}": value for i, value in enumerate(sets.values())}
    expression = "SET " + ", ".join(f"#f{i} = :f{i}" for i in range(len(sets)))
    return outcome, Update(key, expression, condition="attribute_exists(pk)", names=names, values=values)


def upsert(
    table: Table,
    merchant_id: str,
    customers: Mapping[str, Mapping[str, Any]],
    *,
    job_id: str,
    chunk: str,
    now: str,
) -> Counter[str]:
    """Create or update ``customers`` (customer id -> fields); the count of each outcome."""
    outcomes: Counter[str] = Counter()
    stamp = f"{job_id}#{chunk}"
    pending = list(customers)
    for _ in range(_ATTEMPTS):
        if not pending:
            return outcomes
        stored = _read(table, merchant_id, pending)
        retry: list[str] = []
        decided = [
            (cid, *_decide(merchant_id, cid, customers[cid], stored.get(cid), stamp=stamp, now=now))
            for cid in pending
        ]
        for _, outcome, write in decided:
            if write is None:
                outcomes[outcome] += 1
        writes = [(cid, outcome, write) for cid, outcome, write in decided if write is not None]
        for start in range(0, len(writes), WRITES_PER_TRANSACTION):
            group = writes[start : start + WRITES_PER_TRANSACTION]
            while group:
                try:
                    table.transact([write for _, _, write in group])
                except TransactionCanceled as canceled:
                    refused = {i for i in range(len(group)) if canceled.failed(i)}
                    if not refused:
                        raise
                    retry += [group[i][0] for i in sorted(refused)]  # decided again on fresh reads
                    group = [g for i, g in enumerate(group) if i not in refused]
                    continue
                outcomes.update(outcome for _, outcome, _ in group)
                group = []
        pending = retry
    if pending:
        raise RetryableError(f"{len(pending)} customers changed under the import {_ATTEMPTS} times")
    return outcomes


def _read(table: Table, merchant_id: str, customer_ids: Sequence[str]) -> dict[str, Item]:
    """The stored profiles among ``customer_ids`` (strongly consistent: a retried chunk sees its writes)."""
    by_pk = {keys.customer_partition(merchant_id, cid): cid for cid in customer_ids}
    found = table.batch_get([keys.customer(merchant_id, cid) for cid in customer_ids], consistent=True)
    return {by_pk[item["pk"]]: item for item in found}
