"""The one module that talks to SES (v2 API).

Coupon emails go out as raw MIME through ``SendEmail`` so every header we set (one-click
unsubscribe included) is sent as written, with the configuration set and message tags that tie
SES's events back to merchant, campaign, customer and message.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from couponflow.adapters.client_errors import send_failure

if TYPE_CHECKING:
    from mypy_boto3_sesv2.client import SESV2Client

# SES refuses these for good: retrying the same message cannot succeed.
_PERMANENT = frozenset({"MessageRejected", "BadRequestException", "InvalidParameterValue"})


@cache
def client() -> SESV2Client:
    return boto3.client("sesv2", config=Config(retries={"max_attempts": 5, "mode": "adaptive"}))


def send_raw(
    *,
    sender: str,
    recipient: str,
    raw_message: bytes,
    configuration_set: str,
    tags: Mapping[str, str],
) -> str:
    """Hand one message to SES; returns SES's message id.

    Raises :class:`PermanentSendError` when SES rejects the message and
    :class:`RetryableError` for throttling, a paused account or any other transient failure.
    """
    try:
        response = client().send_email(
            FromEmailAddress=sender,
            Destination={"ToAddresses": [recipient]},
            Content={"Raw": {"Data": raw_message}},
            ConfigurationSetName=configuration_set,
            EmailTags=[{"Name": k, "Value": v} for k, v in tags.items()],
        )
    except ClientError as error:
        raise send_failure(error, "SES", _PERMANENT) from error
    return response["MessageId"]


def send_text(
    *, sender: str, recipient: str, subject: str, text: str, configuration_set: str | None = None
) -> str:
    """A plain-text operational email (merchant notifications); returns SES's message id."""
    kwargs: dict[str, Any] = {}
    if configuration_set:
        kwargs["ConfigurationSetName"] = configuration_set
    try:
        response = client().send_email(
            FromEmailAddress=sender,
            Destination={"ToAddresses": [recipient]},
            Content={"Simple": {"Subject": {"Data": subject}, "Body": {"Text": {"Data": text}}}},
            **kwargs,
        )
    except ClientError as error:
        raise send_failure(error, "SES", _PERMANENT) from error
    return response["MessageId"]
