"""Housekeeping, called with the scheduled-event sample against moto's server."""

from __future__ import annotations

from couponflow.adapters.dynamodb import Table
from couponflow.domain.campaign import Campaign
from couponflow.ids import customer_id
from couponflow.store import campaigns, claims, keys

from tests.conftest import load_event
from tests.integration.helpers import drain_queue


def _claim(table: Table, merchant_id: str, email: str, at: str) -> claims.ClaimRecord:
    campaign = Campaign(merchant_id, f"cmp_hk_{abs(hash(email)) % 10**6}", "Sweep", "Subject", "email")
    campaigns.create(table, campaign, at)
    campaigns.add_codes(table, merchant_id, campaign.campaign_id, ["HK-0001"], at)
    who = claims.Claimant(customer_id(merchant_id, email), email, None, False)
    return claims.assign(table, campaign, who, now=at, day=at[:10], message_id=f"msg_hk_{abs(hash(email))}")


def test_a_message_stuck_in_queued_is_queued_again_and_a_sent_one_leaves_the_outbox(
    stack, merchant, load_handler, lambda_context
):
    table = Table(stack.physical["CouponflowTable"])
    drain_queue(stack.physical["ClaimMailQueue"])
    stuck = _claim(table, merchant[0], "stuck@example.com", "2020-01-01T00:00:00+00:00")
    moved_on = _claim(table, merchant[0], "moved@example.com", "2020-01-01T00:00:01+00:00")
    moved_key = keys.message(merchant[0], moved_on.customer_id, moved_on.message_id or "")
    table.update(
        moved_key, "SET #s = :s, status_rank = :r", names={"#s": "status"}, values={":s": "sent", ":r": 10}
    )
    fresh = _claim(
        table, merchant[0], "fresh@example.com", "2999-01-01T00:00:00+00:00"
    )  # within the grace period

    result = load_handler("HousekeepingFunction").lambda_handler(
        load_event("housekeeping/scheduled"), lambda_context
    )

    assert result["requeue_outbox"]["requeued"] >= 1
    jobs = drain_queue(stack.physical["ClaimMailQueue"])
    ours = {j["message_id"] for j in jobs if j["merchant_id"] == merchant[0]}
    assert ours == {stuck.message_id}
    assert "gsi3pk" not in (table.get(moved_key) or {})
    assert fresh.message_id not in ours
