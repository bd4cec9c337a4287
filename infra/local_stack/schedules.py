"""Schedules: rate tickers for Schedule/ScheduleV2 events, and a loop for EventBridge Scheduler.

* ``rate(N unit)`` events of Type Schedule or ScheduleV2 invoke the function every period with
  the scheduled-event payload (Schedule) or the event's Input (ScheduleV2; ``{}`` without).
  ``cron(...)`` expressions are logged and not run locally.
* One-time ``at(yyyy-mm-ddThh:mm:ss)`` schedules created at runtime through the Scheduler API
  are listed in moto every second; when due (in the schedule's timezone, against a clock that
  can be shifted with ``clock_offset``), the Target.Input is sent to the target (an SQS queue
  ARN, or the ARN of one of our functions) and the schedule is deleted if its
  ActionAfterCompletion is DELETE.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from local_stack.provision import queue_url_from_arn
from local_stack.template import function_events
from local_stack.workers import InvocationResult

log = logging.getLogger(__name__)

Invoke = Callable[[str, Any], InvocationResult]

_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}
_RATE = re.compile(r"rate\(\s*(\d+)\s+(\w+)\s*\)")
_AT = re.compile(r"at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)")


def rate_seconds(expression: str) -> float | None:
    match = _RATE.fullmatch(expression.strip())
    if not match or match.group(2) not in _UNITS:
        return None
    return int(match.group(1)) * _UNITS[match.group(2)]


def at_time(expression: str, timezone: str | None) -> datetime | None:
    match = _AT.fullmatch(expression.strip())
    if not match:
        return None
    naive = datetime.fromisoformat(match.group(1))
    return naive.replace(tzinfo=ZoneInfo(timezone) if timezone else UTC)


@dataclass(frozen=True)
class RateSchedule:
    function: str
    name: str
    period: float
    input: Any
    v2: bool


def rate_schedules(resolved: dict[str, dict[str, Any]]) -> list[RateSchedule]:
    found = []
    for lid, event_name, kind, props in function_events(resolved, "Schedule", "ScheduleV2"):
        expression = str(props.get("Schedule") or props.get("ScheduleExpression") or "")
        enabled = props.get("Enabled", True) and props.get("State", "ENABLED") != "DISABLED"
        period = rate_seconds(expression)
        if period is None or not enabled:
            log.info("schedule %s.%s (%s) is not run locally", lid, event_name, expression)
            continue
        raw_input = props.get("Input")
        found.append(
            RateSchedule(
                function=lid,
                name=f"{lid}{event_name}",
                period=period,
                input=json.loads(raw_input) if isinstance(raw_input, str) else raw_input,
                v2=kind == "ScheduleV2",
            )
        )
    return found


class Clock:
    """Wall clock shifted by ``offset`` seconds (so tests can make schedules due)."""

    def __init__(self, offset: float = 0.0) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(time.time() + self.offset, UTC)


class Scheduler:
    def __init__(
        self,
        *,
        invoke: Invoke,
        function_arns: dict[str, str],
        rates: list[RateSchedule],
        scheduler_client: Any,
        sqs_client: Any,
        endpoint_url: str,
        region: str,
        account_id: str,
        clock: Clock | None = None,
        interval: float = 1.0,
        invoke_async: Callable[[str, Any], None] | None = None,
    ) -> None:
        self.invoke = invoke
        # EventBridge and Scheduler invoke Lambda asynchronously: with its retries and
        # on-failure destination when the stack provides them (``async_invoke.AsyncInvoker``)
        self.invoke_async = invoke_async or self._invoke_in_thread
        self.function_arns = function_arns
        self.rates = rates
        self.scheduler = scheduler_client
        self.sqs = sqs_client
        self.endpoint_url = endpoint_url
        self.region = region
        self.account_id = account_id
        self.clock = clock or Clock()
        self.interval = interval
        self._stop = threading.Event()
        self._fired: set[tuple[str, str, str]] = set()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for rate in self.rates:
            self._threads.append(
                threading.Thread(target=self._tick, args=(rate,), name=f"rate:{rate.name}", daemon=True)
            )
        self._threads.append(threading.Thread(target=self._loop, name="scheduler", daemon=True))
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=3)

    # -- rate tickers -------------------------------------------------------------------------

    def scheduled_event(self, rate: RateSchedule) -> Any:
        if rate.input is not None:
            return rate.input
        if rate.v2:
            return {}
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": self.account_id,
            "time": self.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.region,
            "resources": [f"arn:aws:events:{self.region}:{self.account_id}:rule/{rate.name}"],
            "detail": {},
        }

    def _invoke_in_thread(self, function: str, event: Any) -> None:
        def run() -> None:
            result = self.invoke(function, event)
            if not result.ok:
                log.warning("scheduled %s failed: %s", function, result.error_message)

        threading.Thread(target=run, name=f"schedule:{function}", daemon=True).start()

    def _tick(self, rate: RateSchedule) -> None:
        while not self._stop.wait(rate.period):
            self.invoke_async(rate.function, self.scheduled_event(rate))

    # -- EventBridge Scheduler one-time schedules ----------------------------------------------

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.fire_due()
            except Exception:
                if self._stop.is_set():
                    return
                log.exception("scheduler loop failed; retrying")

    def fire_due(self) -> int:
        """Fire every due one-time schedule; returns how many fired."""
        fired = 0
        groups = [g["Name"] for g in self.scheduler.list_schedule_groups().get("ScheduleGroups", [])]
        for group in groups or ["default"]:
            for summary in self.scheduler.list_schedules(GroupName=group).get("Schedules", []):
                schedule = self.scheduler.get_schedule(Name=summary["Name"], GroupName=group)
                if schedule.get("State", "ENABLED") != "ENABLED":
                    continue
                expression = str(schedule.get("ScheduleExpression", ""))
                when = at_time(expression, schedule.get("ScheduleExpressionTimezone"))
                key = (group, schedule["Name"], expression)
                if when is None or key in self._fired or when > self.clock.now():
                    continue
                self._fired.add(key)
                self._deliver(schedule)
                fired += 1
                if schedule.get("ActionAfterCompletion") == "DELETE":
                    self.scheduler.delete_schedule(Name=schedule["Name"], GroupName=group)
        return fired

    def _deliver(self, schedule: dict[str, Any]) -> None:
        target = schedule["Target"]
        arn = str(target["Arn"])
        payload = target.get("Input", "{}")
        log.info("schedule %s fired -> %s", schedule["Name"], arn)
        if arn.startswith("arn:aws:sqs:"):
            kwargs: dict[str, Any] = {
                "QueueUrl": queue_url_from_arn(arn, self.endpoint_url),
                "MessageBody": payload,
            }
            group_id = (target.get("SqsParameters") or {}).get("MessageGroupId")
            if group_id:
                kwargs["MessageGroupId"] = group_id
            self.sqs.send_message(**kwargs)
            return
        function = self.function_arns.get(arn) or self.function_arns.get(arn.rsplit(":", 1)[0])
        if function is None:
            log.error("schedule %s targets %s, which is not a local function or queue", schedule["Name"], arn)
            return
        self.invoke_async(function, json.loads(payload))
