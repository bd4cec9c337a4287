"""End to end over HTTP on the running local stack: a CSV of 3,000 customers goes through the
presigned upload, S3's notification, the import queue and the import function, is counted, and
its recently active customers make up a rule-based segment.

The segment reads the customers index from the recent end (``active_within_days``), so only the
300 recent customers come back: moto serialises a few thousand items of a Query slower than the
API's 10 s timeout on a busy machine, a limit of moto, not of DynamoDB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.conftest import Call, run_import

pytestmark = pytest.mark.e2e

CUSTOMERS = 3000
RECENT = 300


def _csv() -> bytes:
    recent = (datetime.now(UTC) - timedelta(days=3)).replace(microsecond=0).isoformat()
    lapsed = (datetime.now(UTC) - timedelta(days=400)).replace(microsecond=0).isoformat()
    rows = [
        f"Imported{i:05d}@Example.com,Cust{i},e2e-import;newsletter,{recent if i < RECENT else lapsed},yes"
        for i in range(CUSTOMERS)
    ]
    bad = ["not-an-email,Bad,e2e-import,,", ",Nobody,e2e-import,,", rows[0].replace("Cust0", "First")]
    header = "email,first_name,tags,last_interaction_at,marketing_consent"
    return "\n".join([header, *rows, *bad]).encode()


def test_csv_import_of_3000_customers_is_counted_with_progress_and_fills_a_segment(http: Call) -> None:
    seen = run_import(http, "/customers/imports", _csv(), {"format": "csv"})
    final = seen[-1]
    assert final["state"] == "done", final
    assert (final["created"], final["duplicate"], final["invalid"], final["rows"]) == (CUSTOMERS, 1, 2, 3003)
    assert [r["line"] for r in final["invalid_rows"]] == [CUSTOMERS + 2, CUSTOMERS + 3]
    assert final["progress"] == 1.0 and all(0.0 <= s["progress"] <= 1.0 for s in seen)

    rule = {"has_tag": "e2e-import", "active_within_days": 30}
    status, segment = http("POST", "/segments", {"name": "Imported", "rule": rule})
    assert status in (200, 201), segment
    status, got = http("GET", f"/segments/{segment['segment_id']}")
    assert status == 200, got
    assert got["size"] == RECENT
    status, customer = http("GET", "/customers/imported00000@example.com")
    assert (status, customer["first_name"], customer["tags"]) == (200, "First", ["e2e-import", "newsletter"])
