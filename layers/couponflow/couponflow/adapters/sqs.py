"""The one module that talks to SQS (sending; Lambda's event source mapping does the receiving).

Every consumer is idempotent on a business key, so a message sent twice (a lost answer, then a
retry) is harmless; a message not sent raises :class:`RetryableError` for the caller's retry.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from couponflow import retry
from couponflow.errors import RetryableError

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient


@cache
def client() -> SQSClient:
    return boto3.client("sqs")


def send_json(queue_url: str, body: Mapping[str, Any]) -> str:
    """Send one JSON message; returns the SQS message id."""
    try:
        response = client().send_message(
            QueueUrl=queue_url, MessageBody=json.dumps(body, separators=(",", ":"))
        )
    except (ClientError, BotoCoreError) as error:
        raise RetryableError(f"could not queue message: {error}") from error
    return response["MessageId"]


def send_json_batch(queue_url: str, bodies: Sequence[Mapping[str, Any]]) -> None:
    """Send many JSON messages, ten per call, resending any the queue did not take."""
    for start in range(0, len(bodies), 10):
        entries: list[Any] = [
            {"Id": str(i), "MessageBody": json.dumps(b, separators=(",", ":"))}
            for i, b in enumerate(bodies[start : start + 10])
        ]
        for attempt in range(5):
            if attempt:
                retry.pause(attempt)
            try:
                response = client().send_message_batch(QueueUrl=queue_url, Entries=entries)
            except (ClientError, BotoCoreError) as error:
                raise RetryableError(f"could not queue messages: {error}") from error
            failed = {f["Id"] for f in response.get("Failed", [])}
            entries = [e for e in entries if e["Id"] in failed]
            if not entries:
                break
        else:
            raise RetryableError(f"{len(entries)} messages were not accepted by the queue")
