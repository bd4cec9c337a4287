"""Pool alerts: housekeeping tells the merchant once when the pool falls below the threshold and
once when it runs out (email through moto's SES and a signed webhook to a local HTTP server),
and loading codes re-arms both."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from couponflow.adapters.dynamodb import Table
from couponflow.domain.campaign import Campaign
from couponflow.ids import customer_id
from couponflow.services.housekeeping.pool_alerts import PoolAlerts
from couponflow.store import campaigns, claims, keys

from tests.conftest import load_event
from tests.integration.helpers import notices_to

NOW = "2026-11-22T10:00:00+00:00"


@pytest.fixture()
def webhook_calls() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hooks", received
    server.shutdown()
    server.server_close()  # refuse later connections instead of leaving them unanswered


def _claim_n(table: Table, campaign_id: str, merchant_id: str, start: int, n: int) -> None:
    campaign = campaigns.get(table, merchant_id, campaign_id)
    for i in range(start, start + n):
        email = f"alert{i}@example.com"
        who = claims.Claimant(customer_id(merchant_id, email), email, None, False)
        record = claims.assign(table, campaign, who, now=NOW, day="2026-11-22", message_id=f"msg_al_{i}")
        assert record.status == "claimed"


def test_low_and_empty_pool_alerts_are_sent_once_each_and_rearmed_by_a_load(stack, merchant, webhook_calls):
    url, hooks = webhook_calls
    table = Table(stack.physical["CouponflowTable"])
    owner = f"owner-{merchant[0]}@shop.example.com"
    table.update(
        keys.merchant(merchant[0]),
        "SET notification_email = :e, webhook_url = :u, webhook_secret = :s",
        values={":e": owner, ":u": url, ":s": "whsec_pool"},
    )
    campaign = Campaign(merchant[0], "cmp_alerts", "Flash", "Subject", "email")
    campaigns.create(table, campaign, NOW)
    campaigns.update_fields(table, merchant[0], campaign.campaign_id, {"pool_alert_threshold": 3}, NOW)
    campaigns.add_codes(table, merchant[0], campaign.campaign_id, [f"AL-{i:03d}" for i in range(5)], NOW)
    sweep = PoolAlerts(table, sender="alerts@example.com", allow_private_hosts=True)
    now = datetime.fromisoformat(NOW)

    sweep(now)
    assert notices_to(owner) == []  # 5 left, threshold 3

    _claim_n(table, campaign.campaign_id, merchant[0], 0, 3)  # 2 left
    sweep(now)
    sweep(now)
    assert notices_to(owner) == ["Coupon codes running low: Flash"]
    assert [(h["type"], h["data"]["codes_available"]) for h in hooks] == [("pool_low", 2)]

    _claim_n(table, campaign.campaign_id, merchant[0], 3, 2)  # none left
    sweep(now)
    sweep(now)
    assert notices_to(owner) == ["Coupon codes running low: Flash", "Out of coupon codes: Flash"]
    assert [h["type"] for h in hooks] == ["pool_low", "pool_empty"]
    assert "gsi2pk" not in (table.get(keys.campaign(merchant[0], campaign.campaign_id)) or {})

    campaigns.add_codes(table, merchant[0], campaign.campaign_id, [f"AL-{i:03d}" for i in range(5, 9)], NOW)
    _claim_n(table, campaign.campaign_id, merchant[0], 5, 2)  # 2 left of the new load
    sweep(now)
    assert [h["type"] for h in hooks] == ["pool_low", "pool_empty", "pool_low"]


def test_housekeeping_handler_sends_a_due_low_pool_alert(stack, merchant, load_handler, lambda_context):
    table = Table(stack.physical["CouponflowTable"])
    campaign = Campaign(merchant[0], "cmp_alerts_hk", "Quiet", "Subject", "email")
    campaigns.create(table, campaign, NOW)
    campaigns.update_fields(table, merchant[0], campaign.campaign_id, {"pool_alert_threshold": 2}, NOW)
    campaigns.add_codes(table, merchant[0], campaign.campaign_id, ["ALHK-001"], NOW)

    result = load_handler("HousekeepingFunction").lambda_handler(
        load_event("housekeeping/scheduled"), lambda_context
    )

    assert result["pool_alerts"]["alerts_sent"] >= 1
    stored = table.get(keys.campaign(merchant[0], campaign.campaign_id)) or {}
    assert stored["pool_low_alerted_version"] == stored["pool_version"] == 1


def test_an_undelivered_alert_is_given_back_for_the_next_sweep_without_failing_the_run(stack, merchant):
    table = Table(stack.physical["CouponflowTable"])
    table.update(
        keys.merchant(merchant[0]),
        "SET webhook_url = :u, webhook_secret = :s",
        values={":u": "http://127.0.0.1:9/unreachable", ":s": "whsec_down"},
    )
    campaign = Campaign(merchant[0], "cmp_alerts_down", "Down", "Subject", "email")
    campaigns.create(table, campaign, NOW)
    campaigns.update_fields(table, merchant[0], campaign.campaign_id, {"pool_alert_threshold": 5}, NOW)
    campaigns.add_codes(table, merchant[0], campaign.campaign_id, ["DOWN-001"], NOW)
    sweep = PoolAlerts(table, sender="alerts@example.com", allow_private_hosts=True)

    sweep(datetime.fromisoformat(NOW))

    stored = table.get(keys.campaign(merchant[0], campaign.campaign_id)) or {}
    assert "pool_low_alerted_version" not in stored  # given back: the next sweep tries again
    table.update(keys.merchant(merchant[0]), "REMOVE webhook_url, webhook_secret")
    sweep(datetime.fromisoformat(NOW))
    stored = table.get(keys.campaign(merchant[0], campaign.campaign_id)) or {}
    assert stored["pool_low_alerted_version"] == 1


def test_an_alert_emailed_before_its_webhook_failed_is_kept_and_never_emailed_again(stack, merchant):
    # Given a merchant with a notification address and a webhook that is down
    table = Table(stack.physical["CouponflowTable"])
    table.update(
        keys.merchant(merchant[0]),
        "SET notification_email = :e, webhook_url = :u, webhook_secret = :s",
        values={":e": "half-down@shop.example.com", ":u": "http://127.0.0.1:9/unreachable", ":s": "k"},
    )
    campaign = Campaign(merchant[0], "cmp_alerts_half", "Half", "Subject", "email")
    campaigns.create(table, campaign, NOW)
    campaigns.update_fields(table, merchant[0], campaign.campaign_id, {"pool_alert_threshold": 5}, NOW)
    campaigns.add_codes(table, merchant[0], campaign.campaign_id, ["HALF-001"], NOW)
    sweep = PoolAlerts(table, sender="alerts@example.com", allow_private_hosts=True)

    # When two sweeps run
    sweep(datetime.fromisoformat(NOW))
    sweep(datetime.fromisoformat(NOW))

    # Then the alert was emailed once and kept (giving it back would email it again)
    assert len(notices_to("half-down@shop.example.com")) == 1
    stored = table.get(keys.campaign(merchant[0], campaign.campaign_id)) or {}
    assert stored["pool_low_alerted_version"] == 1
