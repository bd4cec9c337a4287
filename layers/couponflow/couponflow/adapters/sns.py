"""The one module that talks to SNS for text messages (SMS straight to a phone number)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from couponflow.adapters.client_errors import no_answer, send_failure

if TYPE_CHECKING:
    from mypy_boto3_sns.client import SNSClient

_PERMANENT = frozenset({"InvalidParameter", "InvalidParameterValue", "OptedOut", "EndpointDisabled"})


@cache
def client() -> SNSClient:
    """One attempt per text: botocore would resend a text whose answer was lost."""
    return boto3.client("sns", config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))


def send_sms(phone: str, text: str, *, sender_id: str | None = None) -> str:
    """Publish one transactional SMS; returns SNS's message id.

    Raises :class:`PermanentSendError` for a number SNS refuses (invalid, opted out) and
    :class:`RetryableError` for throttling or any other answered failure (nothing was sent), and
    :class:`~couponflow.errors.OutcomeUnknown` when SNS's answer was lost (the text may be out).
    """
    attributes = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}
    if sender_id:
        attributes["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": sender_id}
    try:
        response = client().publish(PhoneNumber=phone, Message=text, MessageAttributes=attributes)  # type: ignore[arg-type]
    except ClientError as error:
        raise send_failure(error, "SNS", _PERMANENT) from error
    except BotoCoreError as error:  # no answer: unknown whether it went, unless it never left
        raise no_answer(error, "SNS") from error
    return response["MessageId"]
