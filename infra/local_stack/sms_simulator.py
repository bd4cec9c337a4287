"""SMS delivery simulator: SNS's SMS delivery status logs, delivered as CloudWatch Logs subscriptions.

moto's SNS accepts ``Publish`` with ``PhoneNumber`` and answers a message id, but writes no
delivery status log. The moto middleware hands every SNS request and moto's answer to
:meth:`SmsSimulator.tap`; for each text moto accepted, shortly after (100-300 ms), the simulator
writes the record SNS would write, in SNS's format (``notification.messageId`` = the id moto
returned, ``delivery.destination``, ``providerResponse``, ``dwellTimeMs``, ``priceInUSD``,
``status``), to the CloudWatch Logs group SNS uses:

=================================  ===============================================
status                             log group
=================================  ===============================================
``SUCCESS``                        ``sns/<region>/<account>/DirectPublishToPhoneNumber``
``FAILURE``                        ``sns/<region>/<account>/DirectPublishToPhoneNumber/Failure``
=================================  ===============================================

and delivers it as a subscription payload (``{"awslogs": {"data": base64(gzip(json))}}``,
``messageType: DATA_MESSAGE``) to every function whose template ``Events`` subscribe that group
(``Type: CloudWatchLogs``, ``LogGroupName`` resolved from the template). The record is also put
into moto's CloudWatch Logs (group and stream created as SNS does), so ``aws logs
filter-log-events`` shows it. Records due together for a group go out in one payload, as
CloudWatch Logs batches them.

Which texts fail: the destination simulator numbers of AWS End User Messaging SMS that produce
a failure event (:data:`FAILURE_NUMBERS`, e.g. ``+14254147167`` in the United States); every
other number is delivered (``+14254147755`` is the US success simulator number).

The invocation is asynchronous, as CloudWatch Logs invokes Lambda: a failed invocation is retried
after ``retry_delay`` seconds up to the function's ``EventInvokeConfig.MaximumRetryAttempts``
(default 2), then the event goes to its ``DestinationConfig.OnFailure`` queue (when it is an SQS
queue) as Lambda's invocation record. ``FilterPattern`` ``""`` delivers every record; a pattern
of plain terms delivers records containing every term; a JSON pattern (``{ ... }``) is not
evaluated locally (logged once) and delivers every record.
"""

from __future__ import annotations

import base64
import gzip
import heapq
import itertools
import json
import logging
import random
import re
import shlex
import threading
import time
import uuid
from collections import OrderedDict, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import parse_qs

from local_stack.async_invoke import AsyncInvokeConfig, AsyncInvoker, SendToQueue
from local_stack.template import ACCOUNT_ID, function_events
from local_stack.workers import InvocationResult

log = logging.getLogger(__name__)

MAX_REMEMBERED = 10_000
MAX_EVENTS_PER_PAYLOAD = 100
PRICE_IN_USD = 0.00645
SUCCESS_RESPONSE = "Message has been accepted by phone carrier"
FAILURE_RESPONSE = "Unknown error attempting to reach phone"

# AWS End User Messaging SMS destination simulator numbers that produce a failure event
# (docs.aws.amazon.com/sms-voice/latest/userguide/test-phone-numbers.html); one per country.
FAILURE_NUMBERS = frozenset(
    {
        "+14254147167",  # United States
        "+61455944039",  # Australia
        "+43676800442032",  # Austria
        "+32460213923",  # Belgium
        "+56229140631",  # Chile
        "+420790542287",  # Czech Republic
        "+4525919215",  # Denmark
        "+37282720793",  # Estonia
        "+3584573979111",  # Finland
        "+33755512502",  # France
        "+85257048854",  # Hong Kong
    }
)

Status = Literal["SUCCESS", "FAILURE"]
Invoke = Callable[[str, Any], InvocationResult]
WriteLog = Callable[[str, str, list[dict[str, Any]]], None]  # (group, stream, [{timestamp, message}])


def success_log_group(region: str, account_id: str = ACCOUNT_ID) -> str:
    return f"sns/{region}/{account_id}/DirectPublishToPhoneNumber"


def failure_log_group(region: str, account_id: str = ACCOUNT_ID) -> str:
    return success_log_group(region, account_id) + "/Failure"


def outcome_for(phone: str) -> Status:
    """``FAILURE`` for AWS's failure simulator numbers, ``SUCCESS`` for any other number."""
    return "FAILURE" if phone.strip() in FAILURE_NUMBERS else "SUCCESS"


# ---------------------------------------------------------------------------------------------
# What the template wires
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogSubscription:
    """A function's ``CloudWatchLogs`` event: a subscription filter on a log group."""

    function: str  # logical id
    log_group: str
    filter_pattern: str = ""
    name: str = ""  # the subscription filter's name (SAM: <function><event>)


def log_subscriptions(resolved: dict[str, dict[str, Any]]) -> list[LogSubscription]:
    return [
        LogSubscription(
            function=lid,
            log_group=str(props["LogGroupName"]),
            filter_pattern=str(props.get("FilterPattern") or ""),
            name=f"{lid}{event_name}",
        )
        for lid, event_name, _, props in function_events(resolved, "CloudWatchLogs")
    ]


def filter_matches(pattern: str, message: str) -> bool:
    """CloudWatch Logs' unstructured term match (every term present); "" matches everything."""
    pattern = pattern.strip()
    if not pattern or pattern.startswith("{"):
        return True
    try:
        terms = shlex.split(pattern)
    except ValueError:
        terms = pattern.split()
    return all(term in message for term in terms if term)


# ---------------------------------------------------------------------------------------------
# Parsing SNS requests, writing SNS's records
# ---------------------------------------------------------------------------------------------


@dataclass
class SentText:
    """One text moto's SNS accepted."""

    message_id: str
    phone: str
    message: str
    sms_type: str = "Promotional"  # SNS's default when AWS.SNS.SMS.SMSType is not set
    timestamp: float = field(default_factory=time.time)


def _message_attributes(form: dict[str, list[str]]) -> dict[str, str]:
    attributes: dict[str, str] = {}
    index = 1
    while f"MessageAttributes.entry.{index}.Name" in form:
        prefix = f"MessageAttributes.entry.{index}"
        value = form.get(f"{prefix}.Value.StringValue", [""])[0]
        attributes[form[f"{prefix}.Name"][0]] = value
        index += 1
    return attributes


def parse_publish(body: bytes, response: bytes) -> SentText | None:
    """The text of an SNS ``Publish`` with ``PhoneNumber`` that moto accepted, else None."""
    form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    if form.get("Action", [""])[0] != "Publish" or not form.get("PhoneNumber", [""])[0]:
        return None
    found = re.search(rb"<MessageId>([^<]+)</MessageId>", response)
    if found is None:
        return None
    attributes = _message_attributes(form)
    return SentText(
        message_id=found.group(1).decode(),
        phone=form["PhoneNumber"][0],
        message=form.get("Message", [""])[0],
        sms_type=attributes.get("AWS.SNS.SMS.SMSType") or "Promotional",
    )


def _sns_time(when: float) -> str:
    """SNS's ``notification.timestamp``: ``2016-06-28 00:40:34.558`` (UTC)."""
    moment = datetime.fromtimestamp(when, UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def delivery_record(text: SentText, status: Status, now: float | None = None) -> dict[str, Any]:
    """The delivery status record SNS writes for ``text``."""
    now = time.time() if now is None else now
    dwell = max(1, int((now - text.timestamp) * 1000))
    delivery: dict[str, Any] = {
        "destination": text.phone,
        "priceInUSD": PRICE_IN_USD,
        "smsType": text.sms_type,
    }
    if status == "SUCCESS":
        delivery |= {
            "phoneCarrier": "Local Simulator Carrier",
            "mcc": 310,
            "mnc": 270,
            "providerResponse": SUCCESS_RESPONSE,
            "dwellTimeMs": dwell,
            "dwellTimeMsUntilDeviceAck": dwell + random.randint(200, 800),
        }
    else:
        delivery |= {"mcc": 0, "mnc": 0, "providerResponse": FAILURE_RESPONSE, "dwellTimeMs": dwell}
        delivery["dwellTimeMsUntilDeviceAck"] = dwell + random.randint(200, 800)
    return {
        "notification": {"messageId": text.message_id, "timestamp": _sns_time(text.timestamp)},
        "delivery": delivery,
        "status": status,
    }


def log_event_id(timestamp_ms: int) -> str:
    """A CloudWatch Logs event id: 56 digits, ordered by time."""
    return f"{timestamp_ms:020d}{random.randrange(10**36):036d}"


def awslogs_payload(
    log_group: str,
    log_stream: str,
    log_events: list[dict[str, Any]],
    *,
    subscription_filter: str,
    owner: str = ACCOUNT_ID,
) -> dict[str, Any]:
    """The event CloudWatch Logs hands a subscribed function: base64 of gzip of the JSON."""
    body = {
        "messageType": "DATA_MESSAGE",
        "owner": owner,
        "logGroup": log_group,
        "logStream": log_stream,
        "subscriptionFilters": [subscription_filter],
        "logEvents": log_events,
    }
    return {"awslogs": {"data": base64.b64encode(gzip.compress(json.dumps(body).encode())).decode()}}


# ---------------------------------------------------------------------------------------------
# The simulator
# ---------------------------------------------------------------------------------------------


class SmsSimulator:
    def __init__(
        self,
        invoke: Invoke,
        *,
        subscriptions: list[LogSubscription],
        invoke_configs: dict[str, AsyncInvokeConfig] | None = None,
        function_arns: dict[str, str] | None = None,  # logical id -> ARN
        send_to_queue: SendToQueue | None = None,
        write_log: WriteLog | None = None,
        region: str = "us-east-1",
        account_id: str = ACCOUNT_ID,
        retry_delay: float = 1.0,
        gap: tuple[float, float] = (0.1, 0.3),
    ) -> None:
        self.invoke = invoke
        self.subscriptions = subscriptions
        self.invoke_configs = invoke_configs or {}
        self.function_arns = function_arns or {}
        self.send_to_queue = send_to_queue
        self.write_log = write_log
        self.region = region
        self.account_id = account_id
        self.retry_delay = retry_delay
        self.gap = gap
        self.log_stream = str(uuid.uuid4())  # SNS writes to streams of its own naming
        self.texts: OrderedDict[str, SentText] = OrderedDict()
        self._pending: dict[str, list[dict[str, Any]]] = defaultdict(list)  # group -> log events
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._stopped = False
        self._warned: set[str] = set()
        self._thread = threading.Thread(target=self._run, name="sms-simulator", daemon=True)
        self._invoker = AsyncInvoker(
            invoke,
            configs=self.invoke_configs,
            function_arns=self.function_arns,
            send_to_queue=send_to_queue,
            retry_delay=retry_delay,
            what="delivery status logs",
        )

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        self._thread.join(timeout=5)

    def _schedule(self, delay: float, action: Callable[[], None]) -> None:
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic() + delay, next(self._seq), action))
            self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and (not self._heap or self._heap[0][0] > time.monotonic()):
                    timeout = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._cond.wait(timeout)
                if self._stopped:
                    return
                due = []
                while self._heap and self._heap[0][0] <= time.monotonic():
                    due.append(heapq.heappop(self._heap)[2])
            for action in due:
                try:
                    action()
                except Exception:
                    log.exception("SMS simulator: an action failed")
            try:
                self._flush()
            except Exception:
                log.exception("SMS simulator: delivering delivery status logs failed")

    # -- the tap ------------------------------------------------------------------------------

    def tap(
        self,
        _environ: dict[str, Any],
        body: bytes,
        status: str,
        _headers: list[tuple[str, str]],
        response: bytes,
    ) -> None:
        if not status.startswith("200"):
            return
        text = parse_publish(body, response)
        if text is not None:
            self.accept(text)

    def accept(self, text: SentText) -> None:
        """Remember a text SNS accepted and schedule its delivery status record."""
        with self._cond:
            self.texts[text.message_id] = text
            while len(self.texts) > MAX_REMEMBERED:
                self.texts.popitem(last=False)
        self._schedule(random.uniform(*self.gap), lambda: self._record(text))

    def _record(self, text: SentText) -> None:
        status = outcome_for(text.phone)
        group = (success_log_group if status == "SUCCESS" else failure_log_group)(
            self.region, self.account_id
        )
        now = time.time()
        millis = int(now * 1000)
        message = json.dumps(delivery_record(text, status, now))
        self._pending[group].append({"id": log_event_id(millis), "timestamp": millis, "message": message})

    # -- delivery -----------------------------------------------------------------------------

    def _flush(self) -> None:
        pending, self._pending = self._pending, defaultdict(list)
        for group, events in pending.items():
            if self.write_log is not None:
                try:
                    self.write_log(group, self.log_stream, events)
                except Exception as exc:
                    log.warning("SMS simulator: writing to log group %s failed: %s", group, exc)
            for subscription in self.subscriptions:
                if subscription.log_group != group:
                    continue
                self._check_pattern(subscription)
                matching = [e for e in events if filter_matches(subscription.filter_pattern, e["message"])]
                for start in range(0, len(matching), MAX_EVENTS_PER_PAYLOAD):
                    payload = awslogs_payload(
                        group,
                        self.log_stream,
                        matching[start : start + MAX_EVENTS_PER_PAYLOAD],
                        subscription_filter=subscription.name,
                        owner=self.account_id,
                    )
                    self._invoke_async(subscription.function, payload, attempt=1)

    def _check_pattern(self, subscription: LogSubscription) -> None:
        if subscription.filter_pattern.strip().startswith("{") and subscription.name not in self._warned:
            self._warned.add(subscription.name)
            log.warning(
                "%s: JSON filter pattern %r is not evaluated locally; every record is delivered",
                subscription.name,
                subscription.filter_pattern,
            )

    def _invoke_async(self, function: str, event: dict[str, Any], attempt: int) -> None:
        self._invoker(function, event, attempt=attempt)
