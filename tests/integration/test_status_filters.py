"""The list views' status filters, read from the views index (``gsi5``, ``domain/list_views.py``):
whatever the pipeline did to a campaign's customers and a send's recipients (storefront claims,
a send that texts too, exclusions, SES's events, coupon views, a redemption, an expiry), every
filtered list is exactly the unfiltered list's rows of that status, each row once, page by page.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest
from couponflow.adapters.dynamodb import Table
from couponflow.domain.claim_status import ClaimStatus
from couponflow.domain.list_views import CampaignRowStatus
from couponflow.domain.send_tracker import TrackerStatus
from couponflow.models.api import CampaignIn
from couponflow.models.audience import CustomerIn, SegmentIn
from couponflow.models.sends import SendIn
from couponflow.services import audience, campaigns
from couponflow.services.sends import scheduler_from
from couponflow.settings.merchant_api import SendScheduleSettings
from couponflow.store import claim_progress, claims, keys

from tests.integration.helpers import body_of, claim_event, drain_queue, ses_record, sqs_event

Api = Callable[..., dict[str, Any]]


@pytest.fixture()
def table(stack: Any) -> Table:
    return Table(stack.physical["CouponflowTable"])


def _pages(api: Api, m: str, path: str, resource: str, **query: str) -> list[dict[str, Any]]:
    """Every row of a list, two a page (so the cursors are exercised)."""
    rows: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        page = body_of(
            api(m, "GET", resource, path, query={**query, "limit": "2", **({"next": after} if after else {})})
        )
        rows += page["items"]
        after = page.get("next")
        if not after:
            return rows


def _mail_all(mailer: ModuleType, jobs: list[dict[str, Any]], lambda_context: Any) -> None:
    pending = [json.dumps(j) for j in jobs]
    for _ in range(10):
        event = sqs_event(pending)
        failed = {
            f["itemIdentifier"] for f in mailer.lambda_handler(event, lambda_context)["batchItemFailures"]
        }
        pending = [r["body"] for r in event["Records"] if r["messageId"] in failed]
        if not pending:
            return
    raise AssertionError("the mailer kept giving jobs back")


def _send_everyone(
    stack: Any,
    table: Table,
    m: str,
    cmp: str,
    api: Api,
    load_handler: Callable[[str], ModuleType],
    lambda_context: Any,
) -> str:
    """A send that texts too, to customers of every kind; fanned out and handed to SES."""
    recent, stale = (datetime.now(UTC) - timedelta(days=d) for d in (3, 500))
    people = [{"email": f"fan{i}@example.com", "last_interaction_at": recent} for i in range(8)]
    people += [
        {"email": "both@example.com", "phone": "+14155550101", "last_interaction_at": recent},
        {"phone": "+14155550102", "last_interaction_at": recent},  # texted only
        {"email": "asleep@example.com", "last_interaction_at": stale},  # inactive: excluded
        {"email": "shop1@example.com", "last_interaction_at": recent},  # claimed at the store before
    ]
    audience.import_customers(table, m, [CustomerIn.model_validate(p) for p in people])
    segment = audience.create_segment(table, m, SegmentIn(name="Everyone"))
    refs = [p.get("email") or audience.id_for(m, CustomerIn.model_validate(p)) for p in people]
    audience.change_members(table, m, segment["segment_id"], refs, add=True)
    send = scheduler_from(table, SendScheduleSettings.from_env()).schedule(
        m,
        SendIn.model_validate(
            {
                "segment_id": segment["segment_id"],
                "campaign_id": cmp,
                "send_at": (datetime.now(UTC) + timedelta(hours=3)).replace(
                    minute=0, second=0, microsecond=0
                ),
                "channel": "both",
                "sms_text": "Your code {{code}}",
            }
        ),
    )
    for name in ("SendFanoutQueue", "MailQueue"):
        drain_queue(stack.physical[name])
    starter = load_handler("SendStarterFunction")
    assert (
        starter.lambda_handler({"merchant_id": m, "send_id": send["send_id"]}, lambda_context)["outcome"]
        == "started"
    )
    fanout = load_handler("SendFanoutFunction")
    for chunk in drain_queue(stack.physical["SendFanoutQueue"]):
        assert fanout.lambda_handler(sqs_event([json.dumps(chunk)]), lambda_context) == {
            "batchItemFailures": []
        }
    _mail_all(load_handler("MailerFunction"), drain_queue(stack.physical["MailQueue"]), lambda_context)
    return str(send["send_id"])


def test_every_status_filter_lists_exactly_the_rows_of_that_status(
    stack: Any,
    table: Table,
    merchant: tuple[str, str],
    api: Api,
    load_handler: Callable[[str], ModuleType],
    lambda_context: Any,
) -> None:
    m = merchant[0]
    cmp = str(
        campaigns.create_campaign(
            table, m, CampaignIn(name="Filters", codes=[f"F-{i:03d}" for i in range(30)])
        )["campaign_id"]
    )
    claim = load_handler("ClaimFunction")
    for email in ("shop1@example.com", "shop2@example.com", "shop3@example.com"):
        assert (
            claim.lambda_handler(claim_event(m, cmp, {"email": email}), lambda_context)["statusCode"] == 201
        )
    send_id = _send_everyone(stack, table, m, cmp, api, load_handler, lambda_context)

    # SES's word on the send's emails: a bounce, an open, a click, a complaint, deliveries
    held = {c["email"]: c for c in claims.list_for_campaign(table, m, cmp, limit=100) if c.get("email")}
    words = {"fan0": "event_bounce", "fan1": "event_open", "fan2": "event_click", "fan3": "event_complaint"}
    records = []
    for email, c in held.items():
        message = table.get(keys.message(m, c["customer_id"], c["message_id"])) or {}
        if "ses_message_id" not in message:
            continue  # a storefront claim's email still queued, or a texted-only recipient's
        tags = {"merchant": m, "customer": c["customer_id"], "message": c["message_id"]}
        sample = words.get(email.split("@")[0], "event_delivery")
        records.append(ses_record(sample, message["ses_message_id"], tags, email))
    events = load_handler("SesEventsFunction")
    assert events.lambda_handler(sqs_event(records), lambda_context) == {"batchItemFailures": []}

    # and the coupons' own progress
    stamp = datetime.now(UTC).isoformat()
    claim_progress.advance(
        table, m, held["fan4@example.com"]["customer_id"], cmp, ClaimStatus.COUPON_VIEWED, at=stamp
    )
    claim_progress.advance(
        table, m, held["fan5@example.com"]["customer_id"], cmp, ClaimStatus.CLICKED_THROUGH, at=stamp
    )
    redeemed = claim_progress.redeem(table, m, cmp, held["fan6@example.com"]["code"], "order-1", at=stamp)
    assert redeemed is not None and redeemed.ok
    expiring = table.get(keys.claim(m, held["shop2@example.com"]["customer_id"], cmp)) or {}
    assert claim_progress.return_code(table, expiring, ClaimStatus.EXPIRED, at=stamp, reason="offer_lifetime")

    tracker_path, tracker = f"/sends/{send_id}/recipients", "/sends/{sendId}/recipients"
    everyone = _pages(api, m, tracker_path, tracker)
    shown = Counter(r["status"] for r in everyone)
    assert {"sent", "opened", "clicked", "redeemed", "failed"} <= set(shown), shown
    for status in TrackerStatus:
        filtered = _pages(api, m, tracker_path, tracker, status=str(status))
        assert sorted(r["customer_id"] for r in filtered) == sorted(
            r["customer_id"] for r in everyone if r["status"] == status
        ), status
        assert filtered == [r for r in filtered if r["status"] == status]

    customers_path, customers = f"/campaigns/{cmp}/customers", "/campaigns/{campaignId}/customers"
    everyone = _pages(api, m, customers_path, customers)
    shown = Counter(r["status"] for r in everyone)
    # the bounced email's code went back to the pool: its customer shows ``released``
    covered = {"email_queued", "email_delivered", "email_opened", "email_clicked", "email_complained"}
    covered |= {"claimed", "coupon_viewed", "clicked_through", "redeemed", "expired", "released"}
    assert covered <= set(shown), shown
    for row_status in CampaignRowStatus:
        filtered = _pages(api, m, customers_path, customers, status=str(row_status))
        assert sorted(r["customer_id"] for r in filtered) == sorted(
            r["customer_id"] for r in everyone if r["status"] == row_status
        ), row_status

    refused = api(m, "GET", customers, customers_path, query={"status": "nonsense"})
    assert refused["statusCode"] == 422, refused
    assert json.loads(refused["body"])["field"] == "status"
