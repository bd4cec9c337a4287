"""The one module that talks to EventBridge Scheduler: one-time ``at()`` schedules for sends.

Each schedule targets a function with a JSON input, a retry policy and a dead-letter queue,
and deletes itself after it fired. ``ResourceNotFoundException`` on delete means the schedule
is already gone (fired, or deleted by an earlier attempt): that is success for a cancel.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

from couponflow.errors import ConflictError, RetryableError

if TYPE_CHECKING:
    from mypy_boto3_scheduler.client import EventBridgeSchedulerClient

MAX_RETRY_ATTEMPTS = 3
MAX_EVENT_AGE_SECONDS = 3600


@cache
def client() -> EventBridgeSchedulerClient:
    return boto3.client("scheduler")


@dataclass(frozen=True)
class Target:
    """Where a schedule fires: a function ARN, the role Scheduler assumes, and a dead-letter queue."""

    group: str
    arn: str
    role_arn: str
    dead_letter_arn: str


def at_expression(when: datetime) -> str:
    return f"at({when.astimezone(UTC):%Y-%m-%dT%H:%M:%S})"


def create_once(name: str, when: datetime, target: Target, payload: Mapping[str, Any]) -> None:
    """A one-time schedule at ``when`` (UTC) that invokes the target with ``payload``."""
    try:
        client().create_schedule(
            Name=name,
            GroupName=target.group,
            ScheduleExpression=at_expression(when),
            ScheduleExpressionTimezone="UTC",
            FlexibleTimeWindow={"Mode": "OFF"},
            ActionAfterCompletion="DELETE",
            Target={
                "Arn": target.arn,
                "RoleArn": target.role_arn,
                "Input": json.dumps(dict(payload), separators=(",", ":")),
                "RetryPolicy": {
                    "MaximumRetryAttempts": MAX_RETRY_ATTEMPTS,
                    "MaximumEventAgeInSeconds": MAX_EVENT_AGE_SECONDS,
                },
                "DeadLetterConfig": {"Arn": target.dead_letter_arn},
            },
        )
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code == "ConflictException":
            raise ConflictError(f"schedule {name} already exists") from error
        raise RetryableError(f"Scheduler {code}: {error}") from error


def delete(name: str, group: str) -> bool:
    """Delete the schedule; False when it no longer existed."""
    try:
        client().delete_schedule(Name=name, GroupName=group)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code == "ResourceNotFoundException":
            return False
        raise RetryableError(f"Scheduler {code}: {error}") from error
    return True
