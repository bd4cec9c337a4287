"""The claim and merchant API handlers, called with API Gateway proxy events, against moto's server."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

import boto3
import pytest

from tests.integration.helpers import body_of, claim_event, merchant_event


@pytest.fixture()
def merchant_api(
    load_handler: Callable[[str], ModuleType], lambda_context: Any
) -> Callable[..., dict[str, Any]]:
    module = load_handler("MerchantApiFunction")

    def call(
        merchant_id: str, method: str, resource: str, path: str, body: Any = None, **kw: Any
    ) -> dict[str, Any]:
        event = merchant_event(merchant_id, method, resource, path, body, **kw)
        response: dict[str, Any] = module.lambda_handler(event, lambda_context)
        return response

    return call


@pytest.fixture()
def claim_api(
    load_handler: Callable[[str], ModuleType], lambda_context: Any
) -> Callable[..., dict[str, Any]]:
    module = load_handler("ClaimFunction")

    def call(merchant_id: str, campaign_id: str, body: Any) -> dict[str, Any]:
        response: dict[str, Any] = module.lambda_handler(
            claim_event(merchant_id, campaign_id, body), lambda_context
        )
        return response

    return call


@pytest.fixture()
def campaign(merchant: tuple[str, str], merchant_api: Callable[..., dict[str, Any]]) -> Callable[..., str]:
    def create(codes: list[str], **fields: Any) -> str:
        body = {"name": "Spring sale", "codes": codes, **fields}
        response = merchant_api(merchant[0], "POST", "/campaigns", "/campaigns", body)
        assert response["statusCode"] == 201, response["body"]
        return str(body_of(response)["campaign_id"])

    return create


def mail_queue_messages(stack: Any) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    url = stack.physical["ClaimMailQueue"]
    found: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
            "Messages", []
        )
        if not batch:
            return found
        for message in batch:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_create_campaign_loads_codes_and_reports_duplicates(merchant, merchant_api):
    body = {"name": "Spring", "codes": ["SPRING-001", "SPRING-002"]}
    created = merchant_api(merchant[0], "POST", "/campaigns", "/campaigns", body)
    assert created["statusCode"] == 201
    campaign_id = body_of(created)["campaign_id"]
    assert body_of(created)["codes"] == {"imported": 2, "duplicate": 0}

    added = merchant_api(
        merchant[0],
        "POST",
        "/campaigns/{campaignId}/codes",
        f"/campaigns/{campaign_id}/codes",
        {"codes": ["SPRING-002", "SPRING-003"]},
    )
    assert body_of(added) == {"imported": 1, "duplicate": 1}
    fetched = merchant_api(merchant[0], "GET", "/campaigns/{campaignId}", f"/campaigns/{campaign_id}")
    assert body_of(fetched)["codes_available"] == 3


def test_campaign_of_another_merchant_is_not_found(merchant, merchant_api, campaign):
    campaign_id = campaign(["OTHER-001"])
    response = merchant_api("mzzzzother0000", "GET", "/campaigns/{campaignId}", f"/campaigns/{campaign_id}")
    assert response["statusCode"] == 404
    assert "not found" in body_of(response)["message"]


def test_invalid_campaign_body_is_422_naming_the_field(merchant, merchant_api):
    response = merchant_api(
        merchant[0], "POST", "/campaigns", "/campaigns", {"name": "x", "codes": ["no spaces!"]}
    )
    assert response["statusCode"] == 422
    assert body_of(response)["field"].startswith("codes")


def test_claim_assigns_one_code_and_queues_the_email(stack, merchant, campaign, claim_api):
    mail_queue_messages(stack)  # start from an empty queue
    campaign_id = campaign(["ONE-0001", "ONE-0002"], channel="page")
    response = claim_api(merchant[0], campaign_id, {"email": "  Ann@Example.COM ", "name": "Ann"})
    assert response["statusCode"] == 201
    claim = body_of(response)
    assert claim["status"] == "claimed"
    assert claim["code"] in {"ONE-0001", "ONE-0002"}
    queued = mail_queue_messages(stack)
    assert [q["customer_id"] for q in queued] == [claim["customer_id"]]


def test_repeat_claim_returns_the_same_code_and_does_not_queue_a_second_email(
    stack, merchant, campaign, claim_api
):
    campaign_id = campaign(["REP-0001", "REP-0002", "REP-0003"], channel="page")
    first = body_of(claim_api(merchant[0], campaign_id, {"email": "bob@example.com"}))
    second_response = claim_api(merchant[0], campaign_id, {"email": "BOB@example.com"})
    assert second_response["statusCode"] == 200
    assert body_of(second_response)["code"] == first["code"]


def test_email_campaign_does_not_reveal_the_code_in_the_response(merchant, campaign, claim_api):
    campaign_id = campaign(["MAIL-0001"])
    claim = body_of(claim_api(merchant[0], campaign_id, {"email": "carol@example.com"}))
    assert claim["status"] == "claimed"
    assert claim["code"] is None


def test_empty_pool_answers_out_of_coupons_and_still_records_the_customer(
    merchant, campaign, claim_api, merchant_api
):
    campaign_id = campaign(["LAST-0001"])
    body_of(claim_api(merchant[0], campaign_id, {"email": "first@example.com"}))
    late = claim_api(merchant[0], campaign_id, {"email": "late@example.com"})
    assert late["statusCode"] == 200
    assert body_of(late)["status"] == "out_of_coupons"
    assert body_of(late)["reason"] == "pool_empty"
    customer = merchant_api(merchant[0], "GET", "/customers/{customerRef}", "/customers/late@example.com")
    assert customer["statusCode"] == 200
    assert body_of(customer)["claims"][0]["status"] == "out_of_coupons"


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"starts_at": "2999-01-01T00:00:00+00:00"}, "not_started"),
        ({"starts_at": "2020-01-01T00:00:00+00:00", "ends_at": "2020-02-01T00:00:00+00:00"}, "ended"),
    ],
)
def test_claim_outside_the_window_is_out_of_coupons_with_the_reason(
    merchant, campaign, claim_api, fields, reason
):
    campaign_id = campaign(["WIN-0001"], **fields)
    claim = body_of(claim_api(merchant[0], campaign_id, {"email": "dan@example.com"}))
    assert (claim["status"], claim["reason"]) == ("out_of_coupons", reason)


def test_daily_limit_stops_claims_with_daily_limit_reason(merchant, campaign, claim_api):
    campaign_id = campaign([f"DAY-{i:04d}" for i in range(5)], daily_limit=2)
    outcomes = [
        body_of(claim_api(merchant[0], campaign_id, {"email": f"d{i}@example.com"})) for i in range(3)
    ]
    assert [o["status"] for o in outcomes] == ["claimed", "claimed", "out_of_coupons"]
    assert outcomes[2]["reason"] == "daily_limit"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({}, "email"),
        ({"email": "ok@example.com", "unexpected": 1}, "unexpected"),
        ({"email": "ok@example.com", "name": "x" * 101}, "name"),
    ],
)
def test_bad_claim_body_is_422_naming_the_field(merchant, campaign, claim_api, body, field):
    campaign_id = campaign(["BAD-0001"])
    response = claim_api(merchant[0], campaign_id, body)
    assert response["statusCode"] == 422
    assert body_of(response)["field"] == field


def test_malformed_json_is_rejected_with_a_json_error(merchant, campaign, claim_api):
    campaign_id = campaign(["JSON-0001"])
    response = claim_api(merchant[0], campaign_id, '{"email": ')
    assert 400 <= response["statusCode"] < 500
    assert body_of(response)["message"]


def test_oversized_claim_body_is_413(merchant, campaign, claim_api):
    campaign_id = campaign(["BIG-0001"])
    response = claim_api(merchant[0], campaign_id, {"email": "big@example.com", "name": "x" * 20_000})
    assert response["statusCode"] == 413
    assert body_of(response)["field"] == "body"


def test_claim_for_unknown_campaign_is_404(merchant, claim_api):
    response = claim_api(merchant[0], "cmp_does_not_exist", {"email": "eve@example.com"})
    assert response["statusCode"] == 404
    assert "campaign" in body_of(response)["message"]
