"""The SES mailbox simulator: event records published to the topic, read from the events queue."""

from __future__ import annotations

from email.mime.text import MIMEText
from typing import Any

import pytest
from local_stack import LocalStack, simulate_engagement

SENDER = "sender@fixture.example"


def config_set(stack: LocalStack) -> str:
    return stack.resources["ConfigSet"]


def send_v1(stack: LocalStack, to: str, tags: dict[str, str] | None = None) -> str:
    response = stack.client("ses").send_email(
        Source=SENDER,
        Destination={"ToAddresses": [to]},
        Message={"Subject": {"Data": "Your coupon"}, "Body": {"Text": {"Data": "CODE-1"}}},
        ConfigurationSetName=config_set(stack),
        Tags=[{"Name": k, "Value": v} for k, v in (tags or {}).items()],
    )
    return str(response["MessageId"])


def by_type(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["eventType"]: r for r in records}


def test_success_address_gives_send_then_delivery_with_our_tags(stack: LocalStack, ses_events: Any) -> None:
    to = "success+t1@simulator.amazonses.com"
    message_id = send_v1(stack, to, {"message_id": "msg-1", "merchant_id": "m-1"})
    records = by_type(ses_events.wait_for(message_id, 2))
    assert set(records) == {"Send", "Delivery"}
    mail = records["Delivery"]["mail"]
    assert mail["messageId"] == message_id
    assert mail["source"] == SENDER
    assert mail["sendingAccountId"] == "123456789012"
    assert mail["destination"] == [to]
    assert mail["commonHeaders"]["subject"] == "Your coupon"
    assert mail["commonHeaders"]["to"] == [to]
    assert mail["tags"]["message_id"] == ["msg-1"]
    assert mail["tags"]["merchant_id"] == ["m-1"]
    assert mail["tags"]["ses:configuration-set"] == [config_set(stack)]
    assert mail["tags"]["ses:from-domain"] == ["fixture.example"]
    assert records["Send"]["send"] == {}
    assert records["Delivery"]["delivery"]["recipients"] == [to]
    assert records["Delivery"]["delivery"]["smtpResponse"].startswith("250")


def test_records_arrive_in_an_sns_envelope(stack: LocalStack, ses_events: Any) -> None:
    message_id = send_v1(stack, "success@simulator.amazonses.com")
    ses_events.wait_for(message_id, 2)
    envelope = next(e for e in ses_events.envelopes if message_id in e["Message"])
    assert envelope["Type"] == "Notification"
    assert envelope["TopicArn"] == stack.resources["EventsTopic"]


def test_bounce_address_gives_a_permanent_general_bounce(stack: LocalStack, ses_events: Any) -> None:
    message_id = send_v1(stack, "bounce@simulator.amazonses.com")
    records = by_type(ses_events.wait_for(message_id, 2))
    assert set(records) == {"Send", "Bounce"}
    bounce = records["Bounce"]["bounce"]
    assert bounce["bounceType"] == "Permanent"
    assert bounce["bounceSubType"] == "General"
    assert bounce["bouncedRecipients"] == [
        {
            "emailAddress": "bounce@simulator.amazonses.com",
            "action": "failed",
            "status": "5.1.1",
            "diagnosticCode": "smtp; 550 5.1.1 user unknown",
        }
    ]


def test_suppression_list_address_bounces_on_account_suppression_list(
    stack: LocalStack, ses_events: Any
) -> None:
    message_id = send_v1(stack, "suppressionlist@simulator.amazonses.com")
    bounce = by_type(ses_events.wait_for(message_id, 2))["Bounce"]["bounce"]
    assert bounce["bounceType"] == "Permanent"
    assert bounce["bounceSubType"] == "OnAccountSuppressionList"
    assert "suppression list" in bounce["bouncedRecipients"][0]["diagnosticCode"]


def test_complaint_address_is_delivered_then_complained(stack: LocalStack, ses_events: Any) -> None:
    message_id = send_v1(stack, "complaint@simulator.amazonses.com")
    records = by_type(ses_events.wait_for(message_id, 3))
    assert set(records) == {"Send", "Delivery", "Complaint"}
    complaint = records["Complaint"]["complaint"]
    assert complaint["complaintFeedbackType"] == "abuse"
    assert complaint["complainedRecipients"] == [{"emailAddress": "complaint@simulator.amazonses.com"}]


@pytest.mark.parametrize("address", ["ooto@simulator.amazonses.com", "someone@example.org"])
def test_ooto_and_ordinary_addresses_are_delivered(stack: LocalStack, ses_events: Any, address: str) -> None:
    message_id = send_v1(stack, address)
    assert set(by_type(ses_events.wait_for(message_id, 2))) == {"Send", "Delivery"}


def test_ses_v2_send_email_carries_email_tags(stack: LocalStack, ses_events: Any) -> None:
    response = stack.client("sesv2").send_email(
        FromEmailAddress=SENDER,
        Destination={"ToAddresses": ["success@simulator.amazonses.com"]},
        Content={"Simple": {"Subject": {"Data": "v2 subject"}, "Body": {"Text": {"Data": "hi"}}}},
        ConfigurationSetName=config_set(stack),
        EmailTags=[{"Name": "message_id", "Value": "msg-v2"}],
    )
    records = by_type(ses_events.wait_for(response["MessageId"], 2))
    assert records["Delivery"]["mail"]["tags"]["message_id"] == ["msg-v2"]
    assert records["Delivery"]["mail"]["commonHeaders"]["subject"] == "v2 subject"


def test_raw_email_honours_the_x_ses_headers(stack: LocalStack, ses_events: Any) -> None:
    mime = MIMEText("raw body")
    mime["Subject"] = "raw subject"
    mime["From"] = SENDER
    mime["To"] = "bounce+raw@simulator.amazonses.com"
    mime["X-SES-CONFIGURATION-SET"] = config_set(stack)
    mime["X-SES-MESSAGE-TAGS"] = "message_id=msg-raw, campaign=c-9"
    response = stack.client("ses").send_raw_email(RawMessage={"Data": mime.as_bytes()})
    records = by_type(ses_events.wait_for(response["MessageId"], 2))
    mail = records["Bounce"]["mail"]
    assert mail["tags"]["message_id"] == ["msg-raw"]
    assert mail["tags"]["campaign"] == ["c-9"]
    assert all(h["name"].upper() != "X-SES-MESSAGE-TAGS" for h in mail["headers"])


def test_sends_without_a_configuration_set_publish_nothing(stack: LocalStack) -> None:
    response = stack.client("ses").send_email(
        Source=SENDER,
        Destination={"ToAddresses": ["success@simulator.amazonses.com"]},
        Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}},
    )
    assert stack.simulator is not None
    message = stack.simulator.messages[response["MessageId"]]
    assert message.configuration_set is None
    assert not stack.simulator._destinations(message)


def test_opens_and_clicks_are_published_on_demand(stack: LocalStack, ses_events: Any) -> None:
    to = "success@simulator.amazonses.com"
    message_id = send_v1(stack, to)
    ses_events.wait_for(message_id, 2)
    assert simulate_engagement(message_id, to, "open")
    assert simulate_engagement(message_id, to, "click", link="http://127.0.0.1/c/1")
    records = by_type(ses_events.wait_for(message_id, 4))
    assert records["Open"]["open"]["ipAddress"]
    assert records["Click"]["click"]["link"] == "http://127.0.0.1/c/1"
    with pytest.raises(KeyError):
        simulate_engagement("no-such-message", to, "open")
