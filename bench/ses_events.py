"""The SES-events benchmark: a stream of SES events, with duplicates and in shuffled order,
through the SES-events Lambda handler (SQS batches of 25, as the template wires it) against moto.

Prints events applied per second, DynamoDB write requests per event (target at most 2: the
timeline put, and one transaction for status + campaign counter + suppression), and CPU
milliseconds per event. The stream mixes Send, Delivery and Open for every message, a hard bounce
for one message in 50 (so suppressions, counter moves and the reputation guard's reads are in
it), and 10% duplicates of random events; it ends by checking the campaign counts add up.
"""

from __future__ import annotations

import importlib
import json
import os
import random
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from couponflow.adapters.dynamodb import Table
from couponflow.store import campaign_stats, keys

MERCHANT = "mbenchses0000000"
CAMPAIGN = "cmp_bench_ses"
BATCH = 25
WRITE_OPERATIONS = ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem")


class Meter(Protocol):
    requests: Counter[str]

    def reset(self) -> None: ...


class _Context:
    function_name = "bench-ses-events"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench-ses-events"
    memory_limit_in_mb = 512
    aws_request_id = "00000000-0000-0000-0000-000000000000"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


def _record(kind: str, n: int, step: int) -> str:
    base = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    at = (base + timedelta(seconds=n, milliseconds=step)).isoformat().replace("+00:00", "Z")
    recipient = f"r{n}@example.com"
    record: dict[str, Any] = {
        "eventType": kind,
        "mail": {
            "timestamp": at,
            "messageId": f"ses-{n}",
            "source": "s@example.com",
            "destination": [recipient],
            "tags": {
                "merchant": [MERCHANT],
                "campaign": [CAMPAIGN],
                "customer": [f"cus_{n}"],
                "message": [f"msg_{n}"],
            },
        },
    }
    if kind == "Send":
        record["send"] = {}
    elif kind == "Delivery":
        record["delivery"] = {
            "timestamp": at,
            "recipients": [recipient],
            "smtpResponse": "250 ok",
            "processingTimeMillis": 500,
        }
    elif kind == "Open":
        record["open"] = {"timestamp": at, "userAgent": "bench", "ipAddress": "192.0.2.1"}
    else:
        record["bounce"] = {
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "bouncedRecipients": [
                {
                    "emailAddress": recipient,
                    "status": "5.1.1",
                    "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                }
            ],
            "timestamp": at,
            "feedbackId": f"fb-{n}",
        }
    return json.dumps({"Type": "Notification", "MessageId": f"sns-{n}-{step}", "Message": json.dumps(record)})


def ses_stream(events_count: int, duplicates: float, rng: random.Random) -> tuple[list[str], int]:
    """``events_count`` record bodies (``duplicates`` of them repeats), shuffled; and the message count."""
    unique_target = int(events_count / (1 + duplicates))
    bodies: list[str] = []
    n = 0
    while len(bodies) < unique_target:
        kinds = ["Send", "Delivery", "Open"] + (["Bounce"] if n % 50 == 49 else [])
        bodies += [_record(kind, n, step) for step, kind in enumerate(kinds)]
        n += 1
    bodies = bodies[:unique_target]
    bodies += rng.choices(bodies, k=events_count - len(bodies))
    rng.shuffle(bodies)
    return bodies, n


def _handler(stack: Any) -> Any:
    variables = stack.resolved["SesEventsFunction"]["Properties"]["Environment"]["Variables"]
    os.environ.update({k: str(v) for k, v in variables.items()})
    os.environ.update(
        {
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "POWERTOOLS_METRICS_DISABLED": "true",
        }
    )
    return importlib.import_module("functions.ses_events.app")


def _sqs_event(bodies: list[str]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "bench",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:ses-events",
                "awsRegion": "us-east-1",
            }
            for body in bodies
        ]
    }


def bench_ses_events(stack: Any, meter: Meter, events_count: int, duplicates: float = 0.1) -> None:
    table = Table(stack.physical["CouponflowTable"])
    bodies, message_count = ses_stream(events_count, duplicates, random.Random(4))
    stamp = "2026-11-22T09:59:00+00:00"
    campaign = {"type": "campaign", "merchant_id": MERCHANT, "campaign_id": CAMPAIGN, "name": "Bench"}
    table.put({**keys.campaign(MERCHANT, CAMPAIGN), **campaign})
    table.batch_put(
        [
            {
                **keys.message(MERCHANT, f"cus_{n}", f"msg_{n}"),
                "type": "message",
                "merchant_id": MERCHANT,
                "customer_id": f"cus_{n}",
                "message_id": f"msg_{n}",
                "campaign_id": CAMPAIGN,
                "recipient": f"r{n}@example.com",
                "status": "queued",
                "status_rank": 0,
                "created_at": stamp,
            }
            for n in range(message_count)
        ]
    )
    handler = _handler(stack)
    context = _Context()
    meter.reset()
    failures = 0
    cpu, wall = time.process_time(), time.perf_counter()
    for start in range(0, len(bodies), BATCH):
        result = handler.lambda_handler(_sqs_event(bodies[start : start + BATCH]), context)
        failures += len(result["batchItemFailures"])
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    writes = sum(meter.requests[op] for op in WRITE_OPERATIONS)
    counts = campaign_stats.counts(table, MERCHANT, CAMPAIGN)
    print(
        f"ses events: {len(bodies)} records ({duplicates:.0%} duplicates, shuffled, "
        f"{message_count} messages) "
        f"through the handler in {wall:.1f} s: {len(bodies) / wall:.0f} events/s, {failures} failed"
    )
    print(
        f"  DynamoDB write requests per event: {writes / len(bodies):.2f} (target <= 2; "
        f"{meter.requests['TransactWriteItems']} transactions, {meter.requests['PutItem']} puts)"
    )
    print(f"  CPU per event: {1000 * cpu / len(bodies):.2f} ms (handler, boto3 and in-process moto)")
    nonzero = {k: v for k, v in counts.items() if v}
    print(f"  campaign counts: {sum(counts.values())} messages of {message_count}: {nonzero}")
