"""The failure report's link: a signed ``/public/reports/<token>`` redirect that lasts 7 days.

Through the handlers on moto's server: housekeeping finishes a send with a failed recipient and
writes the report, ``GET /sends/{id}`` shows our link, and the public route (claim function)
answers 302 to a fresh short-lived presigned URL of the CSV in moto's S3; a tampered or foreign
token is 403, an expired link or a deleted report 410, a send without a report 404.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from couponflow.adapters.dynamodb import Table
from couponflow.models.api import CampaignIn
from couponflow.models.audience import CustomerIn, SegmentIn
from couponflow.models.sends import SendIn
from couponflow.services import audience, campaigns
from couponflow.services.sends import scheduler_from
from couponflow.settings.merchant_api import SendScheduleSettings
from couponflow.store import sends

from tests.conftest import load_event
from tests.integration.helpers import body_of, drain_queue, sqs_event


@pytest.fixture()
def table(stack: Any) -> Table:
    return Table(stack.physical["CouponflowTable"])


def _report_event(url: str) -> dict[str, Any]:
    event = copy.deepcopy(load_event("claim/download_send_report"))
    path = urlsplit(url).path.removeprefix("/v1")
    token = path.rsplit("/", 1)[1]
    event["path"] = path
    event["requestContext"]["path"] = "/v1" + path
    event["pathParameters"] = {"token": token}
    return event


def _finished_send(
    stack: Any, table: Table, merchant_id: str, load_handler: Callable[[str], ModuleType], lambda_context: Any
) -> tuple[str, ModuleType]:
    """A send to two customers, one with no email (excluded): done, with a one-row report."""
    starter = load_handler("SendStarterFunction")
    fanout = load_handler("SendFanoutFunction")
    housekeeping = load_handler("HousekeepingFunction")
    load_handler("MerchantApiFunction")
    drain_queue(stack.physical["SendFanoutQueue"])
    recent = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    people = [{"email": "report-ok@example.com"}, {"phone": "+14155550177"}]
    audience.import_customers(
        table,
        merchant_id,
        [CustomerIn.model_validate({"last_interaction_at": recent, **p}) for p in people],
    )
    segment = audience.create_segment(table, merchant_id, SegmentIn(name="Report"))["segment_id"]
    refs = ["report-ok@example.com", audience.id_for(merchant_id, CustomerIn.model_validate(people[1]))]
    audience.change_members(table, merchant_id, segment, refs, add=True)
    campaign = campaigns.create_campaign(table, merchant_id, CampaignIn(name="Rep", codes=["REP-0001"]))
    send_at = (datetime.now(UTC) + timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    send = scheduler_from(table, SendScheduleSettings.from_env()).schedule(
        merchant_id,
        SendIn.model_validate(
            {"segment_id": segment, "campaign_id": campaign["campaign_id"], "send_at": send_at.isoformat()}
        ),
    )
    send_id = str(send["send_id"])
    assert starter.lambda_handler({"merchant_id": merchant_id, "send_id": send_id}, lambda_context)[
        "outcome"
    ] == ("started")
    for chunk in drain_queue(stack.physical["SendFanoutQueue"]):
        fanout.lambda_handler(sqs_event([json.dumps(chunk)]), lambda_context)
    mailer = load_handler("MailerFunction")
    for job in drain_queue(stack.physical["MailQueue"]):
        if job["merchant_id"] != merchant_id:  # left on the shared queue by an earlier module
            continue
        assert mailer.lambda_handler(sqs_event([json.dumps(job)]), lambda_context)["batchItemFailures"] == []
    # past the grace period: the email SES has in flight counts as sent, the excluded one failed
    later = datetime.now(UTC) + timedelta(hours=1)
    assert housekeeping.tasks["finish_sends"].finish(merchant_id, send_id, later)
    return send_id, housekeeping


def test_the_report_link_lasts_7_days_and_redirects_to_a_fresh_short_lived_download(
    stack: Any,
    table: Table,
    merchant: tuple[str, str],
    api: Callable[..., dict[str, Any]],
    load_handler: Callable[[str], ModuleType],
    lambda_context: Any,
) -> None:
    m = merchant[0]
    send_id, _ = _finished_send(stack, table, m, load_handler, lambda_context)
    shown = body_of(api(m, "GET", "/sends/{sendId}", f"/sends/{send_id}"))
    counts = shown["counts"]
    assert (shown["status"], counts["sent"], counts["failed"], shown["failed_by_reason"]) == (
        "done",
        1,
        1,
        {"no_email": 1},
    )
    public_base = load_handler("HousekeepingFunction").completion.public_base_url
    assert shown["report_url"].startswith(str(public_base).rstrip("/") + "/public/reports/")
    expires = datetime.fromisoformat(shown["report_expires_at"])
    finished = datetime.fromisoformat(shown["finished_at"])
    assert expires - finished == timedelta(days=7)

    claim_function = load_handler("ClaimFunction")
    answer = claim_function.lambda_handler(_report_event(shown["report_url"]), lambda_context)
    assert answer["statusCode"] == 302, answer
    location = (answer.get("headers") or {}).get("Location") or answer["multiValueHeaders"]["Location"][0]
    query = parse_qs(urlsplit(location).query)
    assert query["X-Amz-Expires"] == ["300"]  # fresh for the redirect, not the link's 7 days
    assert urlsplit(location).path.endswith(f"/reports/{m}/{send_id}.csv")
    with urllib.request.urlopen(location, timeout=10) as response:
        rows = list(csv.DictReader(io.StringIO(response.read().decode())))
    assert [(r["phone"], r["reason"]) for r in rows] == [("+14155550177", "no_email")]

    token = shown["report_url"].rsplit("/", 1)[1]
    payload, mac = token.split(".")
    tampered = shown["report_url"].replace(token, f"{payload}.{mac[:-2]}{'AA' if mac[-2:] != 'AA' else 'BB'}")
    refused = claim_function.lambda_handler(_report_event(tampered), lambda_context)
    assert refused["statusCode"] == 403
    assert body_of(refused)["field"] == "token" and "signature" in body_of(refused)["message"]


def test_an_expired_link_and_a_deleted_report_are_gone_and_a_send_without_report_is_not_found(
    stack: Any,
    table: Table,
    merchant: tuple[str, str],
    load_handler: Callable[[str], ModuleType],
    lambda_context: Any,
) -> None:
    m = merchant[0]
    send_id, housekeeping = _finished_send(stack, table, m, load_handler, lambda_context)
    links = housekeeping.tasks["finish_sends"].links
    claim_function = load_handler("ClaimFunction")

    expired = links.report_url(m, send_id, datetime.now(UTC) - timedelta(seconds=1))
    answer = claim_function.lambda_handler(_report_event(expired), lambda_context)
    assert answer["statusCode"] == 410
    assert body_of(answer)["field"] == "token" and "expired" in body_of(answer)["message"]

    coupon = links.coupon_url(m, "cus_x", "cmp_x").replace(f"/merchants/{m}/coupons/", "/reports/")
    assert claim_function.lambda_handler(_report_event(coupon), lambda_context)["statusCode"] == 403

    other = links.report_url(m, "snd_never", datetime.now(UTC) + timedelta(days=7))
    missing = claim_function.lambda_handler(_report_event(other), lambda_context)
    assert (missing["statusCode"], body_of(missing)["field"]) == (404, "token")

    valid = links.report_url(m, send_id, datetime.now(UTC) + timedelta(days=7))
    key = sends.get(table, m, send_id)["report_key"]
    boto3.client("s3").delete_object(Bucket=stack.physical["SendReportBucket"], Key=key)
    gone = claim_function.lambda_handler(_report_event(valid), lambda_context)
    assert (gone["statusCode"], body_of(gone)["message"]) == (410, "this report was deleted")
