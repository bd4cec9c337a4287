"""The one module that talks to SNS for text messages (SMS straight to a phone number)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Literal

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from couponflow.adapters.client_errors import no_answer, send_failure

if TYPE_CHECKING:
    from mypy_boto3_sns.client import SNSClient

_PERMANENT = frozenset({"InvalidParameter", "InvalidParameterValue", "OptedOut", "EndpointDisabled"})


SmsType = Literal["Transactional", "Promotional"]


@cache
def client() -> SNSClient:
    """One attempt per text: botocore would resend a text whose answer was lost."""
    return boto3.client("sns", config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))


def send_sms(
    phone: str, text: str, *, sms_type: SmsType = "Transactional", sender_id: str | None = None
) -> str:
    """Publish one SMS; returns SNS's message id. ``Promotional`` for marketing (segment sends:
    cheaper, may wait for quiet hours), ``Transactional`` for what one customer asked for.

    Raises :class:`PermanentSendError` for a number SNS refuses (invalid, opted out) and
    :class:`RetryableError` for throttling or any other answered failure (nothing was sent), and
    :class:`~couponflow.errors.OutcomeUnknown` when SNS's answer was lost (the text may be out).
    """
    attributes = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": sms_type}}
    if sender_id:
        attributes["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": sender_id}
    try:
        response = client().publish(PhoneNumber=phone, Message=text, MessageAttributes=attributes)  # type: ignore[arg-type]
    except ClientError as error:
        raise send_failure(error, "SNS", _PERMANENT) from error
    except BotoCoreError as error:  # no answer: unknown whether it went, unless it never left
        raise no_answer(error, "SNS") from error
    return response["MessageId"]
