"""List exports of any length as jobs: started through the merchant API, run by the import function
a part at a time (one S3 multipart upload), resumed after a crash or a timeout, and followed to a
download link whose file is the list, row for row, as the inline export writes it."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import urllib.request
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest
from couponflow.adapters.dynamodb import Table
from couponflow.models.audience import CustomerIn
from couponflow.services import audience, list_exports
from couponflow.services.export_jobs import ExportJobs
from couponflow.services.import_jobs import ImportWorker
from couponflow.services.list_exports import Source, View
from couponflow.store import import_jobs
from couponflow.store.import_jobs import JobRef
from pydantic import BaseModel

from tests.integration.helpers import body_of, drain_queue

Api = Callable[..., dict[str, Any]]


@pytest.fixture()
def table(stack: Any) -> Table:
    return Table(stack.physical["CouponflowTable"])


def _download(url: str) -> str:
    with urllib.request.urlopen(url, timeout=60) as answer:
        return str(answer.read().decode("utf-8"))


def test_a_customers_export_job_writes_the_whole_filtered_list_and_links_to_it(
    stack: Any, table: Table, merchant: tuple[str, str], api: Api, run_import_queue: Callable[[], Any]
) -> None:
    m = merchant[0]
    now = datetime.now(UTC)
    people = [
        {
            "email": f"exp{i:04d}@example.com",
            "first_name": f"Name{i}",
            "last_interaction_at": now - timedelta(days=1 + (i % 2) * 400),
        }
        for i in range(240)
    ]
    audience.import_customers(table, m, [CustomerIn.model_validate(p) for p in people])
    drain_queue(stack.physical["CodeImportQueue"])

    started = api(m, "POST", "/exports/customers", "/exports/customers", query={"status": "active"})
    assert started["statusCode"] == 202, started
    job = json.loads(started["body"])
    assert (job["state"], job["view"], job["filters"]) == ("running", "customers", {"status": "active"})
    assert "download_url" not in job or job["download_url"] is None

    run_import_queue()
    done = body_of(api(m, "GET", "/export-jobs/{jobId}", f"/export-jobs/{job['job_id']}"))
    assert (done["state"], done["rows"], done["parts"]) == ("done", 120, 1), done
    assert done["download_expires_in"] == 900

    exported = _download(done["download_url"])
    inline = api(m, "GET", "/exports/customers", "/exports/customers", query={"status": "active"})
    assert exported == inline["body"]  # the same file, row for row
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert len(rows) == 120 and all(r["active"] == "true" for r in rows)


def test_an_export_job_names_what_is_wrong_before_it_starts_and_an_unknown_job_is_a_404(
    merchant: tuple[str, str], api: Api
) -> None:
    m = merchant[0]
    missing = api(m, "POST", "/exports/sends/{sendId}/recipients", "/exports/sends/snd_nope/recipients")
    assert missing["statusCode"] == 404 and json.loads(missing["body"])["message"]
    bad = api(m, "POST", "/exports/customers", "/exports/customers", query={"status": "sleepy"})
    assert bad["statusCode"] == 422 and json.loads(bad["body"])["field"] == "status"
    for job_id in ("exp_nothing", "imp_notanexport"):
        gone = api(m, "GET", "/export-jobs/{jobId}", f"/export-jobs/{job_id}")
        assert gone["statusCode"] == 404, gone


class _Row(BaseModel):
    n: int
    text: str


@dataclasses.dataclass
class _Page:
    items: list[_Row]
    next: str | None


def _synthetic(rows: int) -> Callable[[Table, str, View, Mapping[str, str | None]], Source]:
    """A list of ``rows`` rows of about 1 KB each, paged like a list view."""

    def page(limit: int, after: str | None) -> _Page:
        start = int(after or 0)
        stop = min(rows, start + limit)
        items = [_Row(n=n, text=f"{n:06d}" + "x" * 1000) for n in range(start, stop)]
        return _Page(items, str(stop) if stop < rows else None)

    return lambda *_: Source(page, ["n", "text"], "synthetic")


def test_a_long_export_goes_out_in_parts_survives_a_step_run_twice_and_a_timeout_and_joins_into_one_file(
    stack: Any,
    table: Table,
    merchant: tuple[str, str],
    load_handler: Callable[[str], ModuleType],
) -> None:
    """12,000 rows of 1 KB: three parts of at least 5 MB (S3's least but for the last)."""
    m = merchant[0]
    load_handler("CodeImportFunction")  # the function's environment, for the settings below
    bucket, queue = stack.physical["CodeImportBucket"], stack.physical["CodeImportQueue"]
    exports = ExportJobs(table, bucket, queue, part_bytes=5 * 1024 * 1024, source=_synthetic(12_000))
    worker = ImportWorker(table, bucket, queue, kinds=exports.kinds())
    drain_queue(queue)
    job = exports.start(m, View.CUSTOMERS, {})
    ref = JobRef(m, None, job.job_id)
    assert len(drain_queue(queue)) == 1  # the first step is queued

    # a step that dies before its progress is saved runs again: the same part, uploaded twice
    stored = import_jobs.get(table, ref)
    exports.kinds()["export"].step(stored, None)
    # a worker short of time takes one step and queues the rest
    assert worker.run(ref, lambda: 1_000) == "continued"
    assert len(drain_queue(queue)) == 1
    assert import_jobs.get(table, ref)["offset"] == 1
    assert worker.run(ref, lambda: 900_000) == "done"

    done = exports.get(m, job.job_id)
    assert (done.state, done.rows, done.parts) == ("done", 12_000, 3)
    lines = _download(str(done.download_url)).splitlines()
    assert lines[0] == "n,text" and len(lines) == 12_001
    assert [int(line.split(",")[0]) for line in lines[1:]] == list(range(12_000))


def test_the_inline_export_and_a_part_write_the_same_rows() -> None:
    source = _synthetic(450)(None, "m", View.CUSTOMERS, {})  # type: ignore[arg-type]
    whole = list_exports.export(source)
    first = list_exports.part(source, after=None, header=True, min_bytes=100_000)
    rest = list_exports.part(source, after=first.next, header=False, min_bytes=10**9)
    assert first.next is not None and rest.next is None
    assert first.text + rest.text == whole.text and first.rows + rest.rows == whole.rows == 450
