"""The authorizer, the mailer and the SES-events consumer, called with sample events against moto's server."""

from __future__ import annotations

import copy
import dataclasses
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from couponflow.adapters.dynamodb import Table
from couponflow.domain.campaign import Campaign
from couponflow.ids import customer_id
from couponflow.store import campaigns, claims, keys, messages
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from tests.conftest import load_event
from tests.integration.helpers import ses_record, sqs_event

# --- authorizer -----------------------------------------------------------------------------


def token_event(token: str) -> dict[str, Any]:
    event = copy.deepcopy(load_event("authorizer/token"))
    event["authorizationToken"] = token
    return event


def test_authorizer_allows_a_known_key_and_passes_the_merchant_on(merchant, load_handler, lambda_context):
    module = load_handler("AuthorizerFunction")
    policy = module.lambda_handler(token_event(f"Bearer {merchant[1]}"), lambda_context)
    assert policy["principalId"] == merchant[0]
    assert policy["context"] == {"merchant_id": merchant[0]}
    statement = policy["policyDocument"]["Statement"][0]
    assert statement["Effect"] == "Allow"
    assert statement["Resource"] == ["arn:aws:execute-api:us-east-1:123456789012:abc123/v1/*/*"]


def test_authorizer_denies_an_unknown_key_of_the_right_shape(merchant, load_handler, lambda_context):
    module = load_handler("AuthorizerFunction")
    forged = merchant[1][:-4] + "AAAA"
    policy = module.lambda_handler(token_event(f"Bearer {forged}"), lambda_context)
    assert policy["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert "context" not in policy or not policy["context"]


@pytest.mark.parametrize("token", ["Basic abc", "Bearer", "bearer lowercase-scheme"])
def test_authorizer_answers_unauthorized_without_a_bearer_key(load_handler, lambda_context, token, stack):
    module = load_handler("AuthorizerFunction")
    with pytest.raises(Exception, match="Unauthorized"):
        module.lambda_handler(token_event(token), lambda_context)


def test_authorizer_denies_a_bearer_token_that_is_not_a_couponflow_key(load_handler, lambda_context, stack):
    module = load_handler("AuthorizerFunction")
    policy = module.lambda_handler(token_event("Bearer not-a-couponflow-key-at-all"), lambda_context)
    assert policy["policyDocument"]["Statement"][0]["Effect"] == "Deny"


# --- a claimed message, ready for the mailer -----------------------------------------------


@pytest.fixture()
def queued_message(stack: Any, merchant: tuple[str, str]) -> Callable[[str], dict[str, str]]:
    table = Table(stack.physical["CouponflowTable"])

    def make(email: str) -> dict[str, str]:
        campaign = Campaign(
            merchant_id=merchant[0],
            campaign_id=f"cmp_{abs(hash(email)) % 10**8}",
            name="Winter sale",
            subject="Your {{campaign}} code",
            channel="email",
            store_url="https://shop.example.com/winter",
        )
        campaigns.create(table, campaign, "2026-11-22T10:00:00+00:00")
        campaigns.add_codes(
            table, merchant[0], campaign.campaign_id, ["WINTER-0001"], "2026-11-22T10:00:00+00:00"
        )
        who = claims.Claimant(customer_id(merchant[0], email), email, "Ann", False)
        record = claims.assign(
            table, campaign, who, now="2026-11-22T10:00:00+00:00", day="2026-11-22", message_id="msg_test"
        )
        assert record.message_id
        return {"merchant_id": merchant[0], "customer_id": who.customer_id, "message_id": record.message_id}

    return make


def sent_raw_messages() -> list[Any]:
    return [m for m in ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages if hasattr(m, "raw_data")]


def message_item(stack: Any, job: dict[str, str]) -> dict[str, Any]:
    item = Table(stack.physical["CouponflowTable"]).get(
        keys.message(job["merchant_id"], job["customer_id"], job["message_id"])
    )
    assert item is not None
    return item


def test_mailer_sends_the_coupon_through_ses_once_and_records_sent(
    stack, queued_message, load_handler, lambda_context
):
    job = queued_message("success@simulator.amazonses.com")
    module = load_handler("MailerFunction")
    before = len(sent_raw_messages())

    result = module.lambda_handler(sqs_event([json.dumps(job)]), lambda_context)
    again = module.lambda_handler(sqs_event([json.dumps(job)]), lambda_context)  # redelivery

    assert result == {"batchItemFailures": []} and again == {"batchItemFailures": []}
    sent = sent_raw_messages()[before:]
    assert len(sent) == 1
    raw = sent[0].raw_data
    assert "Subject: Your Winter sale code" in raw
    assert "WINTER-0001" in raw
    assert "/coupons/" in raw and "multipart/alternative" in raw  # the signed coupon link
    item = message_item(stack, job)
    assert item["status"] == "sent"
    assert item["ses_message_id"] == sent[0].id


def test_mailer_drops_a_suppressed_address_without_calling_ses(
    stack, queued_message, load_handler, lambda_context
):
    job = queued_message("blocked@example.com")
    Table(stack.physical["CouponflowTable"]).put(
        {**keys.suppression(job["merchant_id"], "blocked@example.com"), "reason": "hard_bounce"}
    )
    before = len(sent_raw_messages())
    module = load_handler("MailerFunction")
    module.lambda_handler(sqs_event([json.dumps(job)]), lambda_context)
    assert len(sent_raw_messages()) == before
    item = message_item(stack, job)
    assert item["status"] == "dropped"
    assert item["status_details"]["suppression_reason"] == "hard_bounce"


def test_mailer_reports_a_malformed_job_as_a_batch_item_failure(
    stack, queued_message, load_handler, lambda_context
):
    job = queued_message("ok@example.com")
    module = load_handler("MailerFunction")
    event = sqs_event(["{not json", json.dumps(job)])
    result = module.lambda_handler(event, lambda_context)
    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert message_item(stack, job)["status"] == "sent"


# --- SES events -----------------------------------------------------------------------------


@pytest.fixture()
def sent_message(
    stack: Any, queued_message: Callable[[str], dict[str, str]], load_handler, lambda_context
) -> Any:
    def make(email: str) -> tuple[dict[str, str], str]:
        job = queued_message(email)
        load_handler("MailerFunction").lambda_handler(sqs_event([json.dumps(job)]), lambda_context)
        return job, message_item(stack, job)["ses_message_id"]

    return make


def customer_messages(stack: Any, job: dict[str, str]) -> list[dict[str, Any]]:
    """The message's timeline: its events in the events table and the one it holds."""
    events_table = Table(stack.physical["MessageEventsTable"])
    return messages.timeline(events_table, message_item(stack, job), now_epoch=int(time.time()))


def test_bounce_after_delivery_wins_and_keeps_the_smtp_diagnostic(
    stack, sent_message, load_handler, lambda_context
):
    job, ses_id = sent_message("bounce@simulator.amazonses.com")
    tags = {"merchant": job["merchant_id"], "customer": job["customer_id"], "message": job["message_id"]}
    module = load_handler("SesEventsFunction")
    bodies = [
        ses_record("event_delivery", ses_id, tags, "bounce@simulator.amazonses.com"),
        ses_record("event_bounce", ses_id, tags, "bounce@simulator.amazonses.com"),
        ses_record("event_delivery", ses_id, tags, "bounce@simulator.amazonses.com"),  # late duplicate
    ]
    result = module.lambda_handler(sqs_event(bodies), lambda_context)
    assert result == {"batchItemFailures": []}
    item = message_item(stack, job)
    assert item["status"] == "bounced"
    assert item["status_details"]["bounce_type"] == "Permanent"
    assert item["status_details"]["diagnostic_code"].startswith("smtp; 550")
    timeline = customer_messages(stack, job)
    assert sorted(e["event_type"] for e in timeline) == ["bounce", "delivery"]
    suppression = Table(stack.physical["CouponflowTable"]).get(
        keys.suppression(job["merchant_id"], "bounce@simulator.amazonses.com")
    )
    assert suppression is not None and suppression["reason"] == "hard_bounce"


def _identity_delivery(ses_id: str, to: str) -> str:
    record = copy.deepcopy(load_event("ses/notification_delivery"))
    record["mail"]["messageId"] = ses_id
    record["mail"]["destination"] = [to]
    record["delivery"]["recipients"] = [to]
    return json.dumps(record)


def test_identity_notification_without_tags_is_matched_by_ses_message_id_where_the_operator_routes_them(
    stack, queued_message, load_handler, lambda_context, monkeypatch
):
    # Given a mailer told that SES's identity notifications come to the events topic too
    to = "success@simulator.amazonses.com"
    mailer = load_handler("MailerFunction")
    monkeypatch.setattr(mailer, "mailer", dataclasses.replace(mailer.mailer, ses_id_lookups=True))
    job = queued_message(to)
    mailer.lambda_handler(sqs_event([json.dumps(job)]), lambda_context)
    sent = message_item(stack, job)
    assert sent["gsi4pk"] == f"SESMESSAGE#{sent['ses_message_id']}"
    # When an identity notification, without the message's tags, says it was delivered
    module = load_handler("SesEventsFunction")
    module.lambda_handler(sqs_event([_identity_delivery(sent["ses_message_id"], to)]), lambda_context)
    # Then it is found by SES's id
    assert message_item(stack, job)["status"] == "delivered"


def test_by_default_no_email_pays_for_an_ses_id_lookup_and_an_identity_notification_is_kept_as_an_orphan(
    stack, sent_message, load_handler, lambda_context
):
    # Given the template's default: SES's events come from the configuration set alone
    assert load_handler("MailerFunction").mailer.ses_id_lookups is False
    to = "success@simulator.amazonses.com"
    job, ses_id = sent_message(to)
    assert "gsi4pk" not in message_item(stack, job)  # a write unit an email saved
    # When an identity notification comes all the same, then the configuration set's twin
    tags = {"merchant": job["merchant_id"], "customer": job["customer_id"], "message": job["message_id"]}
    module = load_handler("SesEventsFunction")
    answer = module.lambda_handler(sqs_event([_identity_delivery(ses_id, to)]), lambda_context)
    assert answer == {"batchItemFailures": []}
    orphans = Table(stack.physical["MessageEventsTable"]).query("pk = :pk", {":pk": f"ORPHAN#{ses_id}"})
    assert [o["event_type"] for o in orphans] == ["delivery"]  # kept, not lost
    assert message_item(stack, job)["status"] == "sent"
    module.lambda_handler(sqs_event([ses_record("event_delivery", ses_id, tags, to)]), lambda_context)
    # Then the tagged event moves the status, as it always does
    assert message_item(stack, job)["status"] == "delivered"


def test_events_for_messages_we_did_not_send_are_kept_as_orphans(stack, load_handler, lambda_context):
    module = load_handler("SesEventsFunction")
    body = ses_record("event_delivery", "0000-not-ours", None, "someone@example.com")
    assert module.lambda_handler(sqs_event([body]), lambda_context) == {"batchItemFailures": []}
    orphans = Table(stack.physical["MessageEventsTable"]).query("pk = :pk", {":pk": "ORPHAN#0000-not-ours"})
    assert [o["event_type"] for o in orphans] == ["delivery"]


def test_unparseable_records_fail_alone_while_the_rest_of_the_batch_applies(
    stack, sent_message, load_handler, lambda_context
):
    job, ses_id = sent_message("complaint@simulator.amazonses.com")
    tags = {"merchant": job["merchant_id"], "customer": job["customer_id"], "message": job["message_id"]}
    module = load_handler("SesEventsFunction")
    event = sqs_event(
        ["not json", ses_record("event_complaint", ses_id, tags, "complaint@simulator.amazonses.com"), "{}"]
    )
    result = module.lambda_handler(event, lambda_context)
    failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
    assert failed == {event["Records"][0]["messageId"], event["Records"][2]["messageId"]}
    assert message_item(stack, job)["status"] == "complained"
