"""End to end: a text's delivery receipt on the local stack.

The merchant schedules an SMS send to two customers; the clock passes the send time, the fan-out
texts them through moto's SNS, the local stack's SMS simulator writes SNS's delivery status logs
and hands them to ``SmsReceiptsFunction`` as the template subscribes it, and each text moves
from ``sent`` on: to ``delivered`` for an ordinary number, to ``failed`` for AWS's failure
simulator number ``+14254147167``.

This module starts its own in-process stack (as ``test_segment_send`` does): the send must be
scheduled 2 hours ahead by the real clock before the clock jumps to fire it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from local_stack import LocalStack

from tests.e2e.conftest import Call, in_process_stack, stack_http

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
DELIVERED_PHONE = "+14155550142"
FAILING_PHONE = "+14254147167"  # AWS End User Messaging's US failure simulator number


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> Iterator[LocalStack]:
    with in_process_stack(
        tmp_path_factory.mktemp("sms-receipts"), "couponflow-e2e-sms", pytestconfig
    ) as running:
        yield running


@pytest.fixture(scope="module")
def http(stack: LocalStack) -> Call:
    return stack_http(stack)


def eventually(probe: Callable[[], Any], what: str, timeout: float = 120.0) -> Any:
    """Poll until ``probe`` returns something (a liveness bound for a loaded machine, not a timing check)."""
    deadline = time.monotonic() + timeout
    while (value := probe()) is None:
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout:.0f} s"
        time.sleep(0.2)
    return value


def ok(answer: tuple[int, Any], status: int = 200) -> Any:
    assert answer[0] == status, answer
    return answer[1]


def test_texts_reach_delivered_or_failed_from_sns_delivery_status_logs(http: Call, stack: LocalStack) -> None:
    recent = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    customers = {
        phone: ok(http("POST", "/customers", {"phone": phone, "last_interaction_at": recent}))["customer_id"]
        for phone in (DELIVERED_PHONE, FAILING_PHONE)
    }
    segment = ok(http("POST", "/segments", {"name": "Receipts"}), 201)["segment_id"]
    ok(http("POST", f"/segments/{segment}/members", {"customers": list(customers.values())}))
    campaign = ok(http("POST", "/campaigns", {"name": "Texted", "codes": ["TXT-1", "TXT-2"]}), 201)[
        "campaign_id"
    ]
    send_at = (datetime.now(UTC) + timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    body = {"segment_id": segment, "campaign_id": campaign, "channel": "sms", "send_at": send_at.isoformat()}
    ok(http("POST", "/sends", body), 201)

    stack.clock.offset = (send_at - datetime.now(UTC)).total_seconds() + 1  # the scheduler fires it

    def text_of(phone: str, status: str) -> dict[str, Any] | None:
        messages = ok(http("GET", f"/customers/{customers[phone]}"))["messages"]
        texts = [m for m in messages if m["channel"] == "sms" and m["status"] == status]
        return texts[0] if texts else None

    delivered = eventually(lambda: text_of(DELIVERED_PHONE, "delivered"), "the text's delivery")
    failed = eventually(lambda: text_of(FAILING_PHONE, "failed"), "the text's failure")
    for message, phone, event_type, status, words in (
        (delivered, DELIVERED_PHONE, "SmsDelivery", "SUCCESS", "Message has been accepted by phone carrier"),
        (failed, FAILING_PHONE, "SmsFailure", "FAILURE", "Unknown error attempting to reach phone"),
    ):
        assert message["recipient"] == phone and message["sns_message_id"] and message["sent_at"]
        assert message["status_details"]["provider_response"] == words
        assert message["status_details"]["sns_status"] == status
        assert message["status_details"]["smsType"] == "Promotional"  # a marketing send, not a receipt
        assert [e["event_type"] for e in message["events"]] == [event_type]
        assert message["events"][0]["recipient"] == phone
