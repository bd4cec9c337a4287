"""The SMS simulator: a text moto's SNS accepted becomes SNS's delivery status log, written to
moto's CloudWatch Logs and handed to the function the template subscribes to that log group."""

from __future__ import annotations

import base64
import gzip
import json
import re
from collections.abc import Callable
from typing import Any

from couponflow.domain.message_status import MessageStatus
from couponflow.sms_delivery_logs import decode_awslogs, parse_record
from local_stack import LocalStack
from local_stack.sms_simulator import (
    FAILURE_NUMBERS,
    LogSubscription,
    filter_matches,
    log_subscriptions,
    parse_publish,
)

SUCCESS_GROUP = "sns/us-east-1/123456789012/DirectPublishToPhoneNumber"
FAILURE_GROUP = SUCCESS_GROUP + "/Failure"
FAILING_SUBSCRIBER_PHONE = "+15005550199"  # the fixture function raises for this destination


def text(stack: LocalStack, phone: str, message: str = "Your code: SMS-1") -> str:
    response = stack.client("sns").publish(
        PhoneNumber=phone,
        Message=message,
        MessageAttributes={"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}},
    )
    return str(response["MessageId"])


def handed(stack: LocalStack, eventually: Callable[..., Any], message_id: str) -> dict[str, Any]:
    """The stored item of what the fixture subscriber was handed for ``message_id``."""

    def probe() -> dict[str, Any] | None:
        item = stack.client("dynamodb").get_item(
            TableName=stack.resources["AttemptsTable"], Key={"pk": {"S": f"sms#{message_id}"}}
        )
        return item.get("Item")

    found: dict[str, Any] = eventually(probe, timeout=60)
    return found


def test_a_text_reaches_the_subscribed_function_as_sns_delivery_status_log(
    stack: LocalStack, eventually: Callable[..., Any]
) -> None:
    message_id = text(stack, "+14155550100")
    event = json.loads(handed(stack, eventually, message_id)["event"]["S"])

    assert set(event) == {"awslogs"} and set(event["awslogs"]) == {"data"}
    payload = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    assert payload["messageType"] == "DATA_MESSAGE"
    assert payload["owner"] == "123456789012"
    assert payload["logGroup"] == SUCCESS_GROUP
    assert payload["logStream"]
    assert payload["subscriptionFilters"] == ["ReceiptsFunctionDelivered"]
    (log_event,) = [e for e in payload["logEvents"] if message_id in e["message"]]
    assert re.fullmatch(r"\d{56}", log_event["id"])
    assert isinstance(log_event["timestamp"], int) and log_event["timestamp"] > 0
    record = json.loads(log_event["message"])
    assert record["status"] == "SUCCESS"
    assert record["notification"]["messageId"] == message_id
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}", record["notification"]["timestamp"])
    delivery = record["delivery"]
    assert delivery["destination"] == "+14155550100"
    assert delivery["providerResponse"] == "Message has been accepted by phone carrier"
    assert delivery["smsType"] == "Transactional"
    assert isinstance(delivery["dwellTimeMs"], int) and delivery["dwellTimeMs"] > 0
    assert delivery["priceInUSD"] == 0.00645
    # the product's own parser reads it as a delivery of that text
    receipt = parse_record(decode_awslogs(event)["logEvents"][0]["message"])
    assert (receipt.status, receipt.phone) == (MessageStatus.DELIVERED, "+14155550100")


def test_the_failure_simulator_number_fails_into_the_failure_group(
    stack: LocalStack, eventually: Callable[..., Any]
) -> None:
    message_id = text(stack, "+14254147167")
    payload = decode_awslogs(json.loads(handed(stack, eventually, message_id)["event"]["S"]))
    assert payload["logGroup"] == FAILURE_GROUP
    assert payload["subscriptionFilters"] == ["ReceiptsFunctionFailed"]
    record = json.loads(payload["logEvents"][0]["message"])
    assert record["status"] == "FAILURE"
    assert record["delivery"]["providerResponse"] == "Unknown error attempting to reach phone"
    receipt = parse_record(payload["logEvents"][0]["message"])
    assert (receipt.status, receipt.sns_message_id) == (MessageStatus.FAILED, message_id)


def test_the_records_are_in_cloudwatch_logs_as_sns_writes_them(
    stack: LocalStack, eventually: Callable[..., Any]
) -> None:
    message_id = text(stack, "+14155550101")
    handed(stack, eventually, message_id)
    logs = stack.client("logs")
    found = logs.filter_log_events(logGroupName=SUCCESS_GROUP)["events"]
    assert [json.loads(e["message"])["status"] for e in found if message_id in e["message"]] == ["SUCCESS"]


def test_a_failing_subscriber_is_retried_then_the_event_goes_to_its_on_failure_queue(
    stack: LocalStack, eventually: Callable[..., Any]
) -> None:
    message_id = text(stack, FAILING_SUBSCRIBER_PHONE)
    sqs = stack.client("sqs")
    queue = stack.resources["ReceiptsDeadLetterQueue"]

    def dead_letter() -> dict[str, Any] | None:
        for message in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
            body = json.loads(message["Body"])
            if message_id in json.dumps(decode_awslogs(body["requestPayload"])):
                return dict(body)
        return None

    record = eventually(dead_letter, timeout=60)
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2  # MaximumRetryAttempts: 1
    assert record["requestContext"]["functionArn"].endswith(":function:fx-ReceiptsFunction:$LATEST")
    assert record["responsePayload"]["errorType"] == "RuntimeError"
    assert handed(stack, eventually, message_id)["attempts"]["N"] == "2"


def test_only_publishes_to_a_phone_number_are_texts() -> None:
    response = b"<PublishResponse><PublishResult><MessageId>m-1</MessageId></PublishResult></PublishResponse>"
    sms = parse_publish(b"Action=Publish&PhoneNumber=%2B14155550100&Message=hi", response)
    assert sms is not None and (sms.message_id, sms.phone, sms.message, sms.sms_type) == (
        "m-1",
        "+14155550100",
        "hi",
        "Promotional",
    )
    assert parse_publish(b"Action=Publish&TopicArn=arn%3Aaws%3Asns%3Ax&Message=hi", response) is None
    assert parse_publish(b"Action=Publish&PhoneNumber=%2B1415&Message=hi", b"<Error/>") is None


def test_subscriptions_are_read_from_the_template_with_their_log_group_names(stack: LocalStack) -> None:
    assert stack.provisioned is not None
    assert set(log_subscriptions(stack.provisioned.resolved)) == {
        LogSubscription("ReceiptsFunction", SUCCESS_GROUP, "", "ReceiptsFunctionDelivered"),
        LogSubscription("ReceiptsFunction", FAILURE_GROUP, "", "ReceiptsFunctionFailed"),
    }
    assert "+14254147167" in FAILURE_NUMBERS and "+14254147755" not in FAILURE_NUMBERS


def test_filter_patterns_match_terms() -> None:
    message = '{"status": "FAILURE", "delivery": {"destination": "+14254147167"}}'
    assert filter_matches("", message)
    assert filter_matches('"FAILURE" destination', message)
    assert not filter_matches("SUCCESS", message)
