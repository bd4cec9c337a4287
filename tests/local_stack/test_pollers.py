"""SQS event source mapping: partial batch failures, whole-batch failures, redrive to the DLQ."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from local_stack import LocalStack
from local_stack.pollers import failed_message_ids
from local_stack.workers import InvocationResult

MAX_RECEIVE_COUNT = 2  # the fixture template's WorkQueue RedrivePolicy


def attempts(stack: LocalStack, body: str) -> int:
    item = stack.client("dynamodb").get_item(
        TableName=stack.resources["AttemptsTable"], Key={"pk": {"S": body}}
    )
    return int(item.get("Item", {}).get("attempts", {}).get("N", 0))


def dead_letters(stack: LocalStack, seen: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    sqs = stack.client("sqs")
    response = sqs.receive_message(
        QueueUrl=stack.resources["WorkDeadLetterQueue"], MaxNumberOfMessages=10, AttributeNames=["All"]
    )
    for message in response.get("Messages", []):
        seen[message["Body"]] = message
        sqs.delete_message(
            QueueUrl=stack.resources["WorkDeadLetterQueue"], ReceiptHandle=message["ReceiptHandle"]
        )
    return seen


def test_reported_failures_are_retried_then_land_in_the_dlq_and_successes_are_deleted(
    stack: LocalStack, eventually: Callable[..., Any]
) -> None:
    run = uuid.uuid4().hex[:8]
    ok, failing = f"ok-{run}", f"fail-{run}"
    sqs = stack.client("sqs")
    sqs.send_message_batch(
        QueueUrl=stack.resources["WorkQueue"],
        Entries=[{"Id": "1", "MessageBody": ok}, {"Id": "2", "MessageBody": failing}],
    )
    seen: dict[str, dict[str, Any]] = {}
    eventually(lambda: failing in dead_letters(stack, seen))
    assert attempts(stack, failing) == MAX_RECEIVE_COUNT
    assert attempts(stack, ok) == 1
    assert ok not in seen


def test_a_function_error_keeps_every_record_of_the_batch(
    stack: LocalStack, eventually: Callable[..., Any]
) -> None:
    sqs = stack.client("sqs")
    # "raise" makes the function raise: the whole batch stays and is retried until redriven.
    sqs.send_message(QueueUrl=stack.resources["WorkQueue"], MessageBody="raise")
    seen: dict[str, dict[str, Any]] = {}
    eventually(lambda: "raise" in dead_letters(stack, seen))
    assert attempts(stack, "raise") >= MAX_RECEIVE_COUNT


def records(*ids: str) -> list[dict[str, Any]]:
    return [{"messageId": i} for i in ids]


def test_failed_ids_follow_lambda_partial_batch_response_rules() -> None:
    batch = records("a", "b", "c")
    ok = InvocationResult("r", payload={"batchItemFailures": [{"itemIdentifier": "b"}]})
    assert failed_message_ids(ok, batch, partial=True) == {"b"}
    assert failed_message_ids(ok, batch, partial=False) == set()
    assert failed_message_ids(InvocationResult("r", payload=None), batch, partial=True) == set()
    assert failed_message_ids(InvocationResult("r", payload={"batchItemFailures": []}), batch, True) == set()
    unknown = InvocationResult("r", payload={"batchItemFailures": [{"itemIdentifier": "zzz"}]})
    assert failed_message_ids(unknown, batch, partial=True) == {"a", "b", "c"}
    error = InvocationResult("r", error={"errorType": "RuntimeError", "errorMessage": "x"})
    assert failed_message_ids(error, batch, partial=True) == {"a", "b", "c"}
