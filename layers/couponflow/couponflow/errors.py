"""Domain errors. Adapters translate AWS ``ClientError`` codes into these; handlers map them out."""

from __future__ import annotations

from typing import Any


class CouponflowError(Exception):
    """Base of every error the domain raises on purpose."""


class NotFoundError(CouponflowError):
    """The merchant-scoped thing asked for does not exist."""


class ConflictError(CouponflowError):
    """The write lost a race or would break an invariant (conditional check failed); ``details``
    go into the 409's body beside the message (e.g. the ``field`` and a ``reason``)."""

    def __init__(self, message: str = "", details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.details = dict(details or {})


class InvalidInputError(CouponflowError):
    """Input that passed the schema but breaks a business rule; ``field`` names the culprit."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class RetryableError(CouponflowError):
    """A transient failure (throttling, a conflicting transaction): the caller should retry later."""


class PermanentSendError(CouponflowError):
    """The provider refused the message for good (rejected, invalid address): do not retry."""


class OutcomeUnknown(RetryableError):
    """The request went out but its answer never came back (read timeout, connection reset).

    The call may have taken effect. Retrying is safe only where the call is idempotent (a
    DynamoDB write guarded by a condition, a queue message whose consumer is idempotent); a
    message handed to SES or SNS is never sent again on this error (``services/mailer.py``).
    """
