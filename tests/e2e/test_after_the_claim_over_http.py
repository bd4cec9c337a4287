"""End to end over HTTP on the running local stack: redemptions reported concurrently, and codes
released back to the pool when SES (the mailbox simulator) bounces or drops their email."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.e2e.conftest import Call, Running

pytestmark = pytest.mark.e2e


def eventually(probe: Callable[[], Any], what: str, timeout: float = 120.0) -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"{what} never happened; last seen: {last}")


def new_campaign(http: Call, codes: list[str], **fields: Any) -> str:
    status, body = http("POST", "/campaigns", {"name": "After the claim", "codes": codes, **fields})
    assert status == 201, body
    return str(body["campaign_id"])


def claim(http: Call, local: Running, campaign_id: str, email: str) -> dict[str, Any]:
    path = f"/public/merchants/{local.merchant_id}/campaigns/{campaign_id}/claims"
    status, body = http("POST", path, {"email": email}, key=None)
    assert status == 201 and body["status"] == "claimed", body
    return dict(body)


def claim_status(http: Call, email: str, campaign_id: str) -> str:
    status, customer = http("GET", f"/customers/{email}")
    assert status == 200, customer
    return str(next(c["status"] for c in customer["claims"] if c["campaign_id"] == campaign_id))


def test_concurrent_reports_of_one_code_redeem_it_once_and_all_others_get_the_first_order(http, local):
    campaign_id = new_campaign(http, ["E2E-REDEEM-01"], channel="page")
    code = claim(http, local, campaign_id, "redeem@example.com")["code"]

    def report(n: int) -> tuple[int, Any]:
        return http(
            "POST", "/redemptions", {"campaign_id": campaign_id, "code": code, "order_id": f"order-{n}"}
        )

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(report, range(10)))

    accepted = [body for status, body in answers if status == 200]
    refused = [body for status, body in answers if status == 409]
    assert len(accepted) == 1 and len(refused) == 9
    assert {r["reason"] for r in refused} == {"already_redeemed"}
    assert {r["first_order_id"] for r in refused} == {accepted[0]["order_id"]}
    assert claim_status(http, "redeem@example.com", campaign_id) == "redeemed"


@pytest.mark.parametrize(
    ("email", "why"),
    [
        ("bounce+release@simulator.amazonses.com", "bounced"),
        ("suppressionlist+release@simulator.amazonses.com", "dropped (OnAccountSuppressionList)"),
    ],
)
def test_a_code_whose_email_never_arrived_goes_back_to_the_pool(http, local, email, why):
    campaign_id = new_campaign(http, [f"E2E-REL-{len(why):02d}"])
    claim(http, local, campaign_id, email)

    eventually(lambda: claim_status(http, email, campaign_id) == "released", f"release after {why}")
    status, campaign = http("GET", f"/campaigns/{campaign_id}")
    assert status == 200 and campaign["codes_available"] == 1
    again = claim(http, local, campaign_id, "next+release@example.com")  # someone else gets it
    assert again["status"] == "claimed"
