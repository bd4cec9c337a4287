"""Pure domain rules: email normalisation, the coupon email, campaign windows, claim moves, API keys."""

from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta

import pytest
from couponflow.domain import api_keys
from couponflow.domain.campaign import Campaign
from couponflow.domain.claim_status import ClaimStatus, OutOfCouponsReason, can_move
from couponflow.domain.coupon_email import CouponEmail, fill, render, unknown_placeholders
from couponflow.domain.emails import InvalidEmail, normalize_email
from couponflow.ids import customer_id, new_id, shard_of


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Ann@Example.COM ", "ann@example.com"),
        ("bounce+x@simulator.amazonses.com", "bounce+x@simulator.amazonses.com"),
        ("o'neil@shop.co.uk", "o'neil@shop.co.uk"),
    ],
)
def test_valid_emails_are_trimmed_and_lower_cased(raw, expected):
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["", "plain", "a@b", "a@@b.com", "a b@c.com", "a@-b.com", "a..b@c.com", "x" * 65 + "@c.com", "a@b.c"],
)
def test_invalid_emails_are_refused_with_a_reason(raw):
    with pytest.raises(InvalidEmail):
        normalize_email(raw)


def test_the_same_address_is_the_same_customer_of_a_merchant_but_not_of_another():
    assert customer_id("m1", "a@b.com") == customer_id("m1", "a@b.com")
    assert customer_id("m1", "a@b.com") != customer_id("m2", "a@b.com")


def test_new_ids_sort_by_creation_and_shards_are_stable():
    first, second = new_id("msg"), new_id("msg")
    assert first.startswith("msg_") and len(first) == 30
    assert first[:14] <= second[:14]
    assert shard_of("CODE-1", 16) == shard_of("CODE-1", 16)
    assert {shard_of(f"CODE-{i}", 16) for i in range(500)} == set(range(16))


def _coupon(**overrides: object) -> CouponEmail:
    fields: dict[str, object] = {
        "sender": "Shop <coupons@shop.example.com>",
        "recipient": "ann@example.com",
        "subject": "Your {{campaign}} code",
        "html_template": "<p>Hi {{name}}: <b>{{code}}</b> <a href='{{coupon_url}}'>go</a></p>",
        "text_template": "Hi {{name}}: {{code}} {{coupon_url}}",
        "values": {
            "code": "SAVE-10",
            "campaign": "Spring",
            "name": "<Ann>",
            "coupon_url": "https://s.example/x?a=1&b=2",
        },
        "unsubscribe_url": "https://api.example/unsub?t=abc",
    }
    fields.update(overrides)
    return CouponEmail(**fields)  # type: ignore[arg-type]


def test_coupon_email_is_multipart_with_both_bodies_filled_in():
    message = email.message_from_bytes(render(_coupon(), now=datetime(2026, 11, 22, tzinfo=UTC)))
    assert message["Subject"] == "Your Spring code"
    assert message.get_content_type() == "multipart/alternative"
    text, html = (part.get_payload(decode=True).decode() for part in message.get_payload())
    assert "Hi <Ann>: SAVE-10" in text
    assert "Hi &lt;Ann&gt;: <b>SAVE-10</b>" in html  # values are escaped in HTML, templates are not
    assert "a=1&amp;b=2" in html


def test_coupon_email_carries_one_click_unsubscribe_headers():
    message = email.message_from_bytes(render(_coupon()))
    assert message["List-Unsubscribe"] == "<https://api.example/unsub?t=abc>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_default_templates_are_used_when_the_campaign_has_none():
    message = email.message_from_bytes(
        render(_coupon(html_template=None, text_template=None, unsubscribe_url=None))
    )
    text = message.get_payload()[0].get_payload(decode=True).decode()
    assert "SAVE-10" in text and "List-Unsubscribe" not in message


def test_unknown_placeholders_are_reported_and_unknown_values_left_empty():
    assert unknown_placeholders("{{code}} {{ discount }}") == {"discount"}
    assert fill("[{{name}}]", {}, escape=False) == "[]"


NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({}, None),
        ({"paused": True}, OutOfCouponsReason.PAUSED),
        ({"starts_at": NOW + timedelta(minutes=1)}, OutOfCouponsReason.NOT_STARTED),
        ({"ends_at": NOW}, OutOfCouponsReason.ENDED),
        ({"starts_at": NOW - timedelta(days=1), "ends_at": NOW + timedelta(days=1)}, None),
    ],
)
def test_campaign_window_and_pause_decide_why_nothing_is_handed_out(fields, reason):
    campaign = Campaign("m1", "c1", "n", "s", "email", **fields)
    assert campaign.closed_reason(NOW) == reason


def test_daily_limit_day_is_the_campaigns_local_day():
    late_evening_utc = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
    assert Campaign("m", "c", "n", "s", "email", timezone="UTC").local_day(late_evening_utc) == "2026-11-22"
    assert (
        Campaign("m", "c", "n", "s", "email", timezone="Europe/Berlin").local_day(late_evening_utc)
        == "2026-11-23"
    )


def test_claim_moves_forward_only():
    assert can_move(ClaimStatus.OUT_OF_COUPONS, ClaimStatus.CLAIMED)
    assert can_move(ClaimStatus.CLAIMED, ClaimStatus.REDEEMED)
    assert not can_move(ClaimStatus.REDEEMED, ClaimStatus.CLAIMED)
    assert not can_move(ClaimStatus.EXPIRED, ClaimStatus.CLAIMED)


def test_api_keys_name_their_merchant_and_are_checked_by_hash():
    key = api_keys.new_api_key("m01abc")
    assert api_keys.merchant_of(key) == "m01abc"
    assert api_keys.matches(key, api_keys.hash_api_key(key))
    assert not api_keys.matches(key + "x", api_keys.hash_api_key(key))
    assert api_keys.merchant_of("cf_m01abc_short") is None
    assert api_keys.merchant_of("Bearer whatever") is None
