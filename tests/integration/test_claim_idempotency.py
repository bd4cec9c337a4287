"""The claim's Idempotency-Key header (Powertools idempotency on its own DynamoDB table), through
the claim handler against moto's server."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
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


def test_same_key_and_body_replays_the_first_answer_without_claiming_again(
    stack, merchant, claim_handler, lambda_context
):
    _campaign(stack, merchant[0], "cmp_idem", ["IDEM-0001", "IDEM-0002"])
    calls = []
    original = claim_handler.claim_service.claim

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return original(*args, **kwargs)

    object.__setattr__(claim_handler.claim_service, "claim", counting)
    body = {"email": "idem@example.com"}
    first = claim_handler.lambda_handler(_event(merchant[0], "cmp_idem", body, "key-1"), lambda_context)
    again = claim_handler.lambda_handler(_event(merchant[0], "cmp_idem", body, "key-1"), lambda_context)

    assert first["statusCode"] == again["statusCode"] == 201
    assert body_of(again)["code"] == body_of(first)["code"]
    assert len(calls) == 1


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


def test_a_duplicate_arriving_while_the_first_is_in_progress_is_409_with_retry_after(
    stack, merchant, claim_handler, lambda_context
):
    _campaign(stack, merchant[0], "cmp_idem3", ["IDEM3-0001"])
    event = _event(merchant[0], "cmp_idem3", {"email": "c@example.com"}, "busy-key")
    nested: list[dict[str, Any]] = []
    original = claim_handler.claim_service.claim

    def claim_while_a_duplicate_arrives(*args: Any, **kwargs: Any) -> Any:
        nested.append(claim_handler.lambda_handler(event, lambda_context))  # same key, first still running
        return original(*args, **kwargs)

    object.__setattr__(claim_handler.claim_service, "claim", claim_while_a_duplicate_arrives)
    first = claim_handler.lambda_handler(event, lambda_context)

    assert first["statusCode"] == 201
    (duplicate,) = nested
    assert duplicate["statusCode"] == 409
    # until the first is answered or its mark lapses (with the invocation's time): a truthful bound
    [wait] = duplicate["multiValueHeaders"]["Retry-After"]
    assert 1 <= int(wait) <= lambda_context.get_remaining_time_in_millis() // 1000 + 1
    assert body_of(duplicate)["field"] == "Idempotency-Key"


def test_a_claim_that_failed_and_could_not_clear_its_key_says_how_long_the_key_stays_busy(
    stack, merchant, claim_handler, lambda_context, monkeypatch
):
    """Given a keyed claim whose work failed and whose in-progress mark could not be deleted (the
    idempotency table failed too), when the storefront retries, then it is told 409 with the
    seconds the mark still lasts, not a Retry-After of 1 it would spend retrying in vain."""
    from couponflow.errors import RetryableError

    _campaign(stack, merchant[0], "cmp_idem7", ["IDEM7-0001"])
    event = _event(merchant[0], "cmp_idem7", {"email": "g@example.com"}, "stuck-key")
    persistence = claim_handler.idempotency._persistence

    def claim_fails(*_: Any, **__: Any) -> Any:
        raise RetryableError("DynamoDB throttled the claim")

    def cleanup_fails(*_: Any, **__: Any) -> None:
        raise RetryableError("DynamoDB throttled the cleanup")

    original = claim_handler.claim_service.claim
    object.__setattr__(claim_handler.claim_service, "claim", claim_fails)
    monkeypatch.setattr(persistence, "_delete_record", cleanup_fails)
    try:
        failed = claim_handler.lambda_handler(event, lambda_context)
    finally:
        object.__setattr__(claim_handler.claim_service, "claim", original)
    assert failed["statusCode"] >= 500
    monkeypatch.undo()

    retried = claim_handler.lambda_handler(event, lambda_context)
    assert retried["statusCode"] == 409
    [wait] = retried["multiValueHeaders"]["Retry-After"]
    remaining = lambda_context.get_remaining_time_in_millis() / 1000
    assert remaining - 2 <= int(wait) <= remaining + 1
    assert f"retry in {wait} s" in body_of(retried)["message"]


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
