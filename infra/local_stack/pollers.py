"""SQS event source mappings: long-poll a queue, batch, invoke, delete what succeeded.

As Lambda's poller does: gather up to BatchSize records within MaximumBatchingWindowInSeconds,
invoke synchronously, delete the batch on success. With ReportBatchItemFailures only the
records listed in ``batchItemFailures`` stay (an invalid list fails the whole batch); if the
function errs or times out, every record stays. Local acceleration: records that stay are made
visible again after ``retry_delay`` seconds (ChangeMessageVisibility) instead of waiting out
the queue's full visibility timeout. The redrive to the dead-letter queue after
maxReceiveCount receives is moto's own (it moves the message on the next ReceiveMessage, as
SQS does).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from local_stack.provision import queue_url_from_arn
from local_stack.template import function_events
from local_stack.workers import InvocationResult

log = logging.getLogger(__name__)

Invoke = Callable[[str, Any], InvocationResult]


@dataclass(frozen=True)
class SqsEventSource:
    function: str  # logical id
    queue_arn: str
    batch_size: int = 10
    batching_window: float = 0.0
    report_batch_item_failures: bool = False
    enabled: bool = True


def sqs_event_sources(resolved: dict[str, dict[str, Any]]) -> list[SqsEventSource]:
    return [
        SqsEventSource(
            function=lid,
            queue_arn=str(props["Queue"]),
            batch_size=int(props.get("BatchSize", 10)),
            batching_window=float(props.get("MaximumBatchingWindowInSeconds", 0)),
            report_batch_item_failures="ReportBatchItemFailures"
            in (props.get("FunctionResponseTypes") or []),
            enabled=bool(props.get("Enabled", True)),
        )
        for lid, _, _, props in function_events(resolved, "SQS")
    ]


def to_lambda_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    attributes = message.get("Attributes") or {}
    record_attributes = {
        k: attributes[k]
        for k in (
            "ApproximateReceiveCount",
            "SentTimestamp",
            "SenderId",
            "ApproximateFirstReceiveTimestamp",
            "SequenceNumber",
            "MessageGroupId",
            "MessageDeduplicationId",
            "AWSTraceHeader",
        )
        if k in attributes
    }
    message_attributes = {}
    for name, value in (message.get("MessageAttributes") or {}).items():
        message_attributes[name] = {
            "stringValue": value.get("StringValue"),
            "binaryValue": value.get("BinaryValue"),
            "stringListValues": value.get("StringListValues", []),
            "binaryListValues": value.get("BinaryListValues", []),
            "dataType": value.get("DataType"),
        }
    body = message.get("Body", "")
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": body,
        "attributes": record_attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": message.get("MD5OfBody") or hashlib.md5(body.encode()).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def failed_message_ids(result: InvocationResult, records: list[dict[str, Any]], partial: bool) -> set[str]:
    """Message ids that stay on the queue after an invocation."""
    every = {r["messageId"] for r in records}
    if not result.ok:
        return every
    if not partial:
        return set()
    payload = result.payload
    if payload is None or (isinstance(payload, dict) and not payload.get("batchItemFailures")):
        return set()
    if not isinstance(payload, dict) or not isinstance(payload.get("batchItemFailures"), list):
        log.error("invalid batchItemFailures response; the whole batch fails: %r", payload)
        return every
    failed = set()
    for item in payload["batchItemFailures"]:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not identifier or identifier not in every:
            log.error(
                "batchItemFailures names an unknown itemIdentifier %r; the whole batch fails", identifier
            )
            return every
        failed.add(identifier)
    return failed


class SqsPoller:
    def __init__(
        self,
        source: SqsEventSource,
        invoke: Invoke,
        *,
        sqs_client: Any,
        endpoint_url: str,
        region: str,
        retry_delay: float = 1.0,
    ) -> None:
        self.source = source
        self.invoke = invoke
        self.sqs = sqs_client
        self.queue_url = queue_url_from_arn(source.queue_arn, endpoint_url)
        self.region = region
        self.retry_delay = retry_delay
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"sqs:{source.function}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float = 5.0) -> None:
        self._thread.join(timeout)

    def _receive(self, max_messages: int, wait: int) -> list[dict[str, Any]]:
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=max(1, min(10, max_messages)),
            WaitTimeSeconds=wait,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages: list[dict[str, Any]] = response.get("Messages", [])
        return messages

    def poll_once(self) -> int:
        """Receive one batch and process it; returns how many records were handled."""
        messages = self._receive(self.source.batch_size, wait=1)
        if not messages:
            return 0
        deadline = time.monotonic() + self.source.batching_window
        while len(messages) < self.source.batch_size and not self._stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            more = self._receive(self.source.batch_size - len(messages), wait=0)
            if not more:
                self._stop.wait(min(0.1, remaining))
            messages += more
        records = [to_lambda_record(m, self.source.queue_arn, self.region) for m in messages]
        result = self.invoke(self.source.function, {"Records": records})
        if not result.ok:
            log.warning(
                "%s failed on a batch of %d: %s", self.source.function, len(records), result.error_message
            )
        failed = failed_message_ids(result, records, self.source.report_batch_item_failures)
        succeeded = [r for r in records if r["messageId"] not in failed]
        for start in range(0, len(succeeded), 10):
            chunk = succeeded[start : start + 10]
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(chunk)],
            )
        for record in records:
            if record["messageId"] in failed:
                self.sqs.change_message_visibility(
                    QueueUrl=self.queue_url,
                    ReceiptHandle=record["receiptHandle"],
                    VisibilityTimeout=max(0, round(self.retry_delay)),
                )
        return len(records)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:
                if self._stop.is_set():
                    return
                log.exception("SQS poller for %s failed; retrying", self.source.function)
                self._stop.wait(1.0)
