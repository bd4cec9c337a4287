"""Fixtures for unit tests: the JSON samples in events/, loaded by name."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events"


@pytest.fixture
def ses_sample() -> Callable[[str], dict[str, Any]]:
    """Load events/ses/<name>.json as a dict."""

    def load(name: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((EVENTS_DIR / "ses" / f"{name}.json").read_text())
        return data

    return load


@pytest.fixture
def sns_envelope() -> Callable[..., str]:
    """Wrap an SES record the way SNS delivers it to SQS without raw message delivery."""

    def wrap(ses_record: dict[str, Any], sns_message_id: str = "b3a2f7c1-0000-4000-8000-000000000001") -> str:
        return json.dumps(
            {
                "Type": "Notification",
                "MessageId": sns_message_id,
                "TopicArn": "arn:aws:sns:us-east-1:123456789012:couponflow-ses-events",
                "Message": json.dumps(ses_record, separators=(",", ":")),
                "Timestamp": "2024-05-01T12:00:00.000Z",
                "SignatureVersion": "1",
                "Signature": "EXAMPLE",
                "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-example.pem",
                "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
            }
        )

    return wrap
