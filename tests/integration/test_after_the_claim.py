"""After the claim, through the handlers against moto's server: the signed coupon link in the
email (coupon page, follow to the store), one-click unsubscribe, redemptions reported by the
store, offer expiry (housekeeping) and the release of undelivered codes."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from couponflow.adapters.dynamodb import Table
from couponflow.ids import customer_id
from couponflow.store import campaigns, keys
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from tests.conftest import load_event
from tests.integration.helpers import body_of, claim_event, merchant_event, sqs_event

STORE = "https://shop.example.com/spring?ref=mail"


@pytest.fixture()
def table(stack: Any) -> Table:
    return Table(stack.physical["CouponflowTable"])


@pytest.fixture()
def handlers(load_handler: Callable[[str], Any]) -> dict[str, Any]:
    return {
        name: load_handler(name)
        for name in ("MerchantApiFunction", "ClaimFunction", "MailerFunction", "SesEventsFunction")
    }


@pytest.fixture()
def new_campaign(merchant, handlers, lambda_context) -> Callable[..., str]:
    def create(codes: list[str], **fields: Any) -> str:
        body = {"name": "Spring sale", "store_url": STORE, "codes": codes, **fields}
        event = merchant_event(merchant[0], "POST", "/campaigns", "/campaigns", body)
        response = handlers["MerchantApiFunction"].lambda_handler(event, lambda_context)
        assert response["statusCode"] == 201, response["body"]
        return str(body_of(response)["campaign_id"])

    return create


def sent_raw(recipient: str) -> list[str]:
    backend = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    return [
        m.raw_data for m in backend.sent_messages if hasattr(m, "raw_data") and recipient in m.destinations
    ]


@pytest.fixture()
def claim_and_mail(merchant, table, handlers, lambda_context) -> Callable[[str, str], dict[str, Any]]:
    """Claim for ``email`` and run the mailer on the queued job; returns the claim answer + job."""

    def run(campaign_id: str, email: str) -> dict[str, Any]:
        response = handlers["ClaimFunction"].lambda_handler(
            claim_event(merchant[0], campaign_id, {"email": email}), lambda_context
        )
        answer = body_of(response)
        assert answer["status"] == "claimed", answer
        claim = claim_item(table, merchant[0], email, campaign_id)
        job = {
            "merchant_id": merchant[0],
            "customer_id": claim["customer_id"],
            "message_id": claim["message_id"],
        }
        failures = handlers["MailerFunction"].lambda_handler(sqs_event([json.dumps(job)]), lambda_context)
        assert failures == {"batchItemFailures": []}
        return {**answer, "job": job}

    return run


def links_in(raw: str) -> dict[str, str]:
    """The coupon link and the unsubscribe link of a coupon email, as the recipient sees them."""
    message = BytesParser(policy=policy.default).parsebytes(raw.encode())
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    coupon = re.search(r"https?://\S+/coupons/[\w.-]+", text)
    unsubscribe = re.search(r"<(https?://\S+/unsubscribe/[\w.-]+)>", str(message["List-Unsubscribe"]))
    assert coupon and unsubscribe, text
    return {
        "coupon": coupon.group(0),
        "unsubscribe": unsubscribe.group(1),
        "one_click": str(message["List-Unsubscribe-Post"]),
        "text": text,
    }


def public_event(sample: str, url: str, *, body: str | None = None) -> dict[str, Any]:
    """A sample public-route event pointed at ``url`` (a link from an email)."""
    event = copy.deepcopy(load_event(f"claim/{sample}"))
    path = urlsplit(url).path.removeprefix("/v1")
    event["path"] = path
    event["requestContext"]["path"] = "/v1" + path
    parts = path.strip("/").split("/")
    if parts[1] == "merchants":
        event["pathParameters"] = {"merchantId": parts[2], "token": parts[4]}
    else:
        event["pathParameters"] = {"token": parts[2]}
    if body is not None:
        event["body"] = body
    return event


def header(response: dict[str, Any], name: str) -> str:
    """A response header, wherever the resolver put it (REST proxy responses use multiValueHeaders)."""
    multi = {k.lower(): v for k, v in (response.get("multiValueHeaders") or {}).items()}
    single = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    return str(single.get(name.lower()) or multi[name.lower()][0])


def claim_item(table: Table, merchant_id: str, email: str, campaign_id: str) -> dict[str, Any]:
    item = table.get(keys.claim(merchant_id, customer_id(merchant_id, email), campaign_id))
    assert item is not None
    return item


# --- the coupon link -------------------------------------------------------------------------


def test_email_carries_a_signed_coupon_link_and_one_click_unsubscribe_headers(new_campaign, claim_and_mail):
    campaign_id = new_campaign(["LINK-0001"])
    claim_and_mail(campaign_id, "links@example.com")
    links = links_in(sent_raw("links@example.com")[-1])
    assert "/public/merchants/" in links["coupon"] and "shop.example.com" not in links["text"]
    assert links["one_click"] == "List-Unsubscribe=One-Click"
    assert links["unsubscribe"] in links["text"]  # the visible link too


def test_opening_the_coupon_link_shows_the_code_and_records_coupon_viewed_then_store_click_through(
    merchant, table, handlers, new_campaign, claim_and_mail, lambda_context
):
    campaign_id = new_campaign(["VIEW-0001"])
    claim_and_mail(campaign_id, "viewer@example.com")
    coupon = links_in(sent_raw("viewer@example.com")[-1])["coupon"]
    claim_fn = handlers["ClaimFunction"].lambda_handler

    page = claim_fn(public_event("open_coupon", coupon), lambda_context)
    assert page["statusCode"] == 200
    assert header(page, "Content-Type").startswith("text/html")
    assert 'id="coupon-code">VIEW-0001<' in page["body"] and 'id="go-to-store"' in page["body"]
    assert claim_item(table, merchant[0], "viewer@example.com", campaign_id)["status"] == "coupon_viewed"

    redirect = claim_fn(public_event("follow_coupon_to_store", coupon + "/store"), lambda_context)
    assert redirect["statusCode"] == 302
    location = urlsplit(header(redirect, "Location"))
    assert (location.netloc, location.path) == ("shop.example.com", "/spring")
    assert parse_qs(location.query) == {
        "ref": ["mail"],
        "utm_source": ["couponflow"],
        "utm_medium": ["email"],
        "utm_campaign": [campaign_id],
    }
    claim = claim_item(table, merchant[0], "viewer@example.com", campaign_id)
    assert claim["status"] == "clicked_through" and claim["coupon_viewed_at"] <= claim["clicked_through_at"]

    claim_fn(public_event("open_coupon", coupon), lambda_context)  # opening again never moves it back
    assert claim_item(table, merchant[0], "viewer@example.com", campaign_id)["status"] == "clicked_through"


def _tamper(url: str) -> str:
    head, _, token = url.rpartition("/")
    payload, _, mac = token.partition(".")
    flipped = payload[:-3] + ("A" if payload[-3] != "A" else "B") + payload[-2:]
    return f"{head}/{flipped}.{mac}"


def test_tampered_foreign_or_wrong_purpose_tokens_are_refused_with_400_json(
    merchant, table, handlers, new_campaign, claim_and_mail, lambda_context
):
    campaign_id = new_campaign(["TAMP-0001"])
    claim_and_mail(campaign_id, "tamper@example.com")
    links = links_in(sent_raw("tamper@example.com")[-1])
    claim_fn = handlers["ClaimFunction"].lambda_handler
    coupon, unsubscribe = links["coupon"], links["unsubscribe"]
    other_merchant = coupon.replace(f"/merchants/{merchant[0]}/", "/merchants/mzzzzzzzzzzzzzzzzzzzzzzzzz/")
    unsubscribe_token = unsubscribe.rpartition("/")[2]
    as_coupon = coupon.rpartition("/")[0] + "/" + unsubscribe_token
    coupon_token = coupon.rpartition("/")[2]

    cases = [
        public_event("open_coupon", _tamper(coupon)),
        public_event("follow_coupon_to_store", _tamper(coupon) + "/store"),
        public_event("open_coupon", other_merchant),
        public_event("open_coupon", as_coupon),
        public_event("unsubscribe_one_click", unsubscribe.rpartition("/")[0] + "/" + coupon_token),
        public_event("confirm_unsubscribe", _tamper(unsubscribe)),
    ]
    for event in cases:
        response = claim_fn(event, lambda_context)
        assert response["statusCode"] == 400, (event["path"], response["body"])
        assert json.loads(response["body"])["field"] == "token"
    claim = claim_item(table, merchant[0], "tamper@example.com", campaign_id)
    assert claim["status"] == "claimed"
    customer = table.get(keys.customer(merchant[0], customer_id(merchant[0], "tamper@example.com")))
    assert customer is not None and "unsubscribed_at" not in customer


# --- unsubscribe -----------------------------------------------------------------------------


def test_one_click_unsubscribe_is_idempotent_and_later_coupon_emails_are_dropped_without_ses(
    merchant, table, handlers, new_campaign, claim_and_mail, lambda_context
):
    first = new_campaign(["UNSUB-0001"])
    claim_and_mail(first, "leaver@example.com")
    unsubscribe = links_in(sent_raw("leaver@example.com")[-1])["unsubscribe"]
    claim_fn = handlers["ClaimFunction"].lambda_handler

    form = claim_fn(public_event("confirm_unsubscribe", unsubscribe), lambda_context)
    assert form["statusCode"] == 200 and '<form method="post"' in form["body"]
    cid = customer_id(merchant[0], "leaver@example.com")
    assert "unsubscribed_at" not in (
        table.get(keys.customer(merchant[0], cid)) or {}
    )  # GET alone does nothing

    one_click = public_event("unsubscribe_one_click", unsubscribe)
    assert claim_fn(one_click, lambda_context)["statusCode"] == 200
    once = table.get(keys.customer(merchant[0], cid))
    assert claim_fn(one_click, lambda_context)["statusCode"] == 200
    twice = table.get(keys.customer(merchant[0], cid))
    assert once and twice and once["unsubscribed_at"] == twice["unsubscribed_at"]
    assert once["unsubscribe_source"]["via"] == "one_click"

    second = new_campaign(["UNSUB-0002"])
    sends_before = len(sent_raw("leaver@example.com"))
    answer = claim_and_mail(second, "leaver@example.com")
    assert len(sent_raw("leaver@example.com")) == sends_before  # SES never called
    message = table.get(keys.message(merchant[0], cid, answer["job"]["message_id"]))
    assert message and message["status"] == "dropped"
    assert message["status_details"]["reason"] == "unsubscribed"
    # Nobody could have seen that code: it is released back to the pool.
    assert claim_item(table, merchant[0], "leaver@example.com", second)["status"] == "released"
    assert campaigns.count_available(table, merchant[0], second) == 1


# --- redemptions -----------------------------------------------------------------------------


def redemption(merchant_id: str, body: Any) -> dict[str, Any]:
    event = copy.deepcopy(load_event("merchant_api/report_redemption"))
    event["requestContext"]["authorizer"] = {"principalId": merchant_id, "merchant_id": merchant_id}
    event["body"] = json.dumps(body)
    return event


def test_store_redemption_marks_the_claim_redeemed_once_and_refuses_the_second_report(
    merchant, table, handlers, new_campaign, claim_and_mail, lambda_context
):
    campaign_id = new_campaign(["REDEEM-0001", "REDEEM-0002"], offer_lifetime_days=30)
    answer = claim_and_mail(campaign_id, "buyer@example.com")
    code = claim_item(table, merchant[0], "buyer@example.com", campaign_id)["code"]
    api = handlers["MerchantApiFunction"].lambda_handler

    first = api(
        redemption(merchant[0], {"campaign_id": campaign_id, "code": code, "order_id": "A-1"}), lambda_context
    )
    assert first["statusCode"] == 200, first["body"]
    claim = claim_item(table, merchant[0], "buyer@example.com", campaign_id)
    assert (claim["status"], claim["order_id"]) == ("redeemed", "A-1")
    assert "gsi2pk" not in claim  # no longer waiting to expire
    assert answer["customer_id"] == claim["customer_id"]

    retried = api(
        redemption(merchant[0], {"campaign_id": campaign_id, "code": code, "order_id": "A-1"}), lambda_context
    )
    assert (retried["statusCode"], json.loads(retried["body"])) == (200, json.loads(first["body"]))

    again = api(
        redemption(merchant[0], {"campaign_id": campaign_id, "code": code, "order_id": "B-2"}), lambda_context
    )
    assert again["statusCode"] == 409
    refused = json.loads(again["body"])
    assert (refused["reason"], refused["first_order_id"], refused["field"]) == (
        "already_redeemed",
        "A-1",
        "code",
    )

    unknown = api(
        redemption(merchant[0], {"campaign_id": campaign_id, "code": "NOPE-0001", "order_id": "C"}),
        lambda_context,
    )
    assert unknown["statusCode"] == 404
    other = new_campaign(["OTHER-0001"])
    elsewhere = api(
        redemption(merchant[0], {"campaign_id": other, "code": code, "order_id": "D"}), lambda_context
    )
    assert elsewhere["statusCode"] == 404  # a code belongs to its campaign
    unused = api(
        redemption(merchant[0], {"campaign_id": other, "code": "OTHER-0001", "order_id": "E"}), lambda_context
    )
    assert unused["statusCode"] == 409 and json.loads(unused["body"])["reason"] == "not_handed_out"
    bad = api(redemption(merchant[0], {"campaign_id": campaign_id, "code": code}), lambda_context)
    assert bad["statusCode"] == 422 and json.loads(bad["body"])["field"] == "order_id"


def test_another_merchant_cannot_redeem_a_code(
    merchant, stack, table, handlers, new_campaign, claim_and_mail, lambda_context
):
    from couponflow.services.merchants import create_merchant

    campaign_id = new_campaign(["MINE-0001"])
    claim_and_mail(campaign_id, "mine@example.com")
    intruder = create_merchant(table, "Other shop").merchant_id
    body = {"campaign_id": campaign_id, "code": "MINE-0001", "order_id": "X"}
    response = handlers["MerchantApiFunction"].lambda_handler(redemption(intruder, body), lambda_context)
    assert response["statusCode"] == 404
    assert claim_item(table, merchant[0], "mine@example.com", campaign_id)["status"] == "claimed"


# --- expiry (housekeeping) -------------------------------------------------------------------


def test_unredeemed_offer_expires_and_its_code_goes_back_to_the_pool_once(
    merchant, table, load_handler, new_campaign, claim_and_mail, handlers, lambda_context
):
    campaign_id = new_campaign(["EXP-0001", "EXP-0002"], offer_lifetime_days=7)
    claim_and_mail(campaign_id, "late@example.com")
    claim_and_mail(campaign_id, "prompt@example.com")
    late = claim_item(table, merchant[0], "late@example.com", campaign_id)
    prompt = claim_item(table, merchant[0], "prompt@example.com", campaign_id)
    assert late["offer_expires_at"] > late["claimed_at"]
    body = {"campaign_id": campaign_id, "code": prompt["code"], "order_id": "P-1"}
    handlers["MerchantApiFunction"].lambda_handler(redemption(merchant[0], body), lambda_context)
    assert campaigns.count_available(table, merchant[0], campaign_id) == 0
    housekeeping = load_handler("HousekeepingFunction")
    expire = housekeeping.tasks["expire_offers"]

    assert expire(datetime.now(UTC) + timedelta(days=6))["expired"] == 0  # not due yet
    later = datetime.now(UTC) + timedelta(days=8)
    first = expire(later)
    second = expire(later)

    assert first["expired"] >= 1 and second["expired"] == 0
    late = claim_item(table, merchant[0], "late@example.com", campaign_id)
    assert late["status"] == "expired" and "gsi2pk" not in late
    # The lapsed customer's link no longer shows the code: it is back in the pool for others.
    coupon = links_in(sent_raw("late@example.com")[-1])["coupon"]
    page = handlers["ClaimFunction"].lambda_handler(public_event("open_coupon", coupon), lambda_context)
    assert page["statusCode"] == 410 and late["code"] not in page["body"]
    assert claim_item(table, merchant[0], "prompt@example.com", campaign_id)["status"] == "redeemed"
    assert campaigns.count_available(table, merchant[0], campaign_id) == 1
    registry = table.get(keys.code_registry(merchant[0], campaign_id, late["code"]))
    assert registry and registry["state"] == "available" and registry["returned_as"] == "expired"
    # The expired code is handed out again, to someone else.
    answer = claim_and_mail(campaign_id, "next@example.com")
    assert claim_item(table, merchant[0], "next@example.com", campaign_id)["code"] == late["code"]
    assert answer["status"] == "claimed"


# --- release of undelivered codes ------------------------------------------------------------


def ses_record(sample: str, ses_id: str, tags: dict[str, str], recipient: str) -> str:
    record = copy.deepcopy(load_event(f"ses/{sample}"))
    record["mail"]["messageId"] = ses_id
    record["mail"]["destination"] = [recipient]
    record["mail"]["tags"] = {k: [v] for k, v in tags.items()}
    if "bounce" in record:
        record["bounce"]["bouncedRecipients"] = [
            {**record["bounce"]["bouncedRecipients"][0], "emailAddress": recipient}
        ]
    return json.dumps({"Type": "Notification", "MessageId": "sns-1", "Message": json.dumps(record)})


def bounce(handlers, table, lambda_context, answer: dict[str, Any], recipient: str) -> None:
    job = answer["job"]
    message = table.get(keys.message(job["merchant_id"], job["customer_id"], job["message_id"]))
    assert message is not None
    tags = {"merchant": job["merchant_id"], "customer": job["customer_id"], "message": job["message_id"]}
    record = ses_record("event_bounce", message["ses_message_id"], tags, recipient)
    result = handlers["SesEventsFunction"].lambda_handler(sqs_event([record, record]), lambda_context)
    assert result == {"batchItemFailures": []}


def test_bounced_code_nobody_saw_is_released_once_and_never_available_twice(
    merchant, table, handlers, new_campaign, claim_and_mail, lambda_context
):
    campaign_id = new_campaign(["REL-0001"])
    answer = claim_and_mail(campaign_id, "bounce+rel@simulator.amazonses.com")
    bounce(handlers, table, lambda_context, answer, "bounce+rel@simulator.amazonses.com")
    bounce(handlers, table, lambda_context, answer, "bounce+rel@simulator.amazonses.com")  # redelivered

    claim = claim_item(table, merchant[0], "bounce+rel@simulator.amazonses.com", campaign_id)
    assert claim["status"] == "released" and claim["return_reason"] == "message_bounced"
    assert campaigns.count_available(table, merchant[0], campaign_id) == 1
    registry = table.get(keys.code_registry(merchant[0], campaign_id, "REL-0001"))
    assert registry and registry["state"] == "available" and "customer_id" not in registry


def test_viewed_coupon_page_campaign_or_release_switched_off_keeps_the_code_after_a_bounce(
    merchant, table, handlers, new_campaign, claim_and_mail, lambda_context
):
    viewed_campaign = new_campaign(["KEEP-0001"])
    viewed = claim_and_mail(viewed_campaign, "bounce+seen@simulator.amazonses.com")
    coupon = links_in(sent_raw("bounce+seen@simulator.amazonses.com")[-1])["coupon"]
    handlers["ClaimFunction"].lambda_handler(public_event("open_coupon", coupon), lambda_context)
    bounce(handlers, table, lambda_context, viewed, "bounce+seen@simulator.amazonses.com")
    assert (
        claim_item(table, merchant[0], "bounce+seen@simulator.amazonses.com", viewed_campaign)["status"]
        == "coupon_viewed"
    )

    page_campaign = new_campaign(["KEEP-0003"], channel="page")  # the claim answer showed the code
    shown = claim_and_mail(page_campaign, "bounce+page@simulator.amazonses.com")
    bounce(handlers, table, lambda_context, shown, "bounce+page@simulator.amazonses.com")
    assert (
        claim_item(table, merchant[0], "bounce+page@simulator.amazonses.com", page_campaign)["status"]
        == "claimed"
    )

    kept_campaign = new_campaign(["KEEP-0002"], release_undelivered_codes=False)
    kept = claim_and_mail(kept_campaign, "bounce+kept@simulator.amazonses.com")
    bounce(handlers, table, lambda_context, kept, "bounce+kept@simulator.amazonses.com")
    assert (
        claim_item(table, merchant[0], "bounce+kept@simulator.amazonses.com", kept_campaign)["status"]
        == "claimed"
    )
    assert campaigns.count_available(table, merchant[0], kept_campaign) == 0


def test_mail_dropped_for_suppression_releases_its_code(
    merchant, table, handlers, new_campaign, claim_and_mail, lambda_context
):
    from couponflow.store import suppressions

    table.transact(
        [
            suppressions.suppress_action(
                merchant[0],
                "gone@example.com",
                reason="hard_bounce",
                at="2026-11-01T00:00:00+00:00",
                source={},
            )
        ]
    )
    campaign_id = new_campaign(["SUP-0001"])
    claim_and_mail(campaign_id, "gone@example.com")
    assert claim_item(table, merchant[0], "gone@example.com", campaign_id)["status"] == "released"
    assert campaigns.count_available(table, merchant[0], campaign_id) == 1


def test_page_campaign_claim_answers_with_a_signed_coupon_link_that_opens_the_coupon(
    merchant, table, handlers, new_campaign, lambda_context
):
    campaign_id = new_campaign(["PAGE-0001"], channel="page")
    claim_fn = handlers["ClaimFunction"].lambda_handler
    response = claim_fn(claim_event(merchant[0], campaign_id, {"email": "page@example.com"}), lambda_context)
    answer = body_of(response)
    assert answer["code"] == "PAGE-0001"
    link = urlsplit(answer["coupon_url"])
    assert (link.scheme, link.netloc) == ("https", "abc123.execute-api.us-east-1.amazonaws.com")
    assert link.path.startswith(f"/v1/public/merchants/{merchant[0]}/coupons/")

    page = claim_fn(public_event("open_coupon", answer["coupon_url"]), lambda_context)
    assert page["statusCode"] == 200 and 'id="coupon-code">PAGE-0001<' in page["body"]
    assert claim_item(table, merchant[0], "page@example.com", campaign_id)["status"] == "coupon_viewed"


def test_email_campaign_claim_answer_carries_no_code_and_no_link(
    merchant, handlers, new_campaign, lambda_context
):
    campaign_id = new_campaign(["MAILONLY-0001"])
    response = handlers["ClaimFunction"].lambda_handler(
        claim_event(merchant[0], campaign_id, {"email": "mailonly@example.com"}), lambda_context
    )
    answer = body_of(response)
    assert answer["status"] == "claimed" and answer["code"] is None and answer["coupon_url"] is None


# --- the campaign's funnel -------------------------------------------------------------------


def test_campaign_funnel_counts_each_claim_once_per_status_it_reached_whatever_is_repeated(
    merchant, table, load_handler, new_campaign, claim_and_mail, handlers, lambda_context
):
    campaign_id = new_campaign(["FUN-0001", "FUN-0002", "FUN-0003"], offer_lifetime_days=7)
    claim_fn, api = handlers["ClaimFunction"].lambda_handler, handlers["MerchantApiFunction"].lambda_handler
    claim_and_mail(campaign_id, "buyer@example.com")
    bounced = claim_and_mail(campaign_id, "bounce+fun@simulator.amazonses.com")
    claim_and_mail(campaign_id, "late@example.com")
    for _ in range(2):  # the pool is empty: each answer is counted, by its reason
        late_comer = claim_fn(
            claim_event(merchant[0], campaign_id, {"email": "more@example.com"}), lambda_context
        )
        assert body_of(late_comer)["status"] == "out_of_coupons"
    coupon = links_in(sent_raw("buyer@example.com")[-1])["coupon"]
    for _ in range(2):  # opened and clicked twice, counted once each
        claim_fn(public_event("open_coupon", coupon), lambda_context)
        claim_fn(public_event("follow_coupon_to_store", coupon + "/store"), lambda_context)
    code = claim_item(table, merchant[0], "buyer@example.com", campaign_id)["code"]
    for _ in range(2):  # the store's retried report
        body = {"campaign_id": campaign_id, "code": code, "order_id": "F-1"}
        assert api(redemption(merchant[0], body), lambda_context)["statusCode"] == 200
    bounce(handlers, table, lambda_context, bounced, "bounce+fun@simulator.amazonses.com")
    bounce(handlers, table, lambda_context, bounced, "bounce+fun@simulator.amazonses.com")
    expire = load_handler("HousekeepingFunction").tasks["expire_offers"]
    later = datetime.now(UTC) + timedelta(days=8)
    expire(later)
    expire(later)

    path = f"/campaigns/{campaign_id}/stats"
    stats = body_of(
        api(merchant_event(merchant[0], "GET", "/campaigns/{campaignId}/stats", path), lambda_context)
    )

    assert stats["claims"] == {
        "claimed": 3,
        "coupon_viewed": 1,
        "clicked_through": 1,
        "redeemed": 1,
        "expired": 1,
        "released": 1,
    }
    assert stats["out_of_coupons"] == {
        "pool_empty": 2,
        "daily_limit": 0,
        "not_started": 0,
        "ended": 0,
        "paused": 0,
    }
    assert stats["codes_available"] == 2 == campaigns.count_available(table, merchant[0], campaign_id)
    assert (stats["bounce_rate_limit"], stats["complaint_rate_limit"]) == (0.02, 0.0005)
