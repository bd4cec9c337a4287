"""End to end: a storefront's coupon email goes out within seconds while a segment send's backlog
drains, on the local stack at a small SES rate (4 a second).

Claims' emails have a queue of their own (``ClaimMailQueue``) and a segment send leaves them a
share of every second of the SES rate (``domain.send_pacing.lane_budget``), so a claim's email
never waits behind the send's queued emails. The send here has 120 recipients: about 40 s of
backlog at the send's 3 a second.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from local_stack import LocalStack, moto_patches

from tests.e2e.conftest import Call, in_process_stack, stack_http

pytestmark = pytest.mark.e2e
SIM = "simulator.amazonses.com"
RECIPIENTS = 120
SEND_RATE = 4.0
WAIT = 300.0  # a liveness bound for a loaded 2-core machine; the claim's own wait is checked below


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> Iterator[LocalStack]:
    rate = moto_patches.SEND_QUOTA["MaxSendRate"]
    moto_patches.SEND_QUOTA["MaxSendRate"] = SEND_RATE
    try:
        with in_process_stack(
            tmp_path_factory.mktemp("lanes"), "couponflow-e2e-lanes", pytestconfig
        ) as running:
            yield running
    finally:
        moto_patches.SEND_QUOTA["MaxSendRate"] = rate


def ok(answer: tuple[int, Any], status: int = 200) -> Any:
    assert answer[0] == status, answer
    return answer[1]


def wait_for(check: Any, what: str, timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"{what} did not happen within {timeout} s")


def tracker(http: Call, send_id: str) -> dict[str, int]:
    """The send's recipients by tracker status (``initiated``: still queued)."""
    counts: dict[str, int] = {}
    after = None
    while True:
        page = ok(http("GET", f"/sends/{send_id}/recipients?limit=200" + (f"&next={after}" if after else "")))
        for row in page["items"]:
            counts[row["status"]] = counts.get(row["status"], 0) + 1
        after = page.get("next")
        if not after:
            return counts


def test_a_claims_email_goes_out_while_a_segment_sends_backlog_is_still_queued(stack: LocalStack) -> None:
    http = stack_http(stack)
    recent = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    people = [{"email": f"success+lane{i}@{SIM}", "last_interaction_at": recent} for i in range(RECIPIENTS)]
    assert ok(http("POST", "/customers/import", {"customers": people}))["imported"] == RECIPIENTS
    segment = ok(http("POST", "/segments", {"name": "Everyone"}), 201)["segment_id"]
    ok(http("POST", f"/segments/{segment}/members", {"customers": [p["email"] for p in people]}))
    codes = [f"LANE-{i:04d}" for i in range(RECIPIENTS)]
    newsletter = ok(http("POST", "/campaigns", {"name": "Newsletter", "codes": codes}), 201)["campaign_id"]
    storefront = ok(http("POST", "/campaigns", {"name": "Storefront", "codes": ["SHOP-0001"]}), 201)
    send_at = (datetime.now(UTC) + timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    send = ok(
        http(
            "POST",
            "/sends",
            {"segment_id": segment, "campaign_id": newsletter, "send_at": send_at.isoformat()},
        ),
        201,
    )

    stack.clock.offset = (send_at - datetime.now(UTC)).total_seconds() + 1  # the scheduler fires it
    wait_for(  # the send is draining: some of its emails went, most still wait for the SES rate
        lambda: (
            (t := tracker(http, send["send_id"])).get("initiated", 0) >= RECIPIENTS // 2
            and sum(t.values()) == RECIPIENTS
            and t.get("initiated", 0) < RECIPIENTS
        ),
        "the send's backlog building",
    )

    claimed_at = time.monotonic()
    email = f"success+storefront@{SIM}"
    path = f"/public/merchants/{stack.merchant_id}/campaigns/{storefront['campaign_id']}/claims"
    ok(http("POST", path, {"email": email}, key=None), 201)

    def claim_email_sent() -> bool:
        messages = ok(http("GET", f"/customers/{email}"))["messages"]
        return bool(messages) and messages[0]["status"] not in ("queued",)

    wait_for(claim_email_sent, "the claim's coupon email handed to SES")
    waited = time.monotonic() - claimed_at
    still_queued = tracker(http, send["send_id"]).get("initiated", 0)

    assert still_queued > 0, "the claim's email waited until the send's backlog had drained"
    assert ok(http("GET", f"/customers/{email}"))["messages"][0]["status"] in ("sent", "delivered")
    print(
        f"claim email handed to SES {waited:.1f} s after the claim, {still_queued} of the send still queued"
    )
