"""The claim's Idempotency-Key header (a receipt of the answer written in the claim's own
transaction, ``store/claim_receipts.py``), through the claim handler against moto's server."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import pytest
from couponflow.adapters import dynamodb
from couponflow.adapters.dynamodb import Table
from couponflow.domain.campaign import Campaign
from couponflow.store import campaigns

from tests.integration.helpers import body_of, claim_event


@pytest.fixture()
def claim_handler(load_handler: Callable[[str], ModuleType]) -> ModuleType:
    return load_handler("ClaimFunction")


def _event(merchant_id: str, campaign_id: str, body: Any, key: str | None) -> dict[str, Any]:
    event = claim_event(merchant_id, campaign_id, body)
    if key is not None:
        event["headers"]["Idempotency-Key"] = key
        event["multiValueHeaders"]["Idempotency-Key"] = [key]
    return event


def _campaign(stack: Any, merchant_id: str, campaign_id: str, codes: list[str]) -> None:
    table = Table(stack.physical["CouponflowTable"])
    campaigns.create(
        table, Campaign(merchant_id, campaign_id, "Idem", "Subject", "page"), "2026-11-22T00:00:00+00:00"
    )
    campaigns.add_codes(table, merchant_id, campaign_id, codes, "2026-11-22T00:00:00+00:00")


@contextmanager
def dynamodb_requests() -> Iterator[Counter[str]]:
    """DynamoDB requests the core package makes meanwhile, by operation."""
    counted: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        counted[model.name] += 1

    events = dynamodb.client().meta.events
    events.register("provide-client-params.dynamodb.*", count)
    try:
        yield counted
    finally:
        events.unregister("provide-client-params.dynamodb.*", count)


def test_same_key_and_body_replays_the_first_answer_and_costs_no_more_than_a_claim_without_it(
    stack, merchant, claim_handler, lambda_context
):
    codes = [f"IDEM-{n:04d}" for n in range(400)]  # every pool shard holds codes: one query finds one
    _campaign(stack, merchant[0], "cmp_idem", codes)
    body = {"email": "idem@example.com"}
    with dynamodb_requests() as keyed:
        first = claim_handler.lambda_handler(_event(merchant[0], "cmp_idem", body, "key-1"), lambda_context)
    again = claim_handler.lambda_handler(_event(merchant[0], "cmp_idem", body, "key-1"), lambda_context)
    with dynamodb_requests() as plain:
        other = claim_handler.lambda_handler(
            _event(merchant[0], "cmp_idem", {"email": "plain@example.com"}, None), lambda_context
        )

    assert first["statusCode"] == again["statusCode"] == other["statusCode"] == 201
    assert body_of(again) == body_of(first)  # the same answer, claim id and code included
    assert sum(keyed.values()) == sum(plain.values()) == 3, (keyed, plain)  # the receipt rides along
    table = Table(stack.physical["CouponflowTable"])
    assert campaigns.count_available(table, merchant[0], "cmp_idem") == len(codes) - 2  # two claims


def test_a_retry_gets_the_first_answer_even_after_what_it_depended_on_changed(
    stack, merchant, claim_handler, lambda_context
):
    _campaign(stack, merchant[0], "cmp_idem8", [])
    body = {"email": "early@example.com"}
    first = claim_handler.lambda_handler(_event(merchant[0], "cmp_idem8", body, "early"), lambda_context)
    assert body_of(first)["status"] == "out_of_coupons"
    table = Table(stack.physical["CouponflowTable"])
    campaigns.add_codes(table, merchant[0], "cmp_idem8", ["IDEM8-0001"], "2026-11-22T00:00:00+00:00")

    retried = claim_handler.lambda_handler(_event(merchant[0], "cmp_idem8", body, "early"), lambda_context)
    fresh = claim_handler.lambda_handler(_event(merchant[0], "cmp_idem8", body, "later"), lambda_context)

    assert (retried["statusCode"], body_of(retried)) == (first["statusCode"], body_of(first))
    assert body_of(fresh)["status"] == "claimed"  # a new key is a new request


def test_same_key_with_a_different_body_is_422_naming_the_header(
    stack, merchant, claim_handler, lambda_context
):
    _campaign(stack, merchant[0], "cmp_idem2", ["IDEM2-0001", "IDEM2-0002"])
    claim_handler.lambda_handler(
        _event(merchant[0], "cmp_idem2", {"email": "a@example.com"}, "k"), lambda_context
    )
    reused = claim_handler.lambda_handler(
        _event(merchant[0], "cmp_idem2", {"email": "b@example.com"}, "k"), lambda_context
    )
    assert reused["statusCode"] == 422
    assert body_of(reused)["field"] == "Idempotency-Key"
    table = Table(stack.physical["CouponflowTable"])
    assert campaigns.count_available(table, merchant[0], "cmp_idem2") == 1  # b was not claimed


def test_a_keyed_repeat_of_a_claim_made_without_the_key_keeps_its_receipt_too(
    stack, merchant, claim_handler, lambda_context
):
    _campaign(stack, merchant[0], "cmp_idem9", ["IDEM9-0001", "IDEM9-0002"])
    body = {"email": "back@example.com"}
    claim_handler.lambda_handler(_event(merchant[0], "cmp_idem9", body, None), lambda_context)
    repeat = claim_handler.lambda_handler(_event(merchant[0], "cmp_idem9", body, "r"), lambda_context)
    reused = claim_handler.lambda_handler(
        _event(merchant[0], "cmp_idem9", {"email": "new@example.com"}, "r"), lambda_context
    )
    assert repeat["statusCode"] == 200 and body_of(repeat)["status"] == "claimed"
    assert reused["statusCode"] == 422


def test_two_copies_racing_with_one_key_claim_once_and_get_the_same_answer(
    stack, merchant, claim_handler, lambda_context
):
    _campaign(stack, merchant[0], "cmp_idem3", ["IDEM3-0001", "IDEM3-0002"])
    event = _event(merchant[0], "cmp_idem3", {"email": "c@example.com"}, "double-click")
    answers: list[dict[str, Any]] = []
    start = threading.Barrier(2)

    def send() -> None:
        start.wait()
        answers.append(claim_handler.lambda_handler(event, lambda_context))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert [a["statusCode"] for a in answers] == [201, 201]
    assert body_of(answers[0]) == body_of(answers[1])
    table = Table(stack.physical["CouponflowTable"])
    assert campaigns.count_available(table, merchant[0], "cmp_idem3") == 1


def test_a_keyed_claim_whose_transaction_failed_left_no_receipt_and_its_retry_claims(
    stack, merchant, claim_handler, lambda_context, monkeypatch
):
    from couponflow.errors import RetryableError

    _campaign(stack, merchant[0], "cmp_idem7", ["IDEM7-0001"])
    event = _event(merchant[0], "cmp_idem7", {"email": "g@example.com"}, "throttled")
    original = Table.transact

    def throttled(self: Table, *args: Any, **kwargs: Any) -> None:
        raise RetryableError("DynamoDB throttled the claim")

    monkeypatch.setattr(Table, "transact", throttled)
    failed = claim_handler.lambda_handler(event, lambda_context)
    monkeypatch.setattr(Table, "transact", original)
    retried = claim_handler.lambda_handler(event, lambda_context)

    assert failed["statusCode"] == 503 and failed["multiValueHeaders"]["Retry-After"] == ["1"]
    assert retried["statusCode"] == 201 and body_of(retried)["status"] == "claimed"


def test_the_same_key_in_another_campaign_is_a_different_request(
    stack, merchant, claim_handler, lambda_context
):
    _campaign(stack, merchant[0], "cmp_idem4", ["IDEM4-0001"])
    _campaign(stack, merchant[0], "cmp_idem5", ["IDEM5-0001"])
    body = {"email": "d@example.com"}
    one = claim_handler.lambda_handler(_event(merchant[0], "cmp_idem4", body, "shared"), lambda_context)
    two = claim_handler.lambda_handler(_event(merchant[0], "cmp_idem5", body, "shared"), lambda_context)
    assert (body_of(one)["code"], body_of(two)["code"]) == ("IDEM4-0001", "IDEM5-0001")


def test_an_overlong_key_is_422_naming_the_header(stack, merchant, claim_handler, lambda_context):
    _campaign(stack, merchant[0], "cmp_idem6", ["IDEM6-0001"])
    response = claim_handler.lambda_handler(
        _event(merchant[0], "cmp_idem6", {"email": "e@example.com"}, "x" * 256), lambda_context
    )
    assert (response["statusCode"], body_of(response)["field"]) == (422, "Idempotency-Key")
