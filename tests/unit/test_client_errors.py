"""A sending service's ClientError becomes a permanent or a retryable domain error."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from couponflow.adapters.client_errors import send_failure
from couponflow.errors import OutcomeUnknown, PermanentSendError, RetryableError


def _error(code: str, message: str = "why") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "SendEmail")


def test_listed_codes_are_permanent_with_the_providers_reason():
    failure = send_failure(
        _error("MessageRejected", "Email address is not verified."), "SES", frozenset({"MessageRejected"})
    )
    assert isinstance(failure, PermanentSendError)
    assert str(failure) == "MessageRejected: Email address is not verified."


def test_other_codes_are_retryable_and_name_the_service():
    failure = send_failure(_error("Throttling"), "SNS", frozenset({"InvalidParameter"}))
    assert isinstance(failure, RetryableError)
    assert str(failure).startswith("SNS Throttling")


def test_an_sms_that_never_reached_sns_is_retryable_and_not_of_unknown_outcome(monkeypatch):
    from botocore.exceptions import EndpointConnectionError
    from couponflow.adapters import sns

    class Unreachable:
        def publish(self, **_: object) -> dict[str, str]:
            raise EndpointConnectionError(endpoint_url="https://sns.us-east-1.amazonaws.com")

    monkeypatch.setattr(sns, "client", Unreachable)
    with pytest.raises(RetryableError, match="unreachable") as raised:
        sns.send_sms("+14155550100", "Your code")
    assert not isinstance(raised.value, OutcomeUnknown)


def test_an_sms_whose_answer_was_lost_is_of_unknown_outcome_not_a_botocore_error(monkeypatch):
    from botocore.exceptions import ReadTimeoutError
    from couponflow.adapters import sns

    class Silent:
        def publish(self, **_: object) -> dict[str, str]:
            raise ReadTimeoutError(endpoint_url="https://sns.us-east-1.amazonaws.com")

    monkeypatch.setattr(sns, "client", Silent)
    with pytest.raises(OutcomeUnknown, match="did not answer"):
        sns.send_sms("+14155550100", "Your code")
