"""The merchant's list views through the merchant API handler: the customers tab (activity,
search, paging), segments and members (unknown customers named), a campaign's customers."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest

from tests.integration.helpers import claim_event, merchant_event


@pytest.fixture()
def get(load_handler: Callable[[str], ModuleType], lambda_context: Any) -> Callable[..., tuple[int, Any]]:
    module = load_handler("MerchantApiFunction")

    def call(merchant_id: str, path: str, query: dict[str, str] | None = None, **kw: Any) -> tuple[int, Any]:
        method, body = kw.get("method", "GET"), kw.get("body")
        response = module.lambda_handler(
            merchant_event(merchant_id, method, path, path, body, query), lambda_context
        )
        return response["statusCode"], json.loads(response["body"])

    return call


def _ago(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


def _customers(get: Callable[..., tuple[int, Any]], m: str, people: list[dict[str, Any]]) -> list[str]:
    ids = []
    for person in people:
        status, body = get(m, "/customers", method="POST", body=person)
        assert status in (200, 201), body
        ids.append(body["customer_id"])
    return ids


def _all_pages(get: Callable[..., tuple[int, Any]], m: str, path: str, **query: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        status, page = get(m, path, {**query, **({"next": after} if after else {})})
        assert status == 200, page
        rows += page["items"]
        after = page.get("next")
        if not after:
            return rows


def test_the_customers_tab_pages_by_activity_and_finds_by_email_or_name_prefix(merchant, get):
    m = merchant[0]
    _customers(
        get,
        m,
        [
            {
                "email": "ann.lee@example.com",
                "first_name": "Ann",
                "last_name": "Lee",
                "last_interaction_at": _ago(3),
            },
            {
                "email": "bob@example.com",
                "first_name": "Annabel",
                "last_name": "Roe",
                "last_interaction_at": _ago(400),
            },
            {"email": "carl@example.com", "first_name": "Carl", "last_interaction_at": _ago(10)},
            {"email": "dora@example.com", "first_name": "Dora", "last_interaction_at": _ago(1)},
        ],
    )
    everyone = _all_pages(get, m, "/customers", limit="1")
    assert [r["email"] for r in everyone] == [
        "dora@example.com",
        "ann.lee@example.com",
        "carl@example.com",
        "bob@example.com",
    ]  # newest interaction first, one per page
    assert {r["email"]: r["active"] for r in everyone}["bob@example.com"] is False
    active = _all_pages(get, m, "/customers", status="active", limit="2")
    assert [r["email"] for r in active] == ["dora@example.com", "ann.lee@example.com", "carl@example.com"]
    inactive = _all_pages(get, m, "/customers", status="inactive")
    assert [r["email"] for r in inactive] == ["bob@example.com"]
    found = _all_pages(get, m, "/customers", q="ANN")
    assert [r["email"] for r in found] == ["ann.lee@example.com", "bob@example.com"]  # email, then name
    assert [r["email"] for r in _all_pages(get, m, "/customers", q="ann", status="inactive")] == [
        "bob@example.com"
    ]
    row = found[0]
    assert set(row) >= {"customer_id", "first_name", "last_interaction_at", "lists", "unsubscribed", "active"}
    assert not any(k.startswith(("gsi", "pk", "sk")) for k in row)


def test_a_forged_cursor_is_a_400_naming_next(merchant, get):
    status, body = get(merchant[0], "/customers", {"next": "eyJwIjowLCJrIjp7InBrIjoiTSN4In19"})
    assert (status, body["field"]) == (400, "next")
    status, body = get(merchant[0], "/customers", {"next": "not a cursor"})
    assert (status, body["field"]) == (400, "next")


def test_adding_members_names_the_unknown_and_counts_each_customers_lists(merchant, get):
    m = merchant[0]
    (ann,) = _customers(get, m, [{"email": "list.ann@example.com", "last_interaction_at": _ago(2)}])
    status, segment = get(m, "/segments", method="POST", body={"name": "VIP"})
    assert status == 201
    status, changed = get(
        m,
        f"/segments/{segment['segment_id']}/members",
        method="POST",
        body={"customers": [ann, "nobody@example.com", "cus_missing"]},
    )
    assert status == 200, changed
    assert changed["changed"] == [ann] and changed["not_found"] == ["nobody@example.com", "cus_missing"]
    members = _all_pages(get, m, f"/segments/{segment['segment_id']}/members")
    assert [r["customer_id"] for r in members] == [ann] and members[0]["lists"] == 1
    segments = _all_pages(get, m, "/segments")
    assert segments[0]["segment_id"] == segment["segment_id"] and segments[0]["kind"] == "static"


def test_a_rule_naming_no_campaign_of_the_merchant_is_refused(merchant, get):
    status, body = get(
        merchant[0],
        "/segments",
        method="POST",
        body={"name": "x", "rule": {"claimed_campaign_id": "cmp_other"}},
    )
    assert (status, body["field"]) == (400, "rule.claimed_campaign_id")


def test_a_campaigns_customers_show_the_coupon_emails_status(merchant, get, load_handler, lambda_context):
    m = merchant[0]
    status, campaign = get(m, "/campaigns", method="POST", body={"name": "LC", "codes": ["LC-001"]})
    claim = load_handler("ClaimFunction")
    for email in ("first@example.com", "second@example.com"):
        claim.lambda_handler(claim_event(m, campaign["campaign_id"], {"email": email}), lambda_context)
    rows = _all_pages(get, m, f"/campaigns/{campaign['campaign_id']}/customers")
    by_email = {r["email"]: r for r in rows}
    assert by_email["first@example.com"]["status"] == "email_queued"
    assert by_email["second@example.com"]["status"] == "out_of_coupons"
    assert by_email["second@example.com"]["reason"] == "pool_empty"
    out = _all_pages(get, m, f"/campaigns/{campaign['campaign_id']}/customers", status="out_of_coupons")
    assert [r["email"] for r in out] == ["second@example.com"]
    status, body = get(m, "/campaigns/cmp_nope/customers")
    assert status == 404 and body["message"]
    assert {r["claim_status"] for r in rows} == {"claimed", "out_of_coupons"}


def test_an_email_in_the_path_is_found_however_it_was_encoded(merchant, get):
    m = merchant[0]
    (cid,) = _customers(get, m, [{"email": "enc.oded@example.com", "last_interaction_at": _ago(1)}])
    for path in ("/customers/enc.oded@example.com", "/customers/enc.oded%40example.com"):
        status, body = get(m, path)
        assert (status, body.get("customer_id")) == (200, cid), path


def test_a_campaigns_claims_page_past_any_size_with_a_cursor(merchant, get, load_handler, lambda_context):
    m = merchant[0]
    codes = [f"PG-{n:04d}" for n in range(7)]
    status, campaign = get(m, "/campaigns", method="POST", body={"name": "Paged", "codes": codes})
    assert status == 201, campaign
    claim = load_handler("ClaimFunction")
    emails = [f"paged{n}@example.com" for n in range(7)]
    answered = {}
    for email in emails:
        event = claim_event(m, campaign["campaign_id"], {"email": email})
        first, repeat = (json.loads(claim.lambda_handler(event, lambda_context)["body"]) for _ in range(2))
        assert first["claim_id"].startswith("clm_") and repeat["claim_id"] == first["claim_id"]
        answered[email] = first["claim_id"]

    rows = _all_pages(get, m, f"/campaigns/{campaign['campaign_id']}/claims", limit="3")
    assert {r["email"]: r["claim_id"] for r in rows} == answered  # the lists name it as the answer did

    assert sorted(r["email"] for r in rows) == sorted(emails)  # each once, over several pages
    assert sorted(r["code"] for r in rows) == codes and {r["status"] for r in rows} == {"claimed"}
    assert not any(name.startswith("gsi") or name in ("pk", "sk") for r in rows for name in r)


def test_the_list_views_export_as_csv_with_their_filters_and_go_on_past_the_inline_rows(
    merchant, load_handler, lambda_context, monkeypatch
):
    import csv
    import io

    from couponflow.services import list_exports

    m = merchant[0]
    api = load_handler("MerchantApiFunction")
    get = load_handler("MerchantApiFunction").lambda_handler

    def call(path: str, query: dict[str, str] | None = None) -> dict[str, Any]:
        response: dict[str, Any] = get(merchant_event(m, "GET", path, path, None, query), lambda_context)
        return response

    for n in range(5):
        body = {"email": f"export{n}@example.com", "first_name": f"Ex{n}", "last_interaction_at": _ago(n)}
        event = merchant_event(m, "POST", "/customers", "/customers", body)
        assert api.lambda_handler(event, lambda_context)["statusCode"] in (200, 201)
    monkeypatch.setattr(list_exports, "INLINE_ROWS", 3)

    first = call("/exports/customers")
    rest = call("/exports/customers", {"next": first["multiValueHeaders"]["X-Next"][0]})

    assert first["statusCode"] == 200 and first["multiValueHeaders"]["Content-Type"][0].startswith("text/csv")
    rows = [*csv.DictReader(io.StringIO(first["body"])), *csv.DictReader(io.StringIO(rest["body"]))]
    assert [r["email"] for r in rows] == [f"export{n}@example.com" for n in range(5)]  # newest first
    assert rows[0]["active"] == "true" and rows[0]["first_name"] == "Ex0"
    assert "X-Next" not in (rest.get("multiValueHeaders") or {})
    found = call("/exports/customers", {"q": "export3"})
    assert [r["email"] for r in csv.DictReader(io.StringIO(found["body"]))] == ["export3@example.com"]
    missing = call("/exports/campaigns/cmp_nope/customers")
    assert missing["statusCode"] == 404
