"""Customer import benchmark: a CSV of N customers (20,000 by default) imported in-process against
moto, through the import worker exactly as the import function runs it (S3 ranged reads, chunks,
checkpoints), then the same file again.

Prints (never asserts): rows per second, and DynamoDB requests per 1,000 rows by operation, for
the first import (every row a new customer: BatchGetItem to tell created from updated, then
transactions of 100 conditional puts) and the re-import (every row unchanged: reads only).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import boto3
from couponflow.adapters.dynamodb import Table
from couponflow.services.customer_imports import COUNTS, KIND, CustomerImports
from couponflow.services.import_jobs import ImportWorker, object_key
from couponflow.store import import_jobs
from couponflow.store.import_jobs import JobRef


class Meter(Protocol):
    requests: Any

    def reset(self) -> None: ...


def _csv(count: int) -> bytes:
    base = datetime(2026, 11, 1, tzinfo=UTC)
    rows = [
        f"bench{i:06d}@example.com,+1415{i:07d},First{i},Last{i},bench;tier{i % 4},"
        f"{(base - timedelta(hours=i)).isoformat()},{'yes' if i % 2 else 'no'}"
        for i in range(count)
    ]
    header = "email,phone,first_name,last_name,tags,last_interaction_at,marketing_consent"
    return "\n".join([header, *rows]).encode()


def _import(stack: Any, worker: ImportWorker, merchant_id: str, job_id: str, body: bytes) -> dict[str, Any]:
    ref = JobRef(merchant_id, None, job_id)
    key = object_key(ref, "csv")
    fields = {"kind": KIND, "format": "csv", "state": import_jobs.AWAITING_UPLOAD, "object_key": key}
    import_jobs.create(worker.table, ref, fields, datetime.now(UTC).isoformat(), COUNTS)
    boto3.client("s3").put_object(Bucket=worker.bucket, Key=key, Body=body)
    worker.on_uploaded(key, len(body), lambda: 900_000)
    return import_jobs.get(worker.table, ref)


def _report(label: str, meter: Meter, count: int, elapsed: float, job: dict[str, Any]) -> None:
    total = sum(meter.requests.values())
    by_operation = ", ".join(f"{op} {n * 1000 / count:.1f}" for op, n in sorted(meter.requests.items()))
    counts = ", ".join(f"{c} {job.get(c, 0)}" for c in COUNTS)
    print(
        f"  {label}: {count / elapsed:,.0f} rows/s ({elapsed:.1f} s; {job['chunks_done']} chunks; {counts}); "
        f"DynamoDB requests per 1,000 rows: {total * 1000 / count:.1f} ({by_operation})"
    )


def bench_customer_imports(stack: Any, meter: Meter, count: int) -> None:
    table = Table(stack.physical["CouponflowTable"])
    bucket, queue = stack.physical["CodeImportBucket"], stack.physical["CodeImportQueue"]
    worker = ImportWorker(table, bucket, queue, CustomerImports(table, bucket).kinds())
    body = _csv(count)
    print(f"customer import, {count:,} rows ({len(body) / 1e6:.1f} MB CSV), in-process on moto:")
    for label, job_id in (("first import", "cimp_bench000001"), ("same file again", "cimp_bench000002")):
        meter.reset()
        started = time.perf_counter()
        job = _import(stack, worker, "mbenchcustomers0", job_id, body)
        _report(label, meter, count, time.perf_counter() - started, job)
