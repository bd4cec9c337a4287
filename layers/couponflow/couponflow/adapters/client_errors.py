"""Turning a sending service's ``ClientError`` into a domain error: permanent or worth retrying."""

from __future__ import annotations

from botocore.exceptions import ClientError

from couponflow.errors import CouponflowError, PermanentSendError, RetryableError


def send_failure(error: ClientError, service: str, permanent: frozenset[str]) -> CouponflowError:
    """:class:`PermanentSendError` for the codes in ``permanent``, else :class:`RetryableError`."""
    details = error.response.get("Error", {})
    code = details.get("Code", "")
    if code in permanent:
        return PermanentSendError(f"{code}: {details.get('Message', '')}")
    return RetryableError(f"{service} {code}: {error}")
