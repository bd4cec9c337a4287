"""The provider answers -> integration status mapping (pure, no network)."""

from __future__ import annotations

import pytest
from couponflow.domain.integration_status import (
    IntegrationFailure,
    IntegrationStatus,
    Push,
    RetryLater,
    SyncOutcome,
    after_attempts,
    mailchimp_lookup,
    mailchimp_upsert,
    webhook_answer,
)

DECLINED = IntegrationFailure.DOUBLE_OPT_IN_DECLINED
ALREADY = IntegrationFailure.ALREADY_SUBSCRIBED
ERROR = IntegrationFailure.PROVIDER_ERROR


def reason_of(answer: object) -> IntegrationFailure | None:
    assert isinstance(answer, SyncOutcome)
    return answer.reason


def test_lookup_of_an_unknown_member_asks_for_a_push() -> None:
    assert mailchimp_lookup(404, {"title": "Resource Not Found"}, pushed_before=False) == Push()


@pytest.mark.parametrize("state", ["subscribed", "pending"])
def test_lookup_of_a_member_already_on_the_list_is_already_subscribed(state: str) -> None:
    answer = mailchimp_lookup(200, {"status": state}, pushed_before=False)
    assert reason_of(answer) is ALREADY


@pytest.mark.parametrize("state", ["subscribed", "pending"])
def test_lookup_after_our_own_earlier_push_is_received_not_already_subscribed(state: str) -> None:
    answer = mailchimp_lookup(200, {"status": state}, pushed_before=True)
    assert isinstance(answer, SyncOutcome) and answer.status is IntegrationStatus.RECEIVED


@pytest.mark.parametrize("state", ["unsubscribed", "cleaned"])
def test_lookup_of_a_member_who_unsubscribed_or_was_cleaned_is_declined_and_not_pushed(state: str) -> None:
    assert reason_of(mailchimp_lookup(200, {"status": state}, pushed_before=True)) is DECLINED


@pytest.mark.parametrize("state", ["archived", "transactional"])
def test_lookup_of_an_archived_or_transactional_member_pushes_with_an_explicit_status(state: str) -> None:
    assert mailchimp_lookup(200, {"status": state}, pushed_before=False) == Push(set_status=True)


@pytest.mark.parametrize(
    ("status", "retry"), [(401, False), (403, False), (429, True), (500, True), (0, True)]
)
def test_lookup_errors_retry_only_when_transient(status: int, retry: bool) -> None:
    answer = mailchimp_lookup(status, {"title": "x"}, pushed_before=False)
    assert isinstance(answer, RetryLater) is retry
    if not retry:
        assert reason_of(answer) is ERROR


@pytest.mark.parametrize("double_opt_in", [True, False])
@pytest.mark.parametrize("state", ["subscribed", "pending"])
def test_upsert_answering_subscribed_or_pending_is_received(state: str, double_opt_in: bool) -> None:
    answer = mailchimp_upsert(200, {"status": state}, double_opt_in=double_opt_in, pushed_before=False)
    assert isinstance(answer, SyncOutcome)
    assert answer.status is IntegrationStatus.RECEIVED and answer.reason is None


def test_upsert_pending_under_double_opt_in_says_the_customer_has_not_confirmed() -> None:
    answer = mailchimp_upsert(200, {"status": "pending"}, double_opt_in=True, pushed_before=False)
    assert isinstance(answer, SyncOutcome) and answer.detail == "pending confirmation"


def test_upsert_answering_unsubscribed_is_declined() -> None:
    answer = mailchimp_upsert(200, {"status": "unsubscribed"}, double_opt_in=True, pushed_before=False)
    assert reason_of(answer) is DECLINED


def test_member_exists_is_already_subscribed_unless_an_earlier_attempt_pushed_it() -> None:
    exists = {"title": "Member Exists", "status": 400}
    assert reason_of(mailchimp_upsert(400, exists, double_opt_in=False, pushed_before=False)) is ALREADY
    again = mailchimp_upsert(400, exists, double_opt_in=False, pushed_before=True)
    assert isinstance(again, SyncOutcome) and again.status is IntegrationStatus.RECEIVED


def test_forgotten_email_is_declined() -> None:
    body = {"title": "Forgotten Email Not Subscribed", "status": 400}
    assert reason_of(mailchimp_upsert(400, body, double_opt_in=False, pushed_before=False)) is DECLINED


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405])
def test_upsert_client_errors_are_provider_errors_without_retry(status: int) -> None:
    body = {"title": "Invalid Resource", "detail": "Please provide a valid email address."}
    answer = mailchimp_upsert(status, body, double_opt_in=False, pushed_before=False)
    assert reason_of(answer) is ERROR
    assert isinstance(answer, SyncOutcome) and str(status) in answer.detail


@pytest.mark.parametrize("status", [429, 500, 502, 503, 0])
def test_upsert_throttling_and_server_errors_are_retried(status: int) -> None:
    assert isinstance(mailchimp_upsert(status, {}, double_opt_in=False, pushed_before=False), RetryLater)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (200, None),
        (202, None),
        (204, None),
        (409, ALREADY),
        (400, ERROR),
        (401, ERROR),
        (404, ERROR),
        (410, ERROR),
    ],
)
def test_webhook_answers(status: int, expected: IntegrationFailure | None) -> None:
    answer = webhook_answer(status, pushed_before=False)
    assert isinstance(answer, SyncOutcome) and answer.reason is expected
    assert answer.status is (IntegrationStatus.RECEIVED if expected is None else IntegrationStatus.FAILED)


def test_webhook_409_after_our_own_earlier_push_is_received() -> None:
    answer = webhook_answer(409, pushed_before=True)
    assert isinstance(answer, SyncOutcome) and answer.status is IntegrationStatus.RECEIVED


@pytest.mark.parametrize("status", [429, 500, 503, 0])
def test_webhook_throttling_server_errors_and_no_answer_are_retried(status: int) -> None:
    assert isinstance(webhook_answer(status, pushed_before=False), RetryLater)


def test_a_transient_answer_is_retried_until_the_last_attempt_then_fails_as_provider_error() -> None:
    transient = RetryLater("500 Internal Server Error")
    assert after_attempts(transient, attempt=4, max_attempts=5) is transient
    final = after_attempts(transient, attempt=5, max_attempts=5)
    assert reason_of(final) is ERROR
    assert isinstance(final, SyncOutcome) and "gave up after 5 attempts" in final.detail


def test_a_final_answer_is_kept_whatever_the_attempt() -> None:
    received = SyncOutcome.received("subscribed")
    assert after_attempts(received, attempt=9, max_attempts=5) is received
