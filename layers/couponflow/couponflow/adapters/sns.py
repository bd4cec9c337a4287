"""The one module that talks to SNS for text messages (SMS straight to a phone number)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from couponflow.adapters.client_errors import send_failure
from couponflow.errors import RetryableError

if TYPE_CHECKING:
    from mypy_boto3_sns.client import SNSClient

_PERMANENT = frozenset({"InvalidParameter", "InvalidParameterValue", "OptedOut", "EndpointDisabled"})


@cache
def client() -> SNSClient:
    return boto3.client("sns")


def send_sms(phone: str, text: str, *, sender_id: str | None = None) -> str:
    """Publish one transactional SMS; returns SNS's message id.

    Raises :class:`PermanentSendError` for a number SNS refuses (invalid, opted out) and
    :class:`RetryableError` for throttling or any other transient failure.
    """
    attributes = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}
    if sender_id:
        attributes["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": sender_id}
    try:
        response = client().publish(PhoneNumber=phone, Message=text, MessageAttributes=attributes)  # type: ignore[arg-type]
    except ClientError as error:
        raise send_failure(error, "SNS", _PERMANENT) from error
    except BotoCoreError as error:  # no answer (connection, read timeout): whether it went is unknown
        raise RetryableError(f"SNS did not answer: {error}") from error
    return response["MessageId"]
