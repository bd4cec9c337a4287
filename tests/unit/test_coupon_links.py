"""Signed link tokens and the pure rules after the claim: what a token proves, what it refuses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from couponflow.domain.claim_status import ClaimStatus, can_move
from couponflow.domain.coupon_links import (
    ExpiredLink,
    InvalidLink,
    LinkClaims,
    LinkPurpose,
    ReportLink,
    coupon_path,
    report_path,
    sign,
    sign_report,
    store_url_with_utm,
    unsubscribe_path,
    verify,
    verify_report,
)
from hypothesis import given
from hypothesis import strategies as st

SECRET = "s3cr3t-0123456789abcdefghijklmnopqrstuvwxyz"
COUPON = LinkClaims(LinkPurpose.COUPON, "mabc", "cus_0123", "cmp_0456")
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."


def test_a_signed_token_verifies_to_the_same_merchant_customer_campaign_and_purpose():
    token = sign(SECRET, COUPON)
    assert verify(SECRET, token, LinkPurpose.COUPON, merchant_id="mabc") == COUPON
    assert set(token) <= set(ALPHABET)  # safe in a URL path without escaping


def test_tokens_differ_per_customer_so_one_cannot_be_derived_from_another():
    other = LinkClaims(LinkPurpose.COUPON, "mabc", "cus_0124", "cmp_0456")
    assert sign(SECRET, COUPON).split(".")[1] != sign(SECRET, other).split(".")[1]


def test_a_token_whose_payload_was_edited_is_refused():
    _payload, mac = sign(SECRET, COUPON).split(".")
    forged_payload = sign("attacker", LinkClaims(LinkPurpose.COUPON, "mabc", "cus_9999", "cmp_0456")).split(
        "."
    )[0]
    with pytest.raises(InvalidLink, match="signature"):
        verify(SECRET, f"{forged_payload}.{mac}", LinkPurpose.COUPON)


def test_a_token_signed_with_another_secret_is_refused():
    with pytest.raises(InvalidLink, match="signature"):
        verify(SECRET, sign("another secret", COUPON), LinkPurpose.COUPON)


def test_a_token_presented_under_another_merchant_is_refused():
    with pytest.raises(InvalidLink, match="another merchant"):
        verify(SECRET, sign(SECRET, COUPON), LinkPurpose.COUPON, merchant_id="mxyz")


def test_an_unsubscribe_token_does_not_open_the_coupon_and_vice_versa():
    unsubscribe = sign(SECRET, LinkClaims(LinkPurpose.UNSUBSCRIBE, "mabc", "cus_0123", "cmp_0456"))
    with pytest.raises(InvalidLink, match="not a coupon link"):
        verify(SECRET, unsubscribe, LinkPurpose.COUPON)
    with pytest.raises(InvalidLink, match="not a unsubscribe link"):
        verify(SECRET, sign(SECRET, COUPON), LinkPurpose.UNSUBSCRIBE)


REPORTED = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
REPORT = ReportLink("mabc", "snd_0123", REPORTED + timedelta(days=7))


def test_a_report_link_verifies_until_its_expiry_and_is_expired_from_then_on():
    token = sign_report(SECRET, REPORT)
    assert verify_report(SECRET, token, now=REPORTED) == REPORT
    assert verify_report(SECRET, token, now=REPORT.expires_at - timedelta(seconds=1)) == REPORT
    with pytest.raises(ExpiredLink, match="expired at 2026-11-29T09:00:00"):
        verify_report(SECRET, token, now=REPORT.expires_at)
    assert report_path(token) == f"/public/reports/{token}" and set(token) <= set(ALPHABET)


def test_a_report_link_with_a_changed_expiry_or_another_key_is_refused_before_expiry_is_looked_at():
    later = sign_report("attacker", ReportLink("mabc", "snd_0123", REPORTED + timedelta(days=700)))
    _payload, mac = sign_report(SECRET, REPORT).split(".")
    with pytest.raises(InvalidLink, match="signature") as refused:
        verify_report(SECRET, f"{later.split('.')[0]}.{mac}", now=REPORTED)
    assert not isinstance(refused.value, ExpiredLink)
    with pytest.raises(InvalidLink, match="signature"):
        verify_report(SECRET, sign_report("another secret", REPORT), now=REPORTED + timedelta(days=30))


def test_report_and_coupon_tokens_do_not_open_each_other():
    with pytest.raises(InvalidLink, match="not a report link"):
        verify_report(SECRET, sign(SECRET, COUPON), now=REPORTED)
    with pytest.raises(InvalidLink, match="not a coupon link"):
        verify(SECRET, sign_report(SECRET, REPORT), LinkPurpose.COUPON)


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "!!!.???", "x" * 600 + ".y", "e30.AAAA"])
def test_malformed_tokens_are_refused(token):
    with pytest.raises(InvalidLink):
        verify(SECRET, token, LinkPurpose.COUPON)


@given(position=st.integers(min_value=0), replacement=st.sampled_from(ALPHABET))
def test_changing_any_single_character_of_a_token_is_refused(position, replacement):
    token = sign(SECRET, COUPON)
    index = position % len(token)
    if token[index] == replacement:
        return
    tampered = token[:index] + replacement + token[index + 1 :]
    with pytest.raises(InvalidLink):
        verify(SECRET, tampered, LinkPurpose.COUPON)


def test_signing_with_an_empty_secret_is_refused():
    with pytest.raises(ValueError, match="empty"):
        sign("", COUPON)


def test_link_paths():
    assert coupon_path("mabc", "T.K") == "/public/merchants/mabc/coupons/T.K"
    assert unsubscribe_path("T.K") == "/public/unsubscribe/T.K"


def test_store_url_keeps_the_merchants_parameters_and_sets_utm_once():
    url = store_url_with_utm("https://shop.example.com/sale?ref=x&utm_source=old#top", "cmp_1")
    parts = urlsplit(url)
    assert (parts.netloc, parts.path, parts.fragment) == ("shop.example.com", "/sale", "top")
    assert parse_qsl(parts.query) == [
        ("ref", "x"),
        ("utm_source", "couponflow"),
        ("utm_medium", "email"),
        ("utm_campaign", "cmp_1"),
    ]


@pytest.mark.parametrize(
    ("current", "new", "allowed"),
    [
        (ClaimStatus.CLAIMED, ClaimStatus.COUPON_VIEWED, True),
        (ClaimStatus.COUPON_VIEWED, ClaimStatus.CLICKED_THROUGH, True),
        (ClaimStatus.CLAIMED, ClaimStatus.CLICKED_THROUGH, True),
        (ClaimStatus.CLICKED_THROUGH, ClaimStatus.COUPON_VIEWED, False),
        (ClaimStatus.REDEEMED, ClaimStatus.COUPON_VIEWED, False),
        (ClaimStatus.REDEEMED, ClaimStatus.EXPIRED, False),
        (ClaimStatus.COUPON_VIEWED, ClaimStatus.RELEASED, False),  # someone saw it: keep it
        (ClaimStatus.CLAIMED, ClaimStatus.RELEASED, True),
        (ClaimStatus.EXPIRED, ClaimStatus.REDEEMED, False),
    ],
)
def test_claim_status_moves_only_forward(current, new, allowed):
    assert can_move(current, new) is allowed
