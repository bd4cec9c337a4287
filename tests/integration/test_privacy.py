"""A customer's export and erasure: everything stored about them comes out; erased, nothing
names them anywhere, and their code stays accounted for (held, redeemable by the store)."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

import boto3
import pytest

from tests.integration.helpers import claim_event, drain_queue, merchant_event, sqs_event


@pytest.fixture()
def call(load_handler: Callable[[str], ModuleType], lambda_context: Any) -> Callable[..., tuple[int, Any]]:
    module = load_handler("MerchantApiFunction")

    def run(merchant_id: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        response = module.lambda_handler(
            merchant_event(merchant_id, method, path, path, body), lambda_context
        )
        return response["statusCode"], json.loads(response["body"])

    return run


def _dump(stack: Any) -> str:
    """Every item of both tables, as text: what a search for the address would find."""
    found = []
    for name in ("CouponflowTable", "MessageEventsTable"):
        pages = boto3.client("dynamodb").get_paginator("scan").paginate(TableName=stack.physical[name])
        found += [item for page in pages for item in page["Items"]]
    return json.dumps(found)


def test_an_erased_customer_leaves_no_trace_and_their_code_stays_held_and_redeemable(
    stack, merchant, call, load_handler, lambda_context
):
    m = merchant[0]
    email = "erase.me@example.com"
    status, campaign = call(m, "POST", "/campaigns", {"name": "Erasure", "codes": ["ERASE-001"]})
    claim = load_handler("ClaimFunction")
    answer = claim.lambda_handler(
        claim_event(m, campaign["campaign_id"], {"email": email, "name": "Era Sure"}), lambda_context
    )
    assert answer["statusCode"] == 201
    mailer = load_handler("MailerFunction")
    for body in drain_queue(stack.physical["ClaimMailQueue"]):
        mailer.lambda_handler(sqs_event([json.dumps(body)]), lambda_context)
    status, segment = call(m, "POST", "/segments", {"name": "Erasable"})
    call(m, "POST", f"/segments/{segment['segment_id']}/members", {"customers": [email]})

    status, exported = call(m, "GET", f"/customers/{email}/export")
    assert status == 200, exported
    assert exported["profile"]["email"] == email and exported["lists"] == [segment["segment_id"]]
    assert [c["code"] for c in exported["claims"]] == ["ERASE-001"]
    assert exported["messages"] and exported["messages"][0]["status"] == "sent"
    assert not [k for k in exported["profile"] if "pk" in k or "sk" in k]  # names, not an id's letters
    assert email in _dump(stack)

    status, erased = call(m, "DELETE", f"/customers/{email}")
    assert status == 200, erased
    assert erased["claims_kept_anonymously"] == 1 and erased["messages_deleted"] == 1
    dump = _dump(stack)
    assert email not in dump and "Era Sure" not in dump and exported["customer_id"] not in dump
    assert call(m, "GET", f"/customers/{email}")[0] == 404
    assert call(m, "GET", f"/customers/{email}/export")[0] == 404
    assert call(m, "DELETE", f"/customers/{email}")[0] == 404  # nothing left to erase

    status, rows = call(m, "GET", f"/campaigns/{campaign['campaign_id']}/customers")
    (row,) = rows["items"]
    assert (
        row["customer_id"].startswith("anon_") and row["email"] is None and row["claim_status"] == "claimed"
    )
    status, redeemed = call(
        m,
        "POST",
        "/redemptions",
        {"campaign_id": campaign["campaign_id"], "code": "ERASE-001", "order_id": "O-1"},
    )
    assert status == 200, redeemed
    assert (
        redeemed["claim"]["customer_id"] == row["customer_id"] and redeemed["claim"]["status"] == "redeemed"
    )


def test_ses_events_arriving_after_an_erasure_keep_nothing_of_the_customer(
    stack, merchant, call, load_handler, lambda_context
):
    """SES's Delivery and Open of an erased customer's email come after the erasure: found by
    the message's tags or not at all (an identity notification), neither is stored."""
    from tests.conftest import load_event

    m = merchant[0]
    email = "late.events@example.com"
    status, campaign = call(m, "POST", "/campaigns", {"name": "Late", "codes": ["LATE-001"]})
    assert status == 201, campaign
    claim = load_handler("ClaimFunction")
    claim.lambda_handler(claim_event(m, campaign["campaign_id"], {"email": email}), lambda_context)
    mailer = load_handler("MailerFunction")
    for body in drain_queue(stack.physical["ClaimMailQueue"]):
        mailer.lambda_handler(sqs_event([json.dumps(body)]), lambda_context)
    shown = call(m, "GET", f"/customers/{email}")[1]
    message = shown["messages"][0]
    assert call(m, "DELETE", f"/customers/{email}")[0] == 200

    ses = load_handler("SesEventsFunction")
    tagged = load_event("ses/event_delivery")
    tagged["mail"]["messageId"] = message["ses_message_id"]
    tagged["mail"]["destination"] = [email]
    tagged["mail"]["tags"] = {
        "merchant": [m],
        "customer": [shown["customer_id"]],
        "message": [message["message_id"]],
    }
    tagged["delivery"]["recipients"] = [email]
    untagged = json.loads(json.dumps(tagged))
    untagged["mail"]["tags"] = {}
    answer = ses.lambda_handler(sqs_event([json.dumps(tagged), json.dumps(untagged)]), lambda_context)
    assert answer == {"batchItemFailures": []}
    assert email not in _dump(stack)
