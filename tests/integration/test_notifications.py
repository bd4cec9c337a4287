"""Merchant notifications: email through (moto's) SES and a signed webhook to a real local HTTP server."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from couponflow import retry
from couponflow.adapters import ses, webhook
from couponflow.adapters.dynamodb import Table
from couponflow.errors import PermanentSendError, RetryableError
from couponflow.services.notifications import Notice, notify_merchant
from couponflow.store import keys
from local_stack import moto_patches
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from tests.integration.helpers import answer_lost_then_sent_again, notices_to


@pytest.fixture()
def receiver() -> Iterator[tuple[str, list[dict[str, Any]], list[int]]]:
    received: list[dict[str, Any]] = []
    answer = [204]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"body": body, "signature": self.headers["Couponflow-Signature"]})
            self.send_response(answer[0])
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hooks", received, answer
    server.shutdown()
    server.server_close()  # refuse later connections instead of leaving them unanswered


def test_notice_is_emailed_and_posted_with_a_verifiable_signature(stack, merchant, receiver):
    url, received, _ = receiver
    table = Table(stack.physical["CouponflowTable"])
    table.update(
        keys.merchant(merchant[0]),
        "SET notification_email = :e, webhook_url = :u, webhook_secret = :s",
        values={":e": "owner@shop.example.com", ":u": url, ":s": "whsec_test"},
    )
    before = len(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages)

    delivered = notify_merchant(
        table,
        merchant[0],
        Notice("pool_low", "Codes running low", "Only 5 codes left", {"left": 5}, key="c-1/0"),
        sender="coupons@example.com",
        allow_private_hosts=True,
    )

    sent = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages[before:]
    assert [m.destinations["ToAddresses"] for m in sent] == [["owner@shop.example.com"]]
    assert delivered.webhook_status == 204
    (call,) = received
    payload = json.loads(call["body"])
    assert (payload["type"], payload["merchant_id"], payload["data"]) == (
        "pool_low",
        merchant[0],
        {"left": 5},
    )
    stamp = call["signature"].split(",")[0].removeprefix("t=")
    expected = hmac.new(b"whsec_test", f"{stamp}.".encode() + call["body"], hashlib.sha256).hexdigest()
    assert call["signature"] == f"t={stamp},v1={expected}"


def test_webhook_client_errors_are_permanent(receiver):
    url, _, answer = receiver
    answer[0] = 410
    with pytest.raises(PermanentSendError):
        webhook.post_signed(url, "s", {"a": 1})


NOTICE = Notice("pool_low", "Codes running low", "Only 5 codes left", {"left": 5}, key="c-1/0")


def _with_address(stack: Any, merchant_id: str, address: str) -> Table:
    table = Table(stack.physical["CouponflowTable"])
    table.update(keys.merchant(merchant_id), "SET notification_email = :e", values={":e": address})
    return table


def test_a_notice_whose_answer_SES_lost_is_not_emailed_again_and_still_calls_the_webhook(
    stack, merchant, receiver
):
    # Given SES takes the notice and its answer is lost (a read timeout botocore would retry)
    url, received, _ = receiver
    table = _with_address(stack, merchant[0], "lost-answer@shop.example.com")
    table.update(
        keys.merchant(merchant[0]), "SET webhook_url = :u, webhook_secret = :s", values={":u": url, ":s": "k"}
    )
    with answer_lost_then_sent_again(ses.sending_client(), "SendEmail", lambda body: True) as lost:
        # When the merchant is notified
        delivered = notify_merchant(
            table, merchant[0], NOTICE, sender="coupons@example.com", allow_private_hosts=True
        )

    # Then the email went out once, not once per attempt, and counts as gone out
    assert lost == [1]
    assert len(notices_to("lost-answer@shop.example.com")) == 1
    assert delivered.email_unknown and delivered.went_out
    assert delivered.webhook_status == 204 and len(received) == 1


def test_a_webhook_failing_after_the_email_went_out_is_logged_not_raised(stack, merchant, receiver):
    url, received, answer = receiver
    answer[0] = 503
    table = _with_address(stack, merchant[0], "hook-down@shop.example.com")
    table.update(
        keys.merchant(merchant[0]), "SET webhook_url = :u, webhook_secret = :s", values={":u": url, ":s": "k"}
    )

    delivered = notify_merchant(
        table, merchant[0], NOTICE, sender="coupons@example.com", allow_private_hosts=True
    )

    # a caller that tried the notice again would email the merchant twice
    assert delivered.email_message_id and delivered.webhook_status is None
    assert len(received) == 1 and len(notices_to("hook-down@shop.example.com")) == 1


def test_a_notice_of_which_nothing_went_out_raises_so_it_can_be_tried_again(stack, merchant, receiver):
    url, _, answer = receiver
    answer[0] = 503
    table = Table(stack.physical["CouponflowTable"])
    table.update(
        keys.merchant(merchant[0]),
        "SET webhook_url = :u, webhook_secret = :s REMOVE notification_email",
        values={":u": url, ":s": "k"},
    )

    with pytest.raises(RetryableError):
        notify_merchant(table, merchant[0], NOTICE, sender="coupons@example.com", allow_private_hosts=True)


def test_a_throttled_notice_is_sent_once_after_the_throttling(stack, merchant, monkeypatch):
    table = _with_address(stack, merchant[0], "throttled@shop.example.com")
    waits: list[float] = []
    monkeypatch.setattr(retry, "sleep", waits.append)
    moto_patches.throttle_next_sends(2)
    try:
        delivered = notify_merchant(
            table, merchant[0], NOTICE, sender="coupons@example.com", allow_private_hosts=True
        )
    finally:
        moto_patches.throttle_next_sends(0)

    assert delivered.email_message_id
    assert len(waits) == 2  # each throttled try waited its backoff
    assert len(notices_to("throttled@shop.example.com")) == 1
