"""The rules of scheduled segment sends: when a send may be set and canceled, who is excluded
and why, when the coupon cannot serve it, and what the finished send reports."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from couponflow.domain.audience import Channel, Exclusion, SegmentRule, exclusion, is_active
from couponflow.domain.campaign import Campaign
from couponflow.domain.message_status import MessageStatus
from couponflow.domain.send_report import add_counts, counts, outcome, report_csv, report_rows
from couponflow.domain.send_schedule import (
    TRANSITIONS,
    Inapplicable,
    Rule,
    SendFailure,
    SendRuleBroken,
    SendStatus,
    check_cancel,
    check_coupon,
    coupon_problem,
    lacks_tag,
    send_time,
)

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)


def _rule_of(call: object) -> Rule:
    with pytest.raises(SendRuleBroken) as broken:
        call()  # type: ignore[operator]
    return broken.value.rule


def test_send_exactly_two_hours_ahead_on_the_hour_is_accepted() -> None:
    assert send_time(datetime(2026, 11, 22, 12, 0), "UTC", NOW.replace(minute=0)) == datetime(
        2026, 11, 22, 12, 0, tzinfo=UTC
    )


def test_send_less_than_two_hours_ahead_breaks_the_two_hours_rule() -> None:
    assert _rule_of(lambda: send_time(datetime(2026, 11, 22, 11, 0), "UTC", NOW)) is Rule.TWO_HOURS_AHEAD


def test_send_in_the_past_breaks_the_two_hours_rule() -> None:
    assert _rule_of(lambda: send_time(datetime(2026, 11, 21, 11, 0), "UTC", NOW)) is Rule.TWO_HOURS_AHEAD


@pytest.mark.parametrize("minute_second", [(30, 0), (0, 1), (59, 59)])
def test_send_off_the_hour_breaks_the_on_the_hour_rule(minute_second: tuple[int, int]) -> None:
    minute, second = minute_second
    at = datetime(2026, 11, 23, 12, minute, second)
    assert _rule_of(lambda: send_time(at, "UTC", NOW)) is Rule.ON_THE_HOUR


def test_naive_send_time_is_read_in_the_merchants_time_zone() -> None:
    at = send_time(datetime(2026, 11, 23, 9, 0), "America/New_York", NOW)
    assert at == datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


def test_on_the_hour_is_judged_in_the_merchants_zone_not_utc() -> None:
    # 10:00 in Kolkata is 04:30 UTC: on the hour there, so accepted...
    assert send_time(datetime(2026, 11, 23, 10, 0), "Asia/Kolkata", NOW) == datetime(
        2026, 11, 23, 4, 30, tzinfo=UTC
    )
    # ...while 05:00 UTC is 10:30 in Kolkata: refused.
    utc_hour = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)
    assert _rule_of(lambda: send_time(utc_hour, "Asia/Kolkata", NOW)) is Rule.ON_THE_HOUR


def test_two_hours_ahead_counts_real_time_across_a_dst_change() -> None:
    # New York falls back on 2026-11-01 at 02:00: 01:00 -> 03:00 local is three real hours.
    now = datetime(2026, 11, 1, 5, 0, tzinfo=UTC)  # 01:00 EDT
    assert send_time(datetime(2026, 11, 1, 3, 0), "America/New_York", now) - now == timedelta(hours=3)


def test_cancel_is_allowed_until_two_hours_before_and_refused_after() -> None:
    at = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    check_cancel(SendStatus.SCHEDULED, at, at - timedelta(hours=2))
    assert _rule_of(
        lambda: check_cancel(SendStatus.SCHEDULED, at, at - timedelta(hours=2) + timedelta(seconds=1))
    ) is (Rule.CANCEL_WINDOW)


@pytest.mark.parametrize(
    "status", [SendStatus.SENDING, SendStatus.DONE, SendStatus.CANCELED, SendStatus.FAILED]
)
def test_only_a_scheduled_send_can_be_canceled(status: SendStatus) -> None:
    at = NOW + timedelta(days=1)
    assert _rule_of(lambda: check_cancel(status, at, NOW)) is Rule.NOT_SCHEDULED


def test_cancel_and_start_both_leave_scheduled_and_nothing_leaves_a_final_status() -> None:
    assert {SendStatus.SENDING, SendStatus.CANCELED} <= TRANSITIONS[SendStatus.SCHEDULED]
    assert all(not TRANSITIONS[s] for s in (SendStatus.DONE, SendStatus.FAILED, SendStatus.CANCELED))


def _campaign(**kw: object) -> Campaign:
    return Campaign(merchant_id="m", campaign_id="c", name="Sale", subject="s", channel="email", **kw)  # type: ignore[arg-type]


def test_deleted_paused_and_ended_coupons_are_invalid() -> None:
    for campaign in (
        None,
        _campaign(paused=True),
        _campaign(paused=True, starts_at=NOW + timedelta(hours=1)),  # paused wins over not started
        _campaign(ends_at=NOW - timedelta(seconds=1)),
    ):
        assert (
            coupon_problem(campaign, now=NOW, recipients=1, codes_available=10) is SendFailure.INVALID_COUPON
        )


def test_a_campaign_not_started_at_the_send_time_is_inapplicable_naming_not_started() -> None:
    found = check_coupon(
        _campaign(starts_at=NOW + timedelta(hours=1)), now=NOW, recipients=1, codes_available=10
    )
    assert found is not None
    assert (found.failure, found.condition) == (SendFailure.COUPON_INAPPLICABLE, Inapplicable.NOT_STARTED)
    assert "starts at 2026-11-22T10:30:00+00:00" in found.message
    assert check_coupon(_campaign(starts_at=NOW), now=NOW, recipients=1, codes_available=10) is None


def test_daily_limit_left_on_the_send_day_below_the_recipients_is_inapplicable() -> None:
    campaign = _campaign(daily_limit=50, timezone="America/New_York")
    found = check_coupon(campaign, now=NOW, recipients=21, codes_available=100, claimed_that_day=30)
    assert found is not None
    assert (found.failure, found.condition) == (SendFailure.COUPON_INAPPLICABLE, Inapplicable.DAILY_LIMIT)
    assert "leaves 20 claims on 2026-11-22 for 21 recipients" in found.message
    assert check_coupon(campaign, now=NOW, recipients=20, codes_available=100, claimed_that_day=30) is None
    over = check_coupon(campaign, now=NOW, recipients=1, codes_available=100, claimed_that_day=60)
    assert over is not None and "leaves 0 claims" in over.message


def test_recipients_lacking_the_required_tag_make_the_coupon_inapplicable() -> None:
    campaign = _campaign(required_tag="vip")
    found = check_coupon(campaign, now=NOW, recipients=10, codes_available=100, lacking_tag=3)
    assert found is not None
    assert (found.failure, found.condition) == (SendFailure.COUPON_INAPPLICABLE, Inapplicable.REQUIRED_TAG)
    assert "'vip'" in found.message and "3 of 10" in found.message
    assert check_coupon(campaign, now=NOW, recipients=10, codes_available=100, lacking_tag=0) is None
    assert lacks_tag({"tags": ["a"]}, "vip") and not lacks_tag({"tags": ["vip"]}, "vip")
    assert lacks_tag({}, "vip") and not lacks_tag({}, None)


def test_an_invalid_coupon_is_reported_before_inapplicable_and_inapplicable_before_insufficient() -> None:
    ended = _campaign(ends_at=NOW, required_tag="vip", daily_limit=1)
    found = check_coupon(ended, now=NOW, recipients=5, codes_available=0, lacking_tag=5)
    assert found is not None and found.failure is SendFailure.INVALID_COUPON
    tagged = _campaign(required_tag="vip")
    found = check_coupon(tagged, now=NOW, recipients=5, codes_available=0, lacking_tag=1)
    assert found is not None and found.failure is SendFailure.COUPON_INAPPLICABLE


def test_fewer_codes_than_recipients_is_insufficient_and_exactly_enough_is_fine() -> None:
    assert (
        coupon_problem(_campaign(), now=NOW, recipients=11, codes_available=10)
        is SendFailure.INSUFFICIENT_COUPONS
    )
    assert coupon_problem(_campaign(), now=NOW, recipients=10, codes_available=10) is None


def test_active_means_an_interaction_within_365_days() -> None:
    assert is_active((NOW - timedelta(days=364)).isoformat(), NOW)
    assert not is_active((NOW - timedelta(days=365)).isoformat(), NOW)
    assert not is_active(None, NOW)


def _customer(**kw: object) -> dict[str, object]:
    return {
        "customer_id": "cus_1",
        "email": "a@example.com",
        "phone": "+14155550123",
        "last_interaction_at": (NOW - timedelta(days=1)).isoformat(),
        **kw,
    }


@pytest.mark.parametrize(
    ("customer", "channel", "expected"),
    [
        (_customer(), Channel.EMAIL, None),
        (_customer(unsubscribed_at=NOW.isoformat()), Channel.EMAIL, Exclusion.UNSUBSCRIBED),
        (_customer(email="s@example.com"), Channel.EMAIL, Exclusion.SUPPRESSED),
        (_customer(last_interaction_at=None), Channel.EMAIL, Exclusion.INACTIVE),
        (_customer(phone=None), Channel.SMS, Exclusion.NO_PHONE),
        (_customer(email=None), Channel.EMAIL, Exclusion.NO_EMAIL),
        (_customer(email="s@example.com"), Channel.BOTH, None),  # still reachable by text
        (_customer(email="s@example.com", phone=None), Channel.BOTH, Exclusion.SUPPRESSED),
    ],
)
def test_each_exclusion_reason(
    customer: dict[str, object], channel: Channel, expected: Exclusion | None
) -> None:
    assert exclusion(customer, channel=channel, now=NOW, suppressed={"s@example.com"}) is expected


def test_unsubscribed_wins_over_every_other_reason_and_inactive_can_be_overridden() -> None:
    gone = _customer(unsubscribed_at="x", last_interaction_at=None, email="s@example.com")
    assert (
        exclusion(gone, channel=Channel.EMAIL, now=NOW, suppressed={"s@example.com"})
        is Exclusion.UNSUBSCRIBED
    )
    idle = _customer(last_interaction_at=None)
    assert exclusion(idle, channel=Channel.EMAIL, now=NOW, suppressed=(), include_inactive=True) is None


def test_segment_rules_combine_with_and() -> None:
    rule = SegmentRule(active_within_days=30, has_tag="vip", claimed_campaign_id="c")
    vip = _customer(tags=["vip"])
    assert rule.matches(vip, NOW, claimed={"cus_1"})
    assert not rule.matches(vip, NOW, claimed=set())
    assert not rule.matches(_customer(tags=[]), NOW, claimed={"cus_1"})
    assert not rule.matches(
        _customer(tags=["vip"], last_interaction_at=(NOW - timedelta(days=31)).isoformat()),
        NOW,
        claimed={"cus_1"},
    )


def test_bounced_or_dropped_email_fails_the_recipient_unless_a_text_reached_them() -> None:
    sent = {"customer_id": "a", "outcome": "sent", "email": "a@x.io"}
    assert outcome(sent, MessageStatus.BOUNCED).reason == "bounced"
    assert outcome(sent, MessageStatus.DROPPED).reason == "dropped"
    assert outcome(sent, MessageStatus.DELIVERED).reason is None
    assert outcome({**sent, "sms_message_id": "sms-1"}, MessageStatus.BOUNCED).reason is None
    texted = {**sent, "sms_message_id": "msg_sms"}
    assert outcome(texted, MessageStatus.BOUNCED, MessageStatus.DELIVERED).reason is None
    assert outcome(texted, MessageStatus.BOUNCED, MessageStatus.FAILED).reason == "bounced"
    assert outcome({**texted, "sms_error": "opted out"}, MessageStatus.DROPPED).reason == "dropped"


def test_a_text_only_recipient_fails_with_sms_failed_when_sns_refused_or_the_receipt_failed() -> None:
    texted = {"customer_id": "t", "outcome": "sent", "phone": "+14155550100", "sms_message_id": "msg_t"}
    assert outcome(texted, None, MessageStatus.SENT).reason is None
    assert outcome(texted, None, MessageStatus.DELIVERED).reason is None
    assert outcome(texted, None, MessageStatus.FAILED).reason == "sms_failed"
    assert outcome({**texted, "sms_error": "invalid number"}, None, None).reason == "sms_failed"
    assert (
        outcome({"customer_id": "b", "outcome": "failed", "reason": "unsubscribed"}, None).reason
        == "unsubscribed"
    )


def test_report_lists_exactly_the_failed_recipients_and_counts_group_by_reason() -> None:
    outcomes = [
        outcome({"customer_id": "a", "outcome": "sent", "email": "a@x.io"}, MessageStatus.DELIVERED),
        outcome(
            {"customer_id": "b", "outcome": "sent", "email": "b@x.io", "phone": "+1555"},
            MessageStatus.BOUNCED,
        ),
        outcome({"customer_id": "c", "outcome": "failed", "reason": "no_phone", "email": "c@x.io"}, None),
    ]
    rows = list(csv.reader(io.StringIO(report_csv([report_rows(outcomes)]).decode())))
    assert rows == [
        ["customer_id", "email", "phone", "reason"],
        ["b", "b@x.io", "+1555", "bounced"],
        ["c", "c@x.io", "", "no_phone"],
    ]
    assert counts(outcomes) == {
        "recipients": 3,
        "sent": 1,
        "failed": 2,
        "failed_by_reason": {"bounced": 1, "no_phone": 1},
        "excluded": 1,
        "undelivered": 1,
    }


def test_a_send_counted_page_by_page_has_the_counts_and_the_report_of_one_counted_at_once() -> None:
    # Given 200 recipients of every kind, in an order that is not the customers' order
    statuses = [MessageStatus.DELIVERED, MessageStatus.BOUNCED, MessageStatus.DROPPED, MessageStatus.UNKNOWN]
    outcomes = []
    for i in range(200):
        customer = f"cus_{(i * 37) % 200:03d}"
        if i % 5 == 4:
            r = {"customer_id": customer, "outcome": "failed", "reason": "inactive", "email": f"{i}@x.io"}
            outcomes.append(outcome(r, None))
        else:
            r = {"customer_id": customer, "outcome": "sent", "email": f"{i}@x.io", "phone": "+1555,0"}
            outcomes.append(outcome(r, statuses[i % 4]))
    # When they are counted and reported in pages of 7, the counts so far carried between pages
    total: dict[str, object] = {}
    pages = []
    for start in range(0, len(outcomes), 7):
        total = add_counts(total, counts(outcomes[start : start + 7]))
        pages.append(report_rows(outcomes[start : start + 7]))
    # Then they are those of the whole send at once, and the report lists each failure once, in
    # customer order, its fields quoted where they need it
    assert total == counts(outcomes)
    rows = list(csv.reader(io.StringIO(report_csv(pages).decode())))
    failed = sorted([o.customer_id, o.email or "", o.phone or "", o.reason] for o in outcomes if o.failed)
    assert rows[0] == ["customer_id", "email", "phone", "reason"] and rows[1:] == failed
    assert len(failed) == total["failed"] == 160 and total["sent"] == 40
    assert report_csv([]) == b"customer_id,email,phone,reason\n"


def test_an_email_of_unknown_outcome_is_reported_as_such_and_counts_still_add_up() -> None:
    recipients = [
        {"customer_id": "cus_a", "email": "a@example.com", "outcome": "sent", "message_id": "m1"},
        {"customer_id": "cus_b", "email": "b@example.com", "outcome": "sent", "message_id": "m2"},
        {"customer_id": "cus_c", "email": "c@example.com", "outcome": "failed", "reason": "inactive"},
    ]
    outcomes = [
        outcome(recipients[0], "delivered"),
        outcome(recipients[1], "unknown"),
        outcome(recipients[2], None),
    ]
    summary = counts(outcomes)
    assert summary == {
        "recipients": 3,
        "sent": 1,
        "failed": 2,
        "failed_by_reason": {"outcome_unknown": 1, "inactive": 1},
        "excluded": 1,
        "undelivered": 1,
    }
    assert summary["sent"] + summary["failed"] == summary["recipients"] == len(recipients)
    assert summary["excluded"] + summary["undelivered"] == summary["failed"]
    assert "cus_b,b@example.com,,outcome_unknown" in report_csv([report_rows(outcomes)]).decode()


def test_a_refusal_for_less_than_two_hours_ahead_suggests_a_time_on_the_hour_in_the_merchants_zone():
    from couponflow.domain.send_schedule import SendRuleBroken, send_time

    now = datetime(2026, 12, 3, 10, 17, 42, tzinfo=UTC)
    with pytest.raises(
        SendRuleBroken, match=r"earliest 2026-12-03T18:00:00\+05:30"
    ):  # 12:17 UTC is 17:47 there
        send_time(datetime(2026, 12, 3, 12, 0), "Asia/Kolkata", now)  # 12:00 in +05:30: long past
