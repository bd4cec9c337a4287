"""A sending service's ClientError becomes a permanent or a retryable domain error."""

from __future__ import annotations

from botocore.exceptions import ClientError
from couponflow.adapters.client_errors import send_failure
from couponflow.errors import PermanentSendError, RetryableError


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
