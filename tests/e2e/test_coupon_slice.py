"""End to end: the whole local stack started from template.yaml, driven over real HTTP.

One coupon travels: the merchant creates a campaign, the storefront claims, the mailer sends
through (moto's) SES, the mailbox simulator publishes SES events through SNS and SQS, and the
merchant reads the statuses back through the API.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from local_stack.stack import TRY_CAMPAIGN, TRY_CLAIM, TRY_CODES

from tests.e2e.conftest import Call, Running

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def new_campaign(http: Call) -> Callable[..., str]:
    def create(codes: list[str], **fields: Any) -> str:
        status, body = http("POST", "/campaigns", {"name": "Flash sale", "codes": codes, **fields})
        assert status == 201, body
        return str(body["campaign_id"])

    return create


def claim(http: Call, local: Running, campaign_id: str, email: str) -> tuple[int, Any]:
    path = f"/public/merchants/{local.merchant_id}/campaigns/{campaign_id}/claims"
    return http("POST", path, {"email": email}, key=None)


def wait_for_message(http: Call, email: str, status: str, timeout: float = 20.0) -> dict[str, Any]:
    """Poll the customers tab until the customer's newest message reaches ``status``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        code, customer = http("GET", f"/customers/{email}")
        if code == 200 and customer["messages"]:
            last = customer["messages"][-1]
            if last["status"] == status:
                return dict(last)
        time.sleep(0.2)
    raise AssertionError(f"message to {email} never became {status}; last seen: {last}")


def test_claimed_coupon_is_emailed_and_delivered(http, local, new_campaign):
    campaign_id = new_campaign(["E2E-OK-01", "E2E-OK-02"], channel="page")
    status, first = claim(http, local, campaign_id, "success@simulator.amazonses.com")
    assert status == 201 and first["status"] == "claimed"

    message = wait_for_message(http, "success@simulator.amazonses.com", "delivered")
    assert [e["event_type"] for e in message["events"]] == ["send", "delivery"]
    assert message["code"] == first["code"]
    assert message["ses_message_id"]

    status, again = claim(http, local, campaign_id, "Success@Simulator.AmazonSES.com")
    assert status == 200 and again["code"] == first["code"]


def test_bounce_shows_bounce_type_and_smtp_diagnostic(http, local, new_campaign):
    campaign_id = new_campaign(["E2E-BO-01"])
    claim(http, local, campaign_id, "bounce@simulator.amazonses.com")
    message = wait_for_message(http, "bounce@simulator.amazonses.com", "bounced")
    details = message["status_details"]
    assert (details["bounce_type"], details["bounce_sub_type"]) == ("Permanent", "General")
    assert details["status"] == "5.1.1"
    assert "550 5.1.1" in details["diagnostic_code"]


def test_complaint_is_shown_as_complained(http, local, new_campaign):
    campaign_id = new_campaign(["E2E-CO-01"])
    claim(http, local, campaign_id, "complaint@simulator.amazonses.com")
    message = wait_for_message(http, "complaint@simulator.amazonses.com", "complained")
    assert message["status_details"]["feedback_type"] == "abuse"


def test_account_suppression_list_is_dropped_not_bounced(http, local, new_campaign):
    campaign_id = new_campaign(["E2E-SU-01"])
    claim(http, local, campaign_id, "suppressionlist@simulator.amazonses.com")
    message = wait_for_message(http, "suppressionlist@simulator.amazonses.com", "dropped")
    assert message["status_details"]["bounce_sub_type"] == "OnAccountSuppressionList"


def test_hard_bounced_address_is_dropped_on_its_next_coupon_without_ses(http, local, new_campaign):
    first = new_campaign(["E2E-HB-01"])
    claim(http, local, first, "bounce+again@simulator.amazonses.com")
    wait_for_message(http, "bounce+again@simulator.amazonses.com", "bounced")
    second = new_campaign(["E2E-HB-02"])
    claim(http, local, second, "bounce+again@simulator.amazonses.com")
    message = wait_for_message(http, "bounce+again@simulator.amazonses.com", "dropped")
    assert message["status_details"]["suppression_reason"] == "hard_bounce"
    assert message["events"] == []  # never handed to SES, so SES never said anything about it


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"email": "not an email"}, 422, "email"),
        ({}, 422, "email"),
        ({"email": "a@example.com", "extra": True}, 422, "extra"),
    ],
)
def test_bad_claims_get_4xx_naming_the_field(http, local, new_campaign, body, status, field):
    campaign_id = new_campaign(["E2E-BAD-01"])
    code, answer = http(
        "POST", f"/public/merchants/{local.merchant_id}/campaigns/{campaign_id}/claims", body, key=None
    )
    assert (code, answer["field"]) == (status, field)


def test_malformed_and_oversized_bodies_are_refused(http, local, new_campaign):
    campaign_id = new_campaign(["E2E-BAD-02"])
    path = f"/public/merchants/{local.merchant_id}/campaigns/{campaign_id}/claims"
    code, answer = http("POST", path, raw=b'{"email": ', key=None)
    assert (code, answer["field"]) == (400, "body") and "not valid JSON" in answer["message"]
    code, answer = http(
        "POST", path, raw=json.dumps({"email": "a@example.com", "name": "x" * 40_000}).encode(), key=None
    )
    assert code == 413 and answer["field"] == "body"


def test_unknown_campaign_is_404(http, local):
    code, answer = claim(http, local, "cmp_nope", "a@example.com")
    assert code == 404 and "campaign" in answer["message"]


def test_merchant_routes_need_a_valid_key(http):
    assert http("GET", "/customers/a@example.com", key=None)[0] == 401
    assert http("GET", "/customers/a@example.com", key="Bearer nonsense")[0] == 401
    forged = "Bearer cf_m0000000000000000_" + "A" * 43
    assert http("GET", "/customers/a@example.com", key=forged)[0] == 403


def test_unparseable_ses_event_reaches_the_dlq_while_good_ones_apply(local, http, new_campaign):
    sqs = boto3.client(
        "sqs",
        endpoint_url=local.moto_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    queue, dlq = local.resources["SesEventsQueue"], local.resources["SesEventsDeadLetterQueue"]
    sqs.send_message(QueueUrl=queue, MessageBody="this is not an SES event")
    campaign_id = new_campaign(["E2E-DLQ-01"])
    claim(http, local, campaign_id, "success+dlq@simulator.amazonses.com")
    wait_for_message(http, "success+dlq@simulator.amazonses.com", "delivered")
    deadline = time.monotonic() + 30
    bodies: list[str] = []
    while time.monotonic() < deadline and "this is not an SES event" not in bodies:
        got = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        bodies += [m["Body"] for m in got]
    assert "this is not an SES event" in bodies


def test_concurrent_claims_never_hand_out_a_code_twice(http, local, new_campaign):
    codes = [f"E2E-RUSH-{i:03d}" for i in range(100)]
    campaign_id = new_campaign(codes, channel="page")
    emails = [f"rush{i}@example.com" for i in range(200)]
    with ThreadPoolExecutor(max_workers=32) as pool:
        answers = list(pool.map(lambda e: claim(http, local, campaign_id, e), emails))
    assert {status for status, _ in answers} <= {200, 201}
    given = [a["code"] for _, a in answers if a["status"] == "claimed"]
    assert len(given) == 100 and set(given) == set(codes)
    refused = [a for _, a in answers if a["status"] == "out_of_coupons"]
    assert len(refused) == 100 and {a["reason"] for a in refused} == {"pool_empty"}


def test_concurrent_identical_claims_get_one_code(http, local, new_campaign):
    campaign_id = new_campaign([f"E2E-SAME-{i:02d}" for i in range(10)], channel="page")
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(lambda _: claim(http, local, campaign_id, "same@example.com"), range(20)))
    codes = {a["code"] for _, a in answers}
    assert len(codes) == 1 and None not in codes
    assert sorted(s for s, _ in answers).count(201) == 1


def test_the_try_it_commands_make_run_prints_work_as_printed(http, local):
    """`make run` prints curl commands to try the stack; their bodies are accepted as they are."""
    status, campaign = http("POST", "/campaigns", TRY_CAMPAIGN)
    assert status == 201, campaign
    status, loaded = http("POST", f"/campaigns/{campaign['campaign_id']}/codes", TRY_CODES)
    assert status in (200, 201), loaded
    path = f"/public/merchants/{local.merchant_id}/campaigns/{campaign['campaign_id']}/claims"
    status, claimed = http("POST", path, TRY_CLAIM, key=None)
    assert (status, claimed["status"]) == (201, "claimed"), claimed


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b'{"name": "\xff\xfe"}', "not UTF-8"),
        (b'{"emai', "not valid JSON"),
        (b"[" * 5000 + b"]" * 5000, "nests deeper"),
        (b'{"name": "x", "daily_limit": ' + b"9" * 30 + b"}", "64 bits"),
        (b'{"name": "x", "daily_limit": NaN}', "not a JSON number"),
    ],
    ids=["invalid-utf8", "truncated", "deeply-nested", "huge-integer", "nan"],
)
def test_any_unreadable_body_gets_a_400_naming_the_body_on_every_json_route(http, local, raw, words):
    for method, path, key in (
        ("POST", "/campaigns", "demo"),
        ("PUT", "/integrations/email-provider", "demo"),
        ("POST", f"/public/merchants/{local.merchant_id}/campaigns/cmp_x/claims", None),
    ):
        code, answer = http(method, path, raw=raw, key=key)
        assert (code, answer["field"]) == (400, "body"), (method, path, answer)
        assert words in answer["message"]


def test_a_body_that_is_not_json_gets_415_with_a_message(local):
    request = urllib.request.Request(
        local.api_url + "/campaigns",
        data=b"name=x",
        method="POST",
        headers={"Content-Type": "text/plain", "Authorization": f"Bearer {local.api_key}"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=60)
    assert refused.value.code == 415
    assert json.loads(refused.value.read())["message"] == "send the body as application/json"


def test_the_openapi_document_and_swagger_ui_are_served_without_a_key(http, local):
    code, document = http("GET", "/openapi.json", key=None)
    assert code == 200 and document["openapi"].startswith("3.1")
    assert "/public/merchants/{merchant_id}/campaigns/{campaign_id}/claims" in document["paths"]
    with urllib.request.urlopen(local.api_url + "/docs", timeout=60) as page:
        html = page.read().decode()
    assert page.status == 200 and "SwaggerUIBundle" in html and "Couponflow API" in html
