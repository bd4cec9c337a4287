"""End to end over HTTP on the running local stack: a daily limit under concurrent claimers,
pause and resume, and a 20,000-code CSV import through the presigned upload, S3's notification,
the import queue and the import function."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.e2e.conftest import Call, Running, run_import

pytestmark = pytest.mark.e2e


def new_campaign(http: Call, codes: list[str], **fields: Any) -> str:
    status, body = http("POST", "/campaigns", {"name": "Pools", "codes": codes, **fields})
    assert status == 201, body
    return str(body["campaign_id"])


def claim(http: Call, local: Running, campaign_id: str, email: str) -> dict[str, Any]:
    path = f"/public/merchants/{local.merchant_id}/campaigns/{campaign_id}/claims"
    status, body = http("POST", path, {"email": email}, key=None)
    assert status in (200, 201), body
    return dict(body)


def test_daily_limit_of_10_gives_10_claims_then_daily_limit_to_concurrent_claimers(http, local):
    campaign_id = new_campaign(http, [f"DAILY-{i:04d}" for i in range(30)], daily_limit=10)
    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(
            pool.map(lambda i: claim(http, local, campaign_id, f"daily{i}@example.com"), range(25))
        )
    claimed = [o for o in outcomes if o["status"] == "claimed"]
    refused = [o for o in outcomes if o["status"] == "out_of_coupons"]
    assert len(claimed) == 10
    assert len(refused) == 15 and {o["reason"] for o in refused} == {"daily_limit"}
    assert claim(http, local, campaign_id, "daily-late@example.com")["reason"] == "daily_limit"


def test_paused_campaign_refuses_with_paused_and_resumed_campaign_claims(http, local):
    campaign_id = new_campaign(http, ["PAUSE-E2E-1"], channel="page")
    status, paused = http("POST", f"/campaigns/{campaign_id}/pause")
    assert (status, paused["paused"]) == (200, True)
    assert claim(http, local, campaign_id, "paused@example.com")["reason"] == "paused"
    status, _ = http("POST", f"/campaigns/{campaign_id}/resume")
    assert status == 200
    assert claim(http, local, campaign_id, "paused@example.com")["code"] == "PAUSE-E2E-1"


def test_csv_import_of_20000_codes_reports_counts_and_progress_and_its_codes_are_claimable(http, local):
    campaign_id = new_campaign(http, ["IMPORT-E2E-000000-ALREADY"])
    rows = [f"IMPORT-E2E-{i:06d}-LOADED" for i in range(20_000)]
    csv = "\n".join(["code", "IMPORT-E2E-000000-ALREADY", *rows, rows[0], "not a code"]).encode()
    seen = run_import(http, f"/campaigns/{campaign_id}/code-imports", csv)
    final = seen[-1]
    assert final["state"] == "done", final
    assert (final["imported"], final["duplicate"], final["invalid"]) == (20_000, 2, 1)
    assert final["progress"] == 1.0 and final["chunks_done"] >= 2  # progress was saved chunk by chunk
    assert all(0.0 <= s["progress"] <= 1.0 for s in seen)
    imported = claim(http, local, campaign_id, "imported-code@example.com")
    assert imported["status"] == "claimed"
