"""Customers and segments through the merchant API handler, against moto's server."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

from tests.integration.helpers import body_of


def _ago(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


def test_customer_create_update_keeps_untouched_fields_and_reports_active(
    merchant: tuple[str, str], api: Callable[..., dict[str, Any]]
) -> None:
    m, _ = merchant
    created = api(
        m,
        "POST",
        "/customers",
        "/customers",
        {
            "email": "Ann@Example.com",
            "phone": "+14155550123",
            "tags": ["vip"],
            "last_interaction_at": _ago(10),
        },
    )
    assert created["statusCode"] == 200, created["body"]
    body = body_of(created)
    assert (body["email"], body["phone"], body["tags"], body["active"]) == (
        "ann@example.com",
        "+14155550123",
        ["vip"],
        True,
    )
    updated = body_of(
        api(
            m,
            "POST",
            "/customers",
            "/customers",
            {"email": "ann@example.com", "last_interaction_at": _ago(400)},
        )
    )
    assert updated["customer_id"] == body["customer_id"]
    assert (updated["phone"], updated["tags"], updated["active"]) == ("+14155550123", ["vip"], False)


def test_customer_phone_must_be_e164_and_some_address_is_required(
    merchant: tuple[str, str], api: Callable[..., dict[str, Any]]
) -> None:
    m, _ = merchant
    bad_phone = api(m, "POST", "/customers", "/customers", {"email": "a@example.com", "phone": "0415 555"})
    assert bad_phone["statusCode"] == 422 and body_of(bad_phone)["field"] == "phone"
    nothing = api(m, "POST", "/customers", "/customers", {"first_name": "Ann"})
    assert nothing["statusCode"] == 422 and "email or phone" in body_of(nothing)["message"]


def test_import_unsubscribe_and_static_segment_membership_and_size(
    merchant: tuple[str, str], api: Callable[..., dict[str, Any]]
) -> None:
    m, _ = merchant
    people = [{"email": f"p{i}@example.com", "last_interaction_at": _ago(i)} for i in range(30)]
    imported = body_of(
        api(m, "POST", "/customers/import", "/customers/import", {"customers": people + people[:2]})
    )
    assert (imported["imported"], imported["customers"], imported["rejected"]) == (32, 30, [])
    segment = body_of(api(m, "POST", "/segments", "/segments", {"name": "Friends"}))
    path = f"/segments/{segment['segment_id']}"
    added = body_of(
        api(
            m,
            "POST",
            "/segments/{segmentId}/members",
            f"{path}/members",
            {"customers": [f"p{i}@example.com" for i in range(10)]},
        )
    )
    assert added["size"] == 10 and added["kind"] == "static"
    removed = body_of(
        api(
            m,
            "POST",
            "/segments/{segmentId}/members/remove",
            f"{path}/members/remove",
            {"customers": ["p0@example.com", "p1@example.com"]},
        )
    )
    assert removed["size"] == 8
    unsub = body_of(
        api(m, "POST", "/customers/{customerRef}/unsubscribe", "/customers/p3@example.com/unsubscribe")
    )
    assert unsub["unsubscribed_at"]


def test_rule_segments_active_within_days_and_has_tag(
    merchant: tuple[str, str], api: Callable[..., dict[str, Any]]
) -> None:
    m, _ = merchant
    people = [
        {"email": f"r{i}@example.com", "last_interaction_at": _ago(i * 10), "tags": ["vip"] if i % 2 else []}
        for i in range(10)
    ]
    api(m, "POST", "/customers/import", "/customers/import", {"customers": people})
    recent = body_of(
        api(m, "POST", "/segments", "/segments", {"name": "Recent", "rule": {"active_within_days": 45}})
    )
    got = body_of(api(m, "GET", "/segments/{segmentId}", f"/segments/{recent['segment_id']}"))
    assert got["size"] == 5  # 0, 10, 20, 30, 40 days ago
    vip = body_of(
        api(
            m,
            "POST",
            "/segments",
            "/segments",
            {"name": "Recent VIP", "rule": {"active_within_days": 45, "has_tag": "vip"}},
        )
    )
    assert body_of(api(m, "GET", "/segments/{segmentId}", f"/segments/{vip['segment_id']}"))["size"] == 2
    empty_rule = api(m, "POST", "/segments", "/segments", {"name": "x", "rule": {}})
    assert empty_rule["statusCode"] == 422
    static_only = api(
        m,
        "POST",
        "/segments/{segmentId}/members",
        f"/segments/{vip['segment_id']}/members",
        {"customers": ["r1@example.com"]},
    )
    assert static_only["statusCode"] == 400 and body_of(static_only)["field"] == "customers"


def test_rule_segment_claimed_a_campaign_holds_the_storefronts_claimants(
    merchant: tuple[str, str],
    api: Callable[..., dict[str, Any]],
    load_handler: Callable[[str], ModuleType],
    lambda_context: Any,
) -> None:
    from tests.integration.helpers import claim_event

    m, _ = merchant
    campaign = body_of(
        api(m, "POST", "/campaigns", "/campaigns", {"name": "Claimed", "codes": ["CLM-001", "CLM-002"]})
    )
    claim = load_handler("ClaimFunction")
    for email in ("c1@example.com", "c2@example.com"):
        answer = claim.lambda_handler(
            claim_event(m, campaign["campaign_id"], {"email": email}), lambda_context
        )
        assert answer["statusCode"] == 201, answer["body"]
    api(m, "POST", "/customers", "/customers", {"email": "never@example.com", "last_interaction_at": _ago(1)})
    segment = body_of(
        api(
            m,
            "POST",
            "/segments",
            "/segments",
            {"name": "Claimers", "rule": {"claimed_campaign_id": campaign["campaign_id"]}},
        )
    )
    assert body_of(api(m, "GET", "/segments/{segmentId}", f"/segments/{segment['segment_id']}"))["size"] == 2


def test_an_import_with_bad_rows_imports_the_good_ones_and_names_each_bad_one(
    merchant: tuple[str, str], api: Callable[..., dict[str, Any]]
) -> None:
    m, _ = merchant
    rows = [
        {"email": "good.one@example.com"},
        {"email": "not-an-address"},
        {"first_name": "No way to reach"},
        {"email": "good.two@example.com", "colour": "blue"},
        {"email": "good.three@example.com", "last_interaction_at": _ago(1)},
    ]
    answer = api(m, "POST", "/customers/import", "/customers/import", {"customers": rows})
    assert answer["statusCode"] == 200, answer["body"]
    imported = body_of(answer)
    assert (imported["imported"], imported["customers"]) == (2, 2)
    assert [(r["row"], r["field"]) for r in imported["rejected"]] == [(1, "email"), (2, "row"), (3, "colour")]
    assert "email or phone" in imported["rejected"][1]["message"]
