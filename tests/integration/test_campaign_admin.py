"""Campaign management (list, update, pause, resume) and the pool-exhausted marker, through the
merchant API and claim handlers against moto's server."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from tests.integration.helpers import body_of, claim_event, merchant_event


@pytest.fixture()
def merchant_api(
    load_handler: Callable[[str], ModuleType], lambda_context: Any, merchant: tuple[str, str]
) -> Callable[..., dict[str, Any]]:
    module = load_handler("MerchantApiFunction")

    def call(method: str, resource: str, path: str, body: Any = None, **kw: Any) -> dict[str, Any]:
        response: dict[str, Any] = module.lambda_handler(
            merchant_event(merchant[0], method, resource, path, body, **kw), lambda_context
        )
        return response

    return call


@pytest.fixture()
def claim(
    load_handler: Callable[[str], ModuleType], lambda_context: Any, merchant: tuple[str, str]
) -> Callable[[str, str], dict[str, Any]]:
    module = load_handler("ClaimFunction")

    def call(campaign_id: str, email: str) -> dict[str, Any]:
        response = module.lambda_handler(
            claim_event(merchant[0], campaign_id, {"email": email}), lambda_context
        )
        return dict(body_of(response))

    return call


@pytest.fixture()
def new_campaign(merchant_api: Callable[..., dict[str, Any]]) -> Callable[..., str]:
    def create(codes: list[str], **fields: Any) -> str:
        response = merchant_api(
            "POST", "/campaigns", "/campaigns", {"name": "Admin", "codes": codes, **fields}
        )
        assert response["statusCode"] == 201, response["body"]
        return str(body_of(response)["campaign_id"])

    return create


def patch(merchant_api: Callable[..., dict[str, Any]], campaign_id: str, body: Any) -> dict[str, Any]:
    return merchant_api("PATCH", "/campaigns/{campaignId}", f"/campaigns/{campaign_id}", body)


def load_codes(merchant_api: Callable[..., dict[str, Any]], campaign_id: str, codes: list[str]) -> Any:
    path = f"/campaigns/{campaign_id}/codes"
    return body_of(merchant_api("POST", "/campaigns/{campaignId}/codes", path, {"codes": codes}))


def test_update_changes_only_the_fields_sent_and_null_clears_an_optional_one(merchant_api, new_campaign):
    campaign_id = new_campaign(["UPD-0001"], daily_limit=5, subject="Old subject")
    response = patch(
        merchant_api,
        campaign_id,
        {
            "subject": "New subject",
            "timezone": "Europe/Paris",
            "daily_limit": None,
            "offer_lifetime_days": 14,
            "store_url": "https://shop.example.com/sale",
            "channel": "page",
            "pool_alert_threshold": 10,
        },
    )
    assert response["statusCode"] == 200, response["body"]
    updated = body_of(response)
    assert updated["subject"] == "New subject"
    assert updated["timezone"] == "Europe/Paris"
    assert updated["daily_limit"] is None
    assert (updated["offer_lifetime_days"], updated["channel"]) == (14, "page")
    assert updated["store_url"] == "https://shop.example.com/sale"
    assert (updated["name"], updated["per_customer_limit"], updated["pool_alert_threshold"]) == (
        "Admin",
        1,
        10,
    )
    fetched = body_of(merchant_api("GET", "/campaigns/{campaignId}", f"/campaigns/{campaign_id}"))
    assert fetched["subject"] == "New subject"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"daily_limit": 0}, "daily_limit"),
        ({"name": None}, "name"),
        ({"starts_at": "2026-12-01T09:00:00"}, "starts_at"),
        ({"per_customer_limit": 0}, "per_customer_limit"),
        ({"per_customer_limit": 101}, "per_customer_limit"),
        ({"colour": "red"}, "colour"),
        ({"html_template": "Hi {{nope}}"}, "html_template"),
    ],
)
def test_invalid_update_is_422_naming_the_field(merchant_api, new_campaign, body, field):
    campaign_id = new_campaign(["BADUPD-0001"])
    response = patch(merchant_api, campaign_id, body)
    assert response["statusCode"] == 422
    assert body_of(response)["field"] == field


def test_update_that_puts_the_end_before_the_stored_start_names_ends_at(merchant_api, new_campaign):
    campaign_id = new_campaign(["ORD-0001"], starts_at="2030-01-10T00:00:00+00:00")
    response = patch(merchant_api, campaign_id, {"ends_at": "2030-01-01T00:00:00+00:00"})
    assert response["statusCode"] == 400
    assert body_of(response)["field"] == "ends_at"


def test_update_of_unknown_campaign_is_404(merchant_api):
    assert patch(merchant_api, "cmp_nope", {"subject": "x"})["statusCode"] == 404


def test_paused_campaign_answers_paused_and_resumed_campaign_claims_again(merchant_api, new_campaign, claim):
    campaign_id = new_campaign(["PAUSE-0001"])
    paused = merchant_api("POST", "/campaigns/{campaignId}/pause", f"/campaigns/{campaign_id}/pause")
    assert (paused["statusCode"], body_of(paused)["paused"]) == (200, True)
    assert claim(campaign_id, "p@example.com")["reason"] == "paused"
    resumed = merchant_api("POST", "/campaigns/{campaignId}/resume", f"/campaigns/{campaign_id}/resume")
    assert body_of(resumed)["paused"] is False
    assert claim(campaign_id, "p@example.com")["status"] == "claimed"


def test_list_campaigns_pages_newest_first_with_codes_left_and_what_needs_attention(
    merchant_api, new_campaign, claim
):
    empty = new_campaign(["LAST-0001"])
    assert claim(empty, "last@example.com")["status"] == "claimed"
    low = new_campaign(["LOW-0001", "LOW-0002"])
    assert patch(merchant_api, low, {"pool_alert_threshold": 5})["statusCode"] == 200
    paused = new_campaign(["OK-0001"])
    merchant_api("POST", "/campaigns/{campaignId}/pause", f"/campaigns/{paused}/pause")
    fresh = new_campaign([])

    first = body_of(merchant_api("GET", "/campaigns", "/campaigns", query={"limit": "2"}))
    rest = body_of(
        merchant_api("GET", "/campaigns", "/campaigns", query={"limit": "2", "next": first["next"]})
    )

    assert [c["campaign_id"] for c in first["items"] + rest["items"]] == [fresh, paused, low, empty]
    assert rest.get("next") is None and first["count"] == 2
    shown = {c["campaign_id"]: (c["codes_available"], c["alerts"]) for c in first["items"] + rest["items"]}
    assert shown == {
        fresh: (0, []),  # never loaded: nothing to warn about yet
        paused: (1, ["paused"]),
        low: (2, ["pool_low"]),
        empty: (0, ["pool_empty"]),
    }
    forged = merchant_api("GET", "/campaigns", "/campaigns", query={"next": "bm9wZQ"})
    assert (forged["statusCode"], body_of(forged)["field"]) == (400, "next")


def test_empty_pool_is_marked_once_and_loading_codes_clears_the_marker(
    stack, merchant, merchant_api, new_campaign, claim
):
    from couponflow.adapters.dynamodb import Table
    from couponflow.store import campaigns

    table = Table(stack.physical["CouponflowTable"])
    campaign_id = new_campaign(["MARK-0001"])
    # (the claim that takes the last code may mark the pool empty itself: it tries the shards in
    # random order, and one that saw every other shard empty first knows it took the last code)
    assert claim(campaign_id, "a@example.com")["status"] == "claimed"
    assert claim(campaign_id, "b@example.com")["reason"] == "pool_empty"
    assert campaigns.get(table, merchant[0], campaign_id).pool_known_empty
    assert claim(campaign_id, "c@example.com")["reason"] == "pool_empty"

    assert load_codes(merchant_api, campaign_id, ["MARK-0002"]) == {"imported": 1, "duplicate": 0}
    assert not campaigns.get(table, merchant[0], campaign_id).pool_known_empty
    assert claim(campaign_id, "c@example.com")["status"] == "claimed"


def test_marker_is_not_set_at_a_version_older_than_the_last_load(stack, merchant, new_campaign):
    from couponflow.adapters.dynamodb import Table
    from couponflow.store import campaigns

    table = Table(stack.physical["CouponflowTable"])
    campaign_id = new_campaign(["RACE-0001"])
    seen = campaigns.get(table, merchant[0], campaign_id).pool_version  # a claim read the campaign...
    campaigns.add_codes(table, merchant[0], campaign_id, ["RACE-0002"], "2026-11-22T00:00:00+00:00")
    # ...then found the shards empty before the load landed: its marker must not stick
    assert campaigns.mark_pool_exhausted(table, merchant[0], campaign_id, seen) is False
    assert not campaigns.get(table, merchant[0], campaign_id).pool_known_empty


def test_campaign_blocking_disposable_domains_refuses_them_by_name_of_the_field(
    merchant_api, new_campaign, claim
):
    campaign_id = new_campaign(["DISP-0001", "DISP-0002"])
    assert claim(campaign_id, "temp@mailinator.com")["status"] == "claimed"  # allowed by default
    patched = patch(merchant_api, campaign_id, {"block_disposable_emails": True})
    assert body_of(patched)["block_disposable_emails"] is True

    refused = claim(campaign_id, "other@sub.mailinator.com")
    assert (refused["field"], "disposable" in refused["message"]) == ("email", True)
    assert claim(campaign_id, "real@example.com")["status"] == "claimed"


def test_page_view_without_an_email_is_recorded_per_visitor_and_counted_for_the_merchant(
    load_handler, lambda_context, merchant, merchant_api, new_campaign
):
    import copy

    campaign_id = new_campaign(["VIEW-0001"])
    module = load_handler("ClaimFunction")

    def view(visitor: Any, campaign: str = campaign_id) -> dict[str, Any]:
        event = copy.deepcopy(claim_event(merchant[0], campaign, {"visitor_id": visitor}))
        event["path"] = f"/public/merchants/{merchant[0]}/campaigns/{campaign}/views"
        event["resource"] = "/public/merchants/{merchantId}/campaigns/{campaignId}/views"
        response: dict[str, Any] = module.lambda_handler(event, lambda_context)
        return response

    first, again, other = view("visitor-0001"), view("visitor-0001"), view("visitor-0002")
    assert (first["statusCode"], body_of(first)["status"], body_of(first)["first_view"]) == (
        202,
        "page_viewed",
        True,
    )
    assert body_of(again)["first_view"] is False and body_of(other)["first_view"] is True
    assert (view("short")["statusCode"], body_of(view("short"))["field"]) == (422, "visitor_id")
    assert view("visitor-0001", "cmp_nope")["statusCode"] == 404
    counted = merchant_api("GET", "/campaigns/{campaignId}/views", f"/campaigns/{campaign_id}/views")
    assert body_of(counted) == {"campaign_id": campaign_id, "visitors": 2}
