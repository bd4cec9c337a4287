"""Scheduled segment sends through their handlers (merchant API, send starter, fan-out, and the
housekeeping task that finishes them), against moto's server with the template's resources."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from couponflow.adapters import dynamodb
from couponflow.adapters.dynamodb import Table
from couponflow.domain.message_status import MessageStatus
from couponflow.domain.send_schedule import SendRuleBroken
from couponflow.models.api import CampaignIn
from couponflow.models.audience import CustomerIn, SegmentIn
from couponflow.models.sends import SendIn
from couponflow.services import audience, campaigns
from couponflow.services.housekeeping import finish_sends
from couponflow.services.housekeeping.finish_sends import READ_BATCH, FinishSends
from couponflow.services.sends import scheduler_from
from couponflow.settings.merchant_api import SendScheduleSettings
from couponflow.store import claims, keys, messages, sends

from tests.integration.helpers import answer_lost_then_sent_again, body_of, drain_queue, sqs_event


@pytest.fixture()
def table(stack: Any) -> Table:
    return Table(stack.physical["CouponflowTable"])


def _next_slot(hours: int = 3) -> str:
    at = (datetime.now(UTC) + timedelta(hours=hours)).replace(minute=0, second=0, microsecond=0)
    return at.isoformat()


def _recipients(table: Table, merchant_id: str, send_id: str) -> list[dict[str, Any]]:
    """Every recipient of a send, shard by shard in key order (the finish's own order)."""
    found: list[dict[str, Any]] = []
    for shard in range(keys.RECIPIENT_SHARDS):
        partition = keys.send_recipients_partition(merchant_id, send_id, shard)
        found.extend(table.query("pk = :pk", {":pk": partition}, consistent=True))
    return found


def _audience(table: Table, merchant_id: str, people: list[dict[str, Any]]) -> str:
    recent = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    audience.import_customers(
        table, merchant_id, [CustomerIn.model_validate({"last_interaction_at": recent, **p}) for p in people]
    )
    segment = audience.create_segment(table, merchant_id, SegmentIn(name="Everyone"))
    refs = [p.get("email") or audience.id_for(merchant_id, CustomerIn.model_validate(p)) for p in people]
    audience.change_members(table, merchant_id, segment["segment_id"], refs, add=True)
    return str(segment["segment_id"])


def _campaign(table: Table, merchant_id: str, codes: int, **fields: Any) -> str:
    body = CampaignIn(name="Winter", codes=[f"WIN-{i:04d}" for i in range(codes)], **fields)
    return str(campaigns.create_campaign(table, merchant_id, body)["campaign_id"])


def _schedule(api: Callable[..., dict[str, Any]], merchant_id: str, **body: Any) -> dict[str, Any]:
    return api(merchant_id, "POST", "/sends", "/sends", {"send_at": _next_slot(), **body})


def test_schedule_refuses_off_the_hour_and_too_soon_naming_the_rule(
    table: Table, merchant: tuple[str, str], api: Callable[..., dict[str, Any]]
) -> None:
    m = merchant[0]
    seg, cmp = _audience(table, m, [{"email": "a@example.com"}]), _campaign(table, m, 2)
    off = api(
        m,
        "POST",
        "/sends",
        "/sends",
        {"segment_id": seg, "campaign_id": cmp, "send_at": _next_slot().replace(":00:00", ":30:00")},
    )
    soon = api(
        m, "POST", "/sends", "/sends", {"segment_id": seg, "campaign_id": cmp, "send_at": _next_slot(1)}
    )
    assert (off["statusCode"], body_of(off)["rule"], body_of(off)["field"]) == (400, "on_the_hour", "send_at")
    assert (soon["statusCode"], body_of(soon)["rule"]) == (400, "two_hours_ahead")


def test_schedule_creates_a_one_time_schedule_and_a_second_send_on_the_segment_is_refused_until_cancel(
    stack: Any, table: Table, merchant: tuple[str, str], api: Callable[..., dict[str, Any]]
) -> None:
    m = merchant[0]
    seg, cmp = _audience(table, m, [{"email": "b@example.com"}]), _campaign(table, m, 2)
    first = _schedule(api, m, segment_id=seg, campaign_id=cmp)
    assert first["statusCode"] == 201, first["body"]
    send = body_of(first)
    assert send["status"] == "scheduled"
    group = stack.physical["SendScheduleGroup"]
    schedule = boto3.client("scheduler").get_schedule(Name=send["schedule_name"], GroupName=group)
    assert schedule["ScheduleExpression"] == f"at({send['send_at'][:19]})"
    assert schedule["Target"]["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    assert schedule["Target"]["DeadLetterConfig"]["Arn"].endswith(
        stack.physical["SendStarterDeadLetterQueue"].rsplit("/", 1)[1]
    )
    assert json.loads(schedule["Target"]["Input"]) == {"merchant_id": m, "send_id": send["send_id"]}

    second = _schedule(api, m, segment_id=seg, campaign_id=cmp)
    assert (second["statusCode"], body_of(second)["rule"]) == (409, "one_send_per_segment")

    canceled = api(m, "DELETE", "/sends/{sendId}", f"/sends/{send['send_id']}")
    assert body_of(canceled)["status"] == "canceled"
    with pytest.raises(boto3.client("scheduler").exceptions.ResourceNotFoundException):
        boto3.client("scheduler").get_schedule(Name=send["schedule_name"], GroupName=group)
    again = api(m, "POST", "/sends/{sendId}/cancel", f"/sends/{send['send_id']}/cancel")
    assert (again["statusCode"], body_of(again)["rule"]) == (400, "not_scheduled")
    assert _schedule(api, m, segment_id=seg, campaign_id=cmp)["statusCode"] == 201


def test_cancel_inside_the_last_two_hours_is_refused_with_the_cancel_window_rule(
    table: Table, merchant: tuple[str, str], load_handler: Callable[[str], ModuleType]
) -> None:
    m = merchant[0]
    seg, cmp = _audience(table, m, [{"email": "c@example.com"}]), _campaign(table, m, 2)
    load_handler("MerchantApiFunction")  # the template's environment, as at a cold start
    scheduler = scheduler_from(table, SendScheduleSettings.from_env())
    send = scheduler.schedule(m, _send_in(seg, cmp))
    at = datetime.fromisoformat(send["send_at"])
    with pytest.raises(SendRuleBroken) as broken:
        scheduler.cancel(m, send["send_id"], now=at - timedelta(minutes=119))
    assert broken.value.rule == "cancel_window"


def _send_in(seg: str, cmp: str, **kw: Any) -> SendIn:
    return SendIn.model_validate({"segment_id": seg, "campaign_id": cmp, "send_at": _next_slot(), **kw})


def test_preview_renders_for_a_sample_customer_and_preflight_counts_exclusions_and_codes(
    table: Table, merchant: tuple[str, str], api: Callable[..., dict[str, Any]]
) -> None:
    m = merchant[0]
    old = (datetime.now(UTC) - timedelta(days=500)).isoformat()
    people = [
        {"email": "ok1@example.com", "phone": "+14155550101", "first_name": "Ola"},
        {"email": "ok2@example.com"},  # no phone
        {"email": "gone@example.com", "phone": "+14155550102"},
        {"email": "idle@example.com", "phone": "+14155550103", "last_interaction_at": old},
    ]
    seg, cmp = _audience(table, m, people), _campaign(table, m, 1, store_url="https://shop.example.com/sale")
    audience.unsubscribe(table, m, "gone@example.com")
    send = body_of(_schedule(api, m, segment_id=seg, campaign_id=cmp, channel="sms"))
    preview = body_of(api(m, "GET", "/sends/{sendId}/preview", f"/sends/{send['send_id']}/preview"))
    assert "SAMPLE-CODE" in preview["sms"] and "utm_campaign=" + send["send_id"] in preview["sms"]
    assert preview["subject"] == "Winter: your coupon"
    flight = body_of(api(m, "GET", "/sends/{sendId}/preflight", f"/sends/{send['send_id']}/preflight"))
    assert flight["eligible"] == 1
    assert flight["excluded"] == {"no_phone": 1, "unsubscribed": 1, "inactive": 1}
    assert (flight["codes_needed"], flight["codes_available"], flight["problem_at_send_time"]) == (1, 1, None)


def test_checking_a_send_before_scheduling_it_shows_its_preflight_and_preview_and_stores_nothing(
    table: Table, merchant: tuple[str, str], api: Callable[..., dict[str, Any]]
) -> None:
    m = merchant[0]
    people = [{"email": "ann@example.com", "first_name": "Ann"}, {"email": "bo@example.com"}]
    seg, cmp = _audience(table, m, people), _campaign(table, m, 1)
    body = {"segment_id": seg, "campaign_id": cmp, "send_at": _next_slot()}

    checked = api(m, "POST", "/sends/check", "/sends/check", body)

    assert checked["statusCode"] == 200, checked["body"]
    answer = body_of(checked)
    assert answer["preflight"]["send_id"] is None and answer["preflight"]["eligible"] == 2
    assert answer["preflight"]["problem_at_send_time"] == "insufficient_coupons"  # 2 needed, 1 left
    preview = answer["preview"]
    assert preview["subject"] == "Winter: your coupon" and "SAMPLE-CODE" in preview["text"]
    assert answer["send_at"].endswith(":00:00+00:00")
    listed = body_of(api(m, "GET", "/sends", "/sends"))
    assert listed["items"] == []  # nothing was scheduled, the segment is free
    too_soon = {**body, "send_at": _next_slot(hours=1)}
    refused = api(m, "POST", "/sends/check", "/sends/check", too_soon)
    assert refused["statusCode"] == 400 and body_of(refused)["rule"] == "two_hours_ahead"

    _schedule(api, m, segment_id=seg, campaign_id=cmp)
    again = body_of(api(m, "POST", "/sends/check", "/sends/check", body))
    assert [w["reason"] for w in again["preflight"]["warnings"]] == [
        "insufficient_coupons",
        "one_send_per_segment",
    ]


def test_cancel_and_start_racing_exactly_one_wins(
    table: Table, merchant: tuple[str, str], load_handler: Callable[[str], ModuleType], lambda_context: Any
) -> None:
    m = merchant[0]
    starter = load_handler("SendStarterFunction")
    load_handler("MerchantApiFunction")
    scheduler = scheduler_from(table, SendScheduleSettings.from_env())
    cmp = _campaign(table, m, 5)
    for i in range(4):
        seg = _audience(table, m, [{"email": f"race{i}@example.com"}])
        send = scheduler.schedule(m, _send_in(seg, cmp))

        def cancel(send_id: str = send["send_id"]) -> bool:
            try:
                scheduler.cancel(m, send_id)
            except Exception:
                return False
            return True

        def start(send_id: str = send["send_id"]) -> bool:
            result = starter.lambda_handler({"merchant_id": m, "send_id": send_id}, lambda_context)
            return bool(result["outcome"] == "started")

        with ThreadPoolExecutor(2) as pool:
            won = [f.result() for f in [pool.submit(cancel), pool.submit(start)]]
        final = sends.get(table, m, send["send_id"])["status"]
        assert won.count(True) == 1, (won, final)
        assert final == ("canceled" if won[0] else "sending")


def _moves_to(status: str) -> Callable[[str], bool]:
    """Whether an UpdateItem's body is a send's status move to ``status``."""
    return lambda body: f'":to":{{"S":"{status}"}}' in body.replace(" ", "")


def test_a_send_move_whose_answer_was_lost_is_made_when_botocore_sends_it_again(
    table: Table, merchant: tuple[str, str], load_handler: Callable[[str], ModuleType], lambda_context: Any
) -> None:
    """Given a start's and a cancel's status writes that DynamoDB carried out but whose answers
    were lost, so botocore sent each again, then the start goes on and fans the send out, and the
    cancel answers done and frees the segment (read as someone else's move, the first would leave
    the send ``sending`` and never fanned out, the second the segment locked for good)."""
    m = merchant[0]
    starter = load_handler("SendStarterFunction")
    load_handler("MerchantApiFunction")
    scheduler = scheduler_from(table, SendScheduleSettings.from_env())
    cmp = _campaign(table, m, 5)
    started = scheduler.schedule(m, _send_in(_audience(table, m, [{"email": "lost1@example.com"}]), cmp))
    seg = _audience(table, m, [{"email": "lost2@example.com"}])
    canceled = scheduler.schedule(m, _send_in(seg, cmp))

    with answer_lost_then_sent_again(dynamodb.client(), "UpdateItem", _moves_to("sending")) as lost:
        result = starter.lambda_handler({"merchant_id": m, "send_id": started["send_id"]}, lambda_context)
    assert lost == [1]
    assert result["outcome"] == "started"
    assert sends.get(table, m, started["send_id"]).get("fanned_out_at")

    with answer_lost_then_sent_again(dynamodb.client(), "UpdateItem", _moves_to("canceled")) as lost:
        view = scheduler.cancel(m, canceled["send_id"])
    assert lost == [1]
    assert view["status"] == "canceled"
    assert scheduler.schedule(m, _send_in(seg, cmp))["status"] == "scheduled"  # the segment is free


def test_a_recipient_put_whose_answer_was_lost_is_recorded_when_botocore_sends_it_again(
    table: Table, merchant: tuple[str, str]
) -> None:
    """Given a fan-out's record of a recipient that DynamoDB stored but whose answer was lost, so
    botocore sent it again, then the retry reads as recorded (read as a redelivery's repeat, the
    recipient's email would never be queued); another fan-out's record of them is a repeat."""
    m = merchant[0]
    outcome = {
        "customer_id": "cus_lost",
        "outcome": "sent",
        "message_id": "msg_lost",
        "email_queued": True,
        "at": "2026-12-04T06:00:00.000001+00:00",
    }

    def puts_a_recipient(body: str) -> bool:
        return "send_recipient" in body

    with answer_lost_then_sent_again(dynamodb.client(), "PutItem", puts_a_recipient) as lost:
        assert sends.put_recipient(table, m, "snd_lostput", outcome) is True
    assert lost == [1]
    later = {**outcome, "at": "2026-12-04T06:05:00.000001+00:00"}  # a redelivered chunk's
    assert sends.put_recipient(table, m, "snd_lostput", later) is False


def test_start_fails_the_send_for_an_invalid_coupon_and_for_too_few_codes_and_frees_the_segment(
    table: Table, merchant: tuple[str, str], load_handler: Callable[[str], ModuleType], lambda_context: Any
) -> None:
    m = merchant[0]
    starter = load_handler("SendStarterFunction")
    load_handler("MerchantApiFunction")
    scheduler = scheduler_from(table, SendScheduleSettings.from_env())
    seg = _audience(table, m, [{"email": "x1@example.com"}, {"email": "x2@example.com"}])
    paused = _campaign(table, m, 5)
    send = scheduler.schedule(m, _send_in(seg, paused))
    table.update(keys.campaign(m, paused), "SET paused = :t", values={":t": True})
    result = starter.lambda_handler({"merchant_id": m, "send_id": send["send_id"]}, lambda_context)
    assert result["outcome"] == "invalid_coupon"
    assert sends.get(table, m, send["send_id"])["reason"] == "invalid_coupon"

    short = _campaign(table, m, 1)
    send = scheduler.schedule(m, _send_in(seg, short))  # the segment was freed by the failure
    result = starter.lambda_handler({"merchant_id": m, "send_id": send["send_id"]}, lambda_context)
    assert result["outcome"] == "insufficient_coupons"
    stored = sends.get(table, m, send["send_id"])
    assert (stored["status"], stored["reason"], stored["eligible"], stored["codes_available"]) == (
        "failed",
        "insufficient_coupons",
        2,
        1,
    )


def test_fan_out_assigns_one_code_each_redelivery_sends_nothing_twice_and_the_send_finishes_with_a_report(
    stack: Any,
    table: Table,
    merchant: tuple[str, str],
    api: Callable[..., dict[str, Any]],
    load_handler: Callable[[str], ModuleType],
    lambda_context: Any,
) -> None:
    m = merchant[0]
    starter = load_handler("SendStarterFunction")
    fanout = load_handler("SendFanoutFunction")
    mailer = load_handler("MailerFunction")
    load_handler("MerchantApiFunction")
    drain_queue(stack.physical["SendFanoutQueue"])
    drain_queue(stack.physical["MailQueue"])
    starter.starter = dataclasses.replace(starter.starter, chunk_size=25)
    people = [{"email": f"fan{i}@example.com", "phone": f"+1415555{i:04d}"} for i in range(58)]
    people += [{"email": "nophone@example.com"}, {"phone": "+14155559999"}]
    seg = _audience(table, m, people)
    cmp = _campaign(table, m, 70)
    send = scheduler_from(table, SendScheduleSettings.from_env()).schedule(
        m, _send_in(seg, cmp, channel="both", subject="Fan-out {{name}}: {{code}}")
    )
    assert (
        starter.lambda_handler({"merchant_id": m, "send_id": send["send_id"]}, lambda_context)["outcome"]
        == "started"
    )
    chunks = [c for c in drain_queue(stack.physical["SendFanoutQueue"]) if c["send_id"] == send["send_id"]]
    assert len(chunks) == 3 and sum(len(c["recipients"]) for c in chunks) == 60
    events = [json.dumps(c) for c in chunks]
    for body in events + events[:1]:  # the first chunk is delivered twice
        assert fanout.lambda_handler(sqs_event([body]), lambda_context) == {"batchItemFailures": []}
    jobs = drain_queue(stack.physical["MailQueue"])
    targets = [t["message_id"] for j in jobs for t in j["messages"]]  # up to 50 messages per job
    assert len(set(targets)) == 59  # everyone with an email
    assert all(len(j["messages"]) <= 50 for j in jobs)
    unique = list({tuple(t["message_id"] for t in j["messages"]): j for j in jobs}.values())
    # the redelivered chunk bundled the same jobs, and each message names the one job that sends it
    assert len({(j["send_id"], j["mail_job"]) for j in jobs}) == len(unique) == 3
    for j in unique:
        for t in j["messages"]:
            item = table.get(keys.message(m, t["customer_id"], t["message_id"]))
            assert item is not None and (item["send_id"], item["mail_job"]) == (j["send_id"], j["mail_job"])
    ses = boto3.client("ses")

    def mail(batch: list[dict[str, Any]]) -> float:
        """Mail the jobs as SQS would: records the mailer gives back (out of sending budget
        before its deadline, on a slow machine) come again, until none is left."""
        before = ses.get_send_quota()["SentLast24Hours"]
        pending = [json.dumps(j) for j in batch]
        for _ in range(10):
            given_back = []
            for start in range(0, len(pending), 10):
                event = sqs_event(pending[start : start + 10])
                failures = mailer.lambda_handler(event, lambda_context)["batchItemFailures"]
                failed = {f["itemIdentifier"] for f in failures}
                given_back += [r["body"] for r in event["Records"] if r["messageId"] in failed]
            pending = given_back
            if not pending:
                break
        assert not pending, "the mailer kept giving jobs back"
        return float(ses.get_send_quota()["SentLast24Hours"] - before)

    assert mail(unique) > 0
    assert mail(jobs) == 0  # every job again, the redelivered chunk's included: nothing is sent twice
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    raw = [
        str(getattr(x, "raw_data", "")) for x in ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    ]
    assert sum("Subject: Fan-out there: WIN-" in r for r in raw) >= 59  # the send's own subject, filled in

    holders = claims.list_for_campaign(table, m, cmp, limit=1000)
    assert len(holders) == 60 and len({h["code"] for h in holders}) == 60
    # Being sent a coupon is not the customer's interaction: nobody became more recently active.
    a_day_ago = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    profiles = [table.get(keys.customer(m, h["customer_id"])) or {} for h in holders]
    assert all(p["last_interaction_at"] < a_day_ago for p in profiles)
    stored = sends.get(table, m, send["send_id"])
    assert (stored["chunks_done"], stored["count_processed"]) == (3, 60)

    emailed = [h for h in holders if h.get("email")]
    emails = [table.get(keys.message(m, h["customer_id"], h["message_id"])) or {} for h in emailed]
    assert len(emails) == 59 and all(e["status"] == "sent" for e in emails)
    assert not any("gsi3pk" in e for e in emails), "a send's emails skip the awaiting index at hand-off"

    housekeeping = load_handler("HousekeepingFunction")
    finish: FinishSends = housekeeping.tasks["finish_sends"]
    assert finish.stale_after == housekeeping.tasks["stale_messages"].limit  # one STALE_MESSAGE_HOURS
    assert not finish.finish(m, send["send_id"], datetime.now(UTC))  # emails still await SES's verdict
    assert finish.finish(m, send["send_id"], datetime.now(UTC) + timedelta(hours=1))
    # Still in flight when the send finished: each on the awaiting index by its own hand-off time.
    for e in emails:
        watched = table.get({"pk": e["pk"], "sk": e["sk"]}) or {}
        assert watched["gsi3pk"].startswith("AWAITING#")
        assert watched["gsi3sk"] == f"{e['sent_at']}#{e['message_id']}"
    done = sends.get(table, m, send["send_id"])
    assert (done["status"], done["count_sent"], done["count_failed"]) == ("done", 60, 0)
    assert "report_url" not in done

    # The recipient with a phone and no email was texted only: no email of theirs is shown.
    texted = next(h for h in holders if not h.get("email"))
    page = body_of(api(m, "GET", "/customers/{customerRef}", f"/customers/{texted['customer_id']}"))
    assert [x["channel"] for x in page["messages"]] == ["sms"]
    rows = body_of(
        api(
            m,
            "GET",
            "/campaigns/{campaignId}/customers",
            f"/campaigns/{cmp}/customers",
            query={"limit": "100"},
        )
    )
    row = next(r for r in rows["items"] if r["customer_id"] == texted["customer_id"])
    assert row["email_status"] is None and row["status"] != "email_dropped"


def _notices_to(address: str) -> list[tuple[str, str]]:
    """(subject, body) of the plain notification emails moto's SES took for ``address``."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    sent = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    return [
        (str(m.subject), str(m.body))
        for m in sent
        if isinstance(getattr(m, "destinations", None), dict)
        and address in m.destinations.get("ToAddresses", [])
    ]


def test_a_coupon_whose_conditions_do_not_fit_warns_in_preflight_and_fails_the_start_naming_the_condition(
    table: Table,
    merchant: tuple[str, str],
    api: Callable[..., dict[str, Any]],
    load_handler: Callable[[str], ModuleType],
    lambda_context: Any,
) -> None:
    m = merchant[0]
    owner = f"owner-{m}@shop.example.com"
    table.update(keys.merchant(m), "SET notification_email = :e", values={":e": owner})
    starter = load_handler("SendStarterFunction")
    scheduler = scheduler_from(table, SendScheduleSettings.from_env())
    people = [
        {"email": "vip1@example.com", "tags": ["vip"]},
        {"email": "vip2@example.com", "tags": ["vip"]},
        {"email": "plain@example.com"},
    ]
    seg = _audience(table, m, people)

    # The campaign is only for tagged customers; one eligible recipient lacks the tag.
    tagged = _campaign(table, m, 10, required_tag="vip")
    send = scheduler.schedule(m, _send_in(seg, tagged))
    flight = body_of(api(m, "GET", "/sends/{sendId}/preflight", f"/sends/{send['send_id']}/preflight"))
    assert flight["problem_at_send_time"] == "coupon_inapplicable"
    assert [(w["reason"], w["condition"]) for w in flight["warnings"]] == [
        ("coupon_inapplicable", "required_tag")
    ]
    assert "1 of 3 recipients" in flight["warnings"][0]["message"]
    result = starter.lambda_handler({"merchant_id": m, "send_id": send["send_id"]}, lambda_context)
    assert result["outcome"] == "coupon_inapplicable"
    stored = body_of(api(m, "GET", "/sends/{sendId}", f"/sends/{send['send_id']}"))
    assert (stored["status"], stored["reason"], stored["condition"]) == (
        "failed",
        "coupon_inapplicable",
        "required_tag",
    )
    assert "tagged 'vip'" in stored["reason_detail"]
    subject, body = _notices_to(owner)[-1]
    assert subject == f"Send {send['send_id']} failed: coupon_inapplicable (required_tag)"
    assert "only for customers tagged 'vip'; 1 of 3 recipients are not" in body

    # A daily limit that leaves fewer claims on the send's day than recipients (the segment was
    # freed by the failure, so it takes its next send).
    limited = _campaign(table, m, 10, daily_limit=2)
    send = scheduler.schedule(m, _send_in(seg, limited))
    result = starter.lambda_handler({"merchant_id": m, "send_id": send["send_id"]}, lambda_context)
    assert result["outcome"] == "coupon_inapplicable"
    assert sends.get(table, m, send["send_id"])["condition"] == "daily_limit"
    assert "leaves 2 claims" in _notices_to(owner)[-1][1]

    # A window that opens after the send time: inapplicable (not started), not invalid.
    later = datetime.now(UTC) + timedelta(days=2)
    future = _campaign(table, m, 10, starts_at=later)
    send = scheduler.schedule(m, _send_in(seg, future))
    flight = body_of(api(m, "GET", "/sends/{sendId}/preflight", f"/sends/{send['send_id']}/preflight"))
    assert [w["condition"] for w in flight["warnings"]] == ["not_started"]
    result = starter.lambda_handler({"merchant_id": m, "send_id": send["send_id"]}, lambda_context)
    assert result["outcome"] == "coupon_inapplicable"
    assert sends.get(table, m, send["send_id"])["condition"] == "not_started"

    # Everyone tagged, no limit, open window: no warning, and the send starts.
    fits = _campaign(table, m, 10)
    send = scheduler.schedule(m, _send_in(seg, fits))
    flight = body_of(api(m, "GET", "/sends/{sendId}/preflight", f"/sends/{send['send_id']}/preflight"))
    assert (flight["problem_at_send_time"], flight["warnings"]) == (None, [])


@pytest.mark.parametrize(
    "dies_at", ["CODE", "MESSAGE#"], ids=["before its codes' registry", "before its messages"]
)
def test_a_chunk_that_died_after_its_claims_gets_the_rest_back_when_delivered_again(
    stack: Any,
    table: Table,
    merchant: tuple[str, str],
    load_handler: Callable[[str], ModuleType],
    lambda_context: Any,
    monkeypatch: pytest.MonkeyPatch,
    dies_at: str,
) -> None:
    """The fan-out writes a group's claims in one transaction, then the codes' registry naming
    their holders, then the messages. Given a first delivery that dies after the claims, when the
    chunk comes again, then every recipient has their one code, named theirs in its registry,
    and their message, and every email is queued."""
    m = merchant[0]
    starter = load_handler("SendStarterFunction")
    fanout = load_handler("SendFanoutFunction")
    load_handler("MerchantApiFunction")  # the scheduling settings
    drain_queue(stack.physical["SendFanoutQueue"])
    drain_queue(stack.physical["MailQueue"])
    seg = _audience(table, m, [{"email": f"died{i}@example.com"} for i in range(5)])
    cmp = _campaign(table, m, 10)
    send = scheduler_from(table, SendScheduleSettings.from_env()).schedule(m, _send_in(seg, cmp))
    starter.lambda_handler({"merchant_id": m, "send_id": send["send_id"]}, lambda_context)
    (chunk,) = [c for c in drain_queue(stack.physical["SendFanoutQueue"]) if c["send_id"] == send["send_id"]]

    real_put, real_update = Table.put, Table.update

    def put(self: Table, item: Any, **kwargs: Any) -> Any:
        if str(item.get("sk", "")).startswith(dies_at):
            raise ConnectionError("the function died here")
        return real_put(self, item, **kwargs)

    def update(self: Table, key: Any, *args: Any, **kwargs: Any) -> Any:
        if str(key.get("sk", "")).startswith(dies_at):
            raise ConnectionError("the function died here")
        return real_update(self, key, *args, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(Table, "put", put)
        patched.setattr(Table, "update", update)
        with pytest.raises(BatchProcessingError):  # Powertools: every record of the batch failed
            fanout.lambda_handler(sqs_event([json.dumps(chunk)]), lambda_context)
    assert fanout.lambda_handler(sqs_event([json.dumps(chunk)]), lambda_context) == {"batchItemFailures": []}

    jobs = drain_queue(stack.physical["MailQueue"])
    queued = {t["message_id"]: t["customer_id"] for j in jobs for t in j["messages"]}
    assert len(queued) == 5
    held = [claims.get(table, m, c, cmp) for c in queued.values()]
    assert len({h.code for h in held if h}) == 5
    for h in held:
        assert h is not None and h.code is not None
        registry = table.get(keys.code_registry(m, cmp, h.code))
        assert registry is not None and (registry["state"], registry["customer_id"]) == (
            "assigned",
            h.customer_id,
        )
    for message_id, customer in queued.items():
        message = table.get(keys.message(m, customer, message_id))
        assert message is not None and message["status"] == "queued", message_id


def test_the_sends_list_filters_by_segment_and_by_status_from_their_indexes_newest_first(
    stack: Any, table: Table, merchant: tuple[str, str], api: Callable[..., dict[str, Any]]
) -> None:
    m = merchant[0]
    cmp = _campaign(table, m, 4)
    seg_a = _audience(table, m, [{"email": "a1@example.com"}])
    seg_b = _audience(table, m, [{"email": "b1@example.com"}])
    first = body_of(_schedule(api, m, segment_id=seg_a, campaign_id=cmp))
    api(m, "DELETE", "/sends/{sendId}", f"/sends/{first['send_id']}")
    second = body_of(_schedule(api, m, segment_id=seg_a, campaign_id=cmp))
    other = body_of(_schedule(api, m, segment_id=seg_b, campaign_id=cmp))

    def listed(**query: str) -> list[str]:
        ids, after = [], None
        while True:
            page = body_of(
                api(
                    m,
                    "GET",
                    "/sends",
                    "/sends",
                    query={**query, "limit": "1", **({"next": after} if after else {})},
                )
            )
            ids += [s["send_id"] for s in page["items"]]
            after = page.get("next")
            if not after:
                return ids

    assert listed(segment_id=seg_a) == [second["send_id"], first["send_id"]]
    assert listed(segment_id=seg_b) == [other["send_id"]]
    assert listed(status="canceled") == [first["send_id"]]  # the index entry moved with the cancel
    assert listed(status="scheduled") == [other["send_id"], second["send_id"]]
    assert listed(segment_id=seg_a, status="scheduled") == [second["send_id"]]
    assert listed(segment_id="seg_nobody") == []


def test_finishing_a_draining_send_reads_on_from_where_the_last_sweep_stopped(
    stack: Any,
    table: Table,
    merchant: tuple[str, str],
    load_handler: Callable[[str], ModuleType],
    lambda_context: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a fanned-out send of 240 emails, none with SES's verdict yet
    m = merchant[0]
    starter = load_handler("SendStarterFunction")
    fanout = load_handler("SendFanoutFunction")
    load_handler("MerchantApiFunction")  # the environment scheduling a send reads
    drain_queue(stack.physical["SendFanoutQueue"])
    seg = _audience(table, m, [{"email": f"drain{i}@example.com"} for i in range(240)])
    cmp = _campaign(table, m, 240)
    send = scheduler_from(table, SendScheduleSettings.from_env()).schedule(m, _send_in(seg, cmp))
    starter.lambda_handler({"merchant_id": m, "send_id": send["send_id"]}, lambda_context)
    for chunk in drain_queue(stack.physical["SendFanoutQueue"]):
        if chunk["send_id"] == send["send_id"]:
            assert (
                fanout.lambda_handler(sqs_event([json.dumps(chunk)]), lambda_context)["batchItemFailures"]
                == []
            )
    drain_queue(stack.physical["MailQueue"])
    in_order = [r for r in _recipients(table, m, send["send_id"]) if r.get("email_queued")]
    assert len(in_order) == 240
    read: list[str] = []
    consistent: list[bool] = []
    statuses = FinishSends._statuses

    def counted(self: FinishSends, merchant_id: str, wanted: list[tuple[str, str]], **kw: Any) -> Any:
        read.extend(message for _, message in wanted)
        consistent.append(kw.get("consistent", True))
        return statuses(self, merchant_id, wanted, **kw)

    monkeypatch.setattr(FinishSends, "_statuses", counted)
    finish: FinishSends = load_handler("HousekeepingFunction").tasks["finish_sends"]

    def deliver(recipients: list[dict[str, Any]]) -> None:
        for r in recipients:
            key = keys.message(m, r["customer_id"], r["message_id"])
            messages.raise_status(table, key, MessageStatus.DELIVERED, at=datetime.now(UTC).isoformat())

    # When the first 150 in the sweep's order have their verdict, and housekeeping sweeps twice
    deliver(in_order[:150])
    assert not finish.finish(m, send["send_id"], datetime.now(UTC))
    first = list(read)
    read.clear()
    assert not finish.finish(m, send["send_id"], datetime.now(UTC))

    # Then the first sweep read the settled ones once and stopped at the page still in flight, and
    # the second read on from there: that page again, nothing before it
    waiting = in_order[150]["message_id"]
    assert first[:150] == [r["message_id"] for r in in_order[:150]] and waiting in first
    assert 150 < len(first) < 150 + READ_BATCH
    assert waiting in read and read == first[-len(read) :] and len(read) <= READ_BATCH
    assert consistent and not any(consistent), "the sweep reads at half price: a stale status only waits"
    # And once every email has its verdict the send finishes with every one counted
    deliver(in_order[150:])
    assert finish.finish(m, send["send_id"], datetime.now(UTC))
    done = sends.get(table, m, send["send_id"])
    assert (done["status"], done["count_sent"], done["count_failed"]) == ("done", 240, 0)


def test_a_send_too_large_for_one_housekeeping_run_finishes_over_several_with_the_counts_and_report_of_one(
    stack: Any,
    table: Table,
    merchant: tuple[str, str],
    api: Callable[..., dict[str, Any]],
    load_handler: Callable[[str], ModuleType],
    lambda_context: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a fanned-out send of 50: 40 emailed, a third of them bounced, the rest delivered, and
    # 10 inactive customers left out; and housekeeping runs that read 4 pages of 5 recipients each
    m = merchant[0]
    starter = load_handler("SendStarterFunction")
    fanout = load_handler("SendFanoutFunction")
    load_handler("MerchantApiFunction")  # the environment scheduling a send reads
    drain_queue(stack.physical["SendFanoutQueue"])
    idle = (datetime.now(UTC) - timedelta(days=500)).isoformat()
    people = [{"email": f"big{i}@example.com"} for i in range(40)]
    people += [{"email": f"idle{i}@example.com", "last_interaction_at": idle} for i in range(10)]
    send = scheduler_from(table, SendScheduleSettings.from_env()).schedule(
        m, _send_in(_audience(table, m, people), _campaign(table, m, 50))
    )
    send_id = send["send_id"]
    starter.lambda_handler({"merchant_id": m, "send_id": send_id}, lambda_context)
    for chunk in drain_queue(stack.physical["SendFanoutQueue"]):
        if chunk["send_id"] == send_id:
            assert (
                fanout.lambda_handler(sqs_event([json.dumps(chunk)]), lambda_context)["batchItemFailures"]
                == []
            )
    drain_queue(stack.physical["MailQueue"])
    recipients = _recipients(table, m, send_id)
    emailed = [r for r in recipients if r.get("email_queued")]
    assert (len(recipients), len(emailed)) == (50, 40)
    expected: list[list[str]] = []
    for i, r in enumerate(emailed):
        status = MessageStatus.BOUNCED if i % 3 == 0 else MessageStatus.DELIVERED
        key = keys.message(m, r["customer_id"], r["message_id"])
        messages.raise_status(table, key, status, at=datetime.now(UTC).isoformat())
        if status == MessageStatus.BOUNCED:
            expected.append([r["customer_id"], r["email"], "", "bounced"])
    expected += [[r["customer_id"], r["email"], "", "inactive"] for r in recipients if r.get("reason")]
    housekeeping = load_handler("HousekeepingFunction")
    monkeypatch.setattr(finish_sends, "READ_BATCH", 5)
    small = dataclasses.replace(housekeeping.tasks["finish_sends"], pages_per_run=4)
    monkeypatch.setattr(housekeeping, "tasks", {"finish_sends": small})

    # When housekeeping runs (as its role: the report's parts are read back) until the send is done
    tallies = []
    shown: list[int | None] = []  # what the merchant sees of the count meanwhile
    while sends.get(table, m, send_id)["status"] == "sending":
        assert len(tallies) < 200, "the send never finished"
        housekeeping.lambda_handler({}, lambda_context)
        tallies.append(sends.get(table, m, send_id).get("tally"))
        shown.append(body_of(api(m, "GET", "/sends/{sendId}", f"/sends/{send_id}")).get("counted"))

    # Then it took several runs, each counting on from where the last stopped, its rows in parts
    counted = [t for t in tallies if t]
    assert len(tallies) > 8 and len(counted) > 3
    assert [t["step"] for t in counted] == sorted({t["step"] for t in counted})
    assert len(counted[-1]["parts"]) > 1
    # and the send showed how far its count had got, rising, until it was done (a run whose pages
    # were all empty shards, the recipients' shards following from the random merchant, shows 0)
    progress = [n for n in shown if n is not None]
    assert progress == sorted(progress) and progress[0] < 50 and progress[-1] > 0 and shown[-1] is None
    # And the send has the counts and the report that one read of everything would give
    done = sends.get(table, m, send_id)
    assert (done["count_recipients"], done["count_sent"], done["count_failed"]) == (50, 26, 24)
    assert (done["count_excluded"], done["count_undelivered"]) == (10, 14)
    assert done["failed_by_reason"] == {"bounced": 14, "inactive": 10}
    report = boto3.client("s3").get_object(Bucket=stack.physical["SendReportBucket"], Key=done["report_key"])
    rows = list(csv.reader(io.StringIO(report["Body"].read().decode())))
    assert rows == [["customer_id", "email", "phone", "reason"], *sorted(expected)]


def test_a_finish_s_tally_is_saved_over_the_one_it_read_only_and_a_lost_answer_s_retry_finds_it_saved(
    table: Table, merchant: tuple[str, str]
) -> None:
    m = merchant[0]
    first = {"shard": 0, "after": "a", "counts": {}, "parts": [], "step": 1}
    assert sends.save_tally(table, m, "snd_tally", first)
    assert sends.save_tally(table, m, "snd_tally", first)  # its answer was lost: the retry finds it
    # two runs that both read the first tally: the one that saves first counts on, the other stops
    mine = {**first, "after": "b", "parts": ["report-parts/x.csv"], "step": 2}
    theirs = {**first, "after": "c", "step": 2}
    assert sends.save_tally(table, m, "snd_tally", mine)
    assert not sends.save_tally(table, m, "snd_tally", theirs)
    assert not sends.save_tally(table, m, "snd_tally", {**first, "after": "z"})  # not over a newer one
    assert (table.get(keys.send(m, "snd_tally")) or {})["tally"] == mine
