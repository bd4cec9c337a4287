"""End to end on the running local stack: a burst of complaints pauses the campaign, and
unparseable SES-events records end in the SES-events dead-letter queue after their retries."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest

from tests.e2e.conftest import Call, Running

pytestmark = pytest.mark.e2e


def claim(http: Call, local: Running, campaign_id: str, email: str) -> tuple[int, Any]:
    path = f"/public/merchants/{local.merchant_id}/campaigns/{campaign_id}/claims"
    return http("POST", path, {"email": email}, key=None)


def wait_for_stats(http: Call, campaign_id: str, done: Any, timeout: float = 90.0) -> dict[str, Any]:
    """Poll the campaign's stats until ``done(stats)`` holds; the last stats otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        status, body = http("GET", f"/campaigns/{campaign_id}/stats")
        assert status == 200, body
        if done(body) or time.monotonic() > deadline:
            return dict(body)
        time.sleep(0.3)


def test_a_burst_of_complaints_pauses_the_campaign_and_later_claims_answer_paused(local, http):
    codes = [f"E2E-REP-{i:03d}" for i in range(110)]
    status, created = http("POST", "/campaigns", {"name": "Reputation", "codes": codes})
    assert status == 201, created
    campaign_id = created["campaign_id"]
    delivered = [f"success+rep{i}@simulator.amazonses.com" for i in range(100)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda e: claim(http, local, campaign_id, e), delivered))
    assert {a["status"] for _, a in answers} == {"claimed"}
    before = wait_for_stats(http, campaign_id, lambda s: s["counts"]["delivered"] >= 100)
    assert before["counts"]["delivered"] == 100 and before["paused"] is False

    for i in range(3):
        assert (
            claim(http, local, campaign_id, f"complaint+rep{i}@simulator.amazonses.com")[1]["status"]
            == "claimed"
        )
    after = wait_for_stats(http, campaign_id, lambda s: s["paused"])

    assert after["paused"] is True and after["paused_reason"] == "complaint_rate"
    assert after["counts"]["complained"] >= 1 and after["complaint_rate"] > 0.0005
    status, refused = claim(http, local, campaign_id, "success+late@simulator.amazonses.com")
    assert (refused["status"], refused["reason"]) == ("out_of_coupons", "paused")
    status, suppression = http("GET", "/suppressions/complaint+rep0@simulator.amazonses.com")
    deadline = time.monotonic() + 30
    while status == 404 and time.monotonic() < deadline:
        time.sleep(0.3)
        status, suppression = http("GET", "/suppressions/complaint+rep0@simulator.amazonses.com")
    assert status == 200 and suppression["reason"] == "complaint"


def test_three_unparseable_ses_records_end_in_the_dead_letter_queue(local):
    sqs = boto3.client(
        "sqs",
        endpoint_url=local.moto_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    queue, dlq = local.resources["SesEventsQueue"], local.resources["SesEventsDeadLetterQueue"]
    junk = {"not json at all", "{}", '{"Type": "Notification", "Message": "{"}'}
    for body in junk:
        sqs.send_message(QueueUrl=queue, MessageBody=body)

    deadline = time.monotonic() + 60
    seen: list[str] = []
    while time.monotonic() < deadline and not junk <= set(seen):
        got = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        seen += [m["Body"] for m in got]

    assert sorted(b for b in seen if b in junk) == sorted(junk)
