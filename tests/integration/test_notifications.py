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
from couponflow.adapters import webhook
from couponflow.adapters.dynamodb import Table
from couponflow.errors import PermanentSendError
from couponflow.services.notifications import Notice, notify_merchant
from couponflow.store import keys
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends


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
        Notice("pool_low", "Codes running low", "Only 5 codes left", {"left": 5}),
        sender="coupons@example.com",
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
