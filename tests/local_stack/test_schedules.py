"""EventBridge Scheduler one-time schedules fire into their target, then are deleted."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from local_stack import LocalStack
from local_stack.schedules import at_time, rate_seconds


def test_a_due_at_schedule_sends_its_input_to_the_sqs_target_and_is_deleted(
    stack: LocalStack, eventually: Callable[..., Any]
) -> None:
    body = f"ok-sched-{uuid.uuid4().hex[:8]}"
    sqs, scheduler = stack.client("sqs"), stack.client("scheduler")
    queue_arn = sqs.get_queue_attributes(QueueUrl=stack.resources["WorkQueue"], AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    scheduler.create_schedule(
        Name=body,
        ScheduleExpression="at(2020-01-01T00:00:00)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": queue_arn, "RoleArn": "arn:aws:iam::123456789012:role/scheduler", "Input": body},
        ActionAfterCompletion="DELETE",
    )
    table = stack.resources["AttemptsTable"]
    ddb = stack.client("dynamodb")
    eventually(lambda: ddb.get_item(TableName=table, Key={"pk": {"S": body}}).get("Item"))
    names = {s["Name"] for s in scheduler.list_schedules().get("Schedules", [])}
    assert body not in names


def test_expression_parsing() -> None:
    assert rate_seconds("rate(5 minutes)") == 300
    assert rate_seconds("rate(1 hour)") == 3600
    assert rate_seconds("cron(0 * * * ? *)") is None
    when = at_time("at(2030-05-01T10:00:00)", "Europe/Paris")
    assert when is not None and when.utcoffset() is not None
