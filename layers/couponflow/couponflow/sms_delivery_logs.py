"""SNS's SMS delivery status logs: the records and the parser.

With SMS delivery status logging on, SNS writes one JSON record per text to CloudWatch Logs:
``sns/<region>/<account>/DirectPublishToPhoneNumber`` (delivered) and ``.../Failure``. A
subscription filter hands them to a function as ``{"awslogs": {"data": base64(gzip(json))}}``
whose ``logEvents[].message`` is the record::

    {"notification": {"messageId": "...", "timestamp": "2016-06-28 00:40:34.558"},
     "delivery": {"destination": "+1XXX5550100", "providerResponse": "...", "phoneCarrier": "...",
                  "priceInUSD": 0.00645, "smsType": "Transactional", "mcc": 310, "mnc": 270,
                  "dwellTimeMs": 599, "dwellTimeMsUntilDeviceAck": 1344},
     "status": "SUCCESS" | "FAILURE"}

The phone number is ``delivery.destination`` in SNS's records (``phoneNumber`` is read too).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from couponflow.domain.message_status import MessageStatus


class BadDeliveryLog(ValueError):
    """A payload or log line that is not an SNS SMS delivery record; the message says why."""


class _Notification(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    message_id: str = Field(alias="messageId", min_length=1, max_length=128)
    timestamp: str = Field(min_length=1)


class _Delivery(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    destination: str | None = None
    phone_number: str | None = Field(default=None, alias="phoneNumber")
    provider_response: str = Field(default="", alias="providerResponse")


class SmsDeliveryRecord(BaseModel):
    model_config = ConfigDict(extra="allow")
    notification: _Notification
    delivery: _Delivery
    status: Literal["SUCCESS", "FAILURE"]


@dataclass(frozen=True)
class SmsReceipt:
    """One delivery verdict for one text."""

    sns_message_id: str
    phone: str | None
    status: MessageStatus  # delivered or failed
    provider_response: str  # the carrier's words, verbatim
    occurred_at: datetime
    details: Mapping[str, Any]

    @property
    def event_key(self) -> str:
        """The same receipt, however often it is delivered, has one key."""
        raw = f"{self.sns_message_id}\x00{self.status}\x00{self.occurred_at.isoformat()}"
        return hashlib.sha256(raw.encode()).hexdigest()[:32]


def _timestamp(text: str) -> datetime:
    try:  # SNS writes "2016-06-28 00:40:34.558" (UTC)
        value = datetime.fromisoformat(text.replace(" ", "T"))
    except ValueError as error:
        raise BadDeliveryLog(f"notification.timestamp is not a time: {text!r}") from error
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def parse_record(message: str) -> SmsReceipt:
    """One log line (a delivery record) as a receipt, or BadDeliveryLog naming the problem."""
    try:
        record = SmsDeliveryRecord.model_validate_json(message)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "record"
        raise BadDeliveryLog(f"not an SMS delivery record: {where}: {first.get('msg')}") from error
    delivery = record.delivery
    details: dict[str, Any] = {  # floats (priceInUSD) as written: DynamoDB takes no floats
        k: str(v) if isinstance(v, float) else v
        for k, v in (delivery.model_extra or {}).items()
        if isinstance(v, str | int | float) and not isinstance(v, bool)
    }
    details["provider_response"] = delivery.provider_response
    details["sns_status"] = record.status
    return SmsReceipt(
        sns_message_id=record.notification.message_id,
        phone=delivery.destination or delivery.phone_number,
        status=MessageStatus.DELIVERED if record.status == "SUCCESS" else MessageStatus.FAILED,
        provider_response=delivery.provider_response,
        occurred_at=_timestamp(record.notification.timestamp),
        details=details,
    )


def decode_awslogs(event: Mapping[str, Any]) -> dict[str, Any]:
    """The decoded CloudWatch Logs payload (``awslogs.data``: base64 of gzip of JSON)."""
    try:
        data = event["awslogs"]["data"]
        decoded: dict[str, Any] = json.loads(gzip.decompress(base64.b64decode(data)))
    except (KeyError, TypeError, ValueError, OSError) as error:
        raise BadDeliveryLog(f"not a CloudWatch Logs subscription payload: {error}") from error
    return decoded


def encode_awslogs(log_group: str, messages: list[str], *, owner: str = "123456789012") -> dict[str, Any]:
    """The subscription payload CloudWatch Logs would deliver for ``messages`` (samples and tests)."""
    body = {
        "messageType": "DATA_MESSAGE",
        "owner": owner,
        "logGroup": log_group,
        "logStream": "sms-delivery",
        "subscriptionFilters": ["sms-receipts"],
        "logEvents": [
            {"id": str(i), "timestamp": 0, "message": message} for i, message in enumerate(messages)
        ],
    }
    return {"awslogs": {"data": base64.b64encode(gzip.compress(json.dumps(body).encode())).decode()}}
