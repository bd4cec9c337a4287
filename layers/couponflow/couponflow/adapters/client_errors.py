"""Turning a sending service's errors into domain errors: permanent, worth retrying, or unknown."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, EndpointConnectionError

from couponflow.errors import CouponflowError, OutcomeUnknown, PermanentSendError, RetryableError


def send_failure(error: ClientError, service: str, permanent: frozenset[str]) -> CouponflowError:
    """:class:`PermanentSendError` for the codes in ``permanent``, else :class:`RetryableError`."""
    details = error.response.get("Error", {})
    code = details.get("Code", "")
    if code in permanent:
        return PermanentSendError(f"{code}: {details.get('Message', '')}")
    return RetryableError(f"{service} {code}: {error}")


def no_answer(error: BotoCoreError, service: str) -> RetryableError:
    """A call that got no answer from ``service``.

    Could not connect (the request never left): :class:`RetryableError`, nothing happened. Any
    other transport failure (read timeout, connection reset mid-answer): :class:`OutcomeUnknown`,
    the service may have acted on it.
    """
    if isinstance(error, EndpointConnectionError | ConnectTimeoutError):
        return RetryableError(f"{service} unreachable: {error}")
    return OutcomeUnknown(f"{service} did not answer: {error}")
