"""Lambda's asynchronous invocation, as the local stack emulates it for every async event source.

EventBridge rules and Scheduler, CloudWatch Logs subscriptions and other async sources hand the
event to Lambda, which retries a failed invocation (after ``retry_delay`` seconds here, minutes
on AWS) up to the function's ``EventInvokeConfig.MaximumRetryAttempts`` (default 2), then sends
an invocation record (``requestPayload`` = the event) to its ``DestinationConfig.OnFailure``
queue when that is an SQS queue. An operator's redrive of that queue invokes the function with
the record's ``requestPayload`` again.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from local_stack.workers import InvocationResult, PoolStopped

log = logging.getLogger(__name__)

Invoke = Callable[[str, Any], InvocationResult]
SendToQueue = Callable[[str, str], Any]  # (queue ARN, body)


@dataclass(frozen=True)
class AsyncInvokeConfig:
    """A function's ``EventInvokeConfig``: retries and the on-failure queue (an SQS ARN)."""

    max_retries: int = 2
    on_failure_queue: str | None = None


def async_invoke_configs(resolved: dict[str, dict[str, Any]]) -> dict[str, AsyncInvokeConfig]:
    configs = {}
    for lid, res in resolved.items():
        if res["Type"] != "AWS::Serverless::Function":
            continue
        config = res["Properties"].get("EventInvokeConfig") or {}
        on_failure = (config.get("DestinationConfig") or {}).get("OnFailure") or {}
        destination = on_failure.get("Destination")
        queue = str(destination) if destination and str(destination).startswith("arn:aws:sqs:") else None
        configs[lid] = AsyncInvokeConfig(int(config.get("MaximumRetryAttempts", 2)), queue)
    return configs


def invocation_record(
    event: Any, result: InvocationResult, *, function_arn: str, attempts: int
) -> dict[str, Any]:
    """What Lambda sends to an on-failure destination after the last retry."""
    return {
        "version": "1.0",
        "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "requestContext": {
            "requestId": result.request_id,
            "functionArn": f"{function_arn}:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": attempts,
        },
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": result.error,
    }


class AsyncInvoker:
    """Invoke functions asynchronously with Lambda's retries and on-failure destination."""

    def __init__(
        self,
        invoke: Invoke,
        *,
        configs: dict[str, AsyncInvokeConfig] | None = None,
        function_arns: dict[str, str] | None = None,
        send_to_queue: SendToQueue | None = None,
        retry_delay: float = 1.0,
        what: str = "an event",
    ) -> None:
        self.invoke = invoke
        self.configs = configs or {}
        self.function_arns = function_arns or {}
        self.send_to_queue = send_to_queue
        self.retry_delay = retry_delay
        self.what = what

    def __call__(self, function: str, event: Any, *, attempt: int = 1) -> None:
        threading.Thread(
            target=self._attempt, args=(function, event, attempt), name=f"async:{function}", daemon=True
        ).start()

    def _attempt(self, function: str, event: Any, attempt: int) -> None:
        try:
            result = self.invoke(function, event)
        except PoolStopped:  # the stack is stopping: nothing is lost that a running stack would run
            log.debug("not invoking %s: the stack is stopping", function)
            return
        except Exception as exc:  # the function is gone
            log.warning("invoking %s failed: %s", function, exc)
            return
        if result.ok:
            return
        config = self.configs.get(function, AsyncInvokeConfig())
        if attempt <= config.max_retries:
            log.info("%s failed on %s (attempt %d): retrying", function, self.what, attempt)
            timer = threading.Timer(
                self.retry_delay, self, args=(function, event), kwargs={"attempt": attempt + 1}
            )
            timer.daemon = True
            timer.start()
            return
        log.warning("%s failed on %s %d times: %s", function, self.what, attempt, result.error_message)
        if config.on_failure_queue and self.send_to_queue is not None:
            arn = self.function_arns.get(function, function)
            record = invocation_record(event, result, function_arn=arn, attempts=attempt)
            self.send_to_queue(config.on_failure_queue, json.dumps(record))
