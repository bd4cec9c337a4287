"""AWS faults, injected into the functions' AWS calls: the local stack failing the way AWS fails.

moto answers every call at once and correctly; AWS throttles, conflicts, has bad moments, and
sometimes does what was asked while the client never hears back. With a :class:`FaultPlan`
(``python -m local_stack --faults 0.1``), every worker process wraps botocore's
``BaseClient._make_api_call`` so that each AWS call a function makes fails with probability
``rate``, with one of the faults below that the call's service can produce:

==============  ===================================================================================
kind            what the function sees
==============  ===================================================================================
throttle        the service's throttling error (DynamoDB ``ProvisionedThroughputExceededException``
                or ``ThrottlingException``, SQS ``RequestThrottled``, SNS ``Throttling``, SES
                ``TooManyRequestsException``, S3 ``SlowDown``, ...); the call did nothing
conflict        DynamoDB only: ``TransactionCanceledException`` with ``TransactionConflict``
                reasons for ``TransactWriteItems``, ``TransactionConflictException`` for a
                single-item write; the call did nothing
server_error    the service's 500 (``InternalServerError``, ``InternalFailure``, ``InternalError``,
                ``ServiceUnavailable``); the call did nothing
no_connection   ``EndpointConnectionError``: the request never left; the call did nothing
lost_answer     the call **was made and took effect**, then the client raises ``ReadTimeoutError``:
                the case where only the caller's own bookkeeping can tell what happened
sent_again      DynamoDB single-item writes only: the write **took effect**, its answer was lost,
                and the SDK's retry sent it again; the function sees the second answer (for a
                conditional write, often ``ConditionalCheckFailedException`` from its own first
                attempt). AWS answers a retried ``TransactWriteItems`` from its request token
==============  ===================================================================================

Faults are injected at the call (after botocore's own retries would have given up), not per
HTTP attempt: at 10% per attempt botocore's retries would hide nearly all of them, and a
function must survive a burst that outlasts its SDK's retry budget. The stack's own
provisioning, its simulators and the tests' clients run in the parent process and are never
faulted. Every injected fault is appended to ``log_path`` as one JSON line (time, function,
service, operation, kind), so a drill can count them.

``switch_path``, when set, turns faults on only while that file exists: a drill sets up its
campaign with faults off, turns them on for the run, and off again for the operator's redrive.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

KINDS = ("throttle", "conflict", "server_error", "no_connection", "lost_answer", "sent_again")

# The services whose calls the functions make, by botocore service name, with their errors.
_THROTTLING = {
    "dynamodb": ("ProvisionedThroughputExceededException", 400),
    "sqs": ("RequestThrottled", 403),
    "sns": ("Throttling", 400),
    "sesv2": ("TooManyRequestsException", 429),
    "ses": ("Throttling", 400),
    "s3": ("SlowDown", 503),
    "scheduler": ("ThrottlingException", 429),
    "secretsmanager": ("ThrottlingException", 400),
    "ssm": ("ThrottlingException", 400),
    "logs": ("ThrottlingException", 400),
}
_SERVER_ERROR = {
    "dynamodb": ("InternalServerError", 500),
    "sqs": ("InternalError", 500),
    "sns": ("InternalError", 500),
    "sesv2": ("InternalFailure", 500),
    "ses": ("InternalFailure", 500),
    "s3": ("InternalError", 500),
    "scheduler": ("InternalServerException", 500),
    "secretsmanager": ("InternalServiceError", 500),
    "ssm": ("InternalServerError", 500),
    "logs": ("ServiceUnavailableException", 500),
}
_DYNAMODB_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem"})


@dataclass(frozen=True)
class FaultPlan:
    """Which calls fail, how often and how; picklable, handed to every worker."""

    rate: float
    services: frozenset[str] = frozenset()  # empty: every service
    kinds: frozenset[str] = frozenset(KINDS)
    seed: int | None = None
    log_path: str | None = None
    switch_path: str | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"fault rate must be within 0..1, not {self.rate}")
        unknown = set(self.kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; known: {', '.join(KINDS)}")

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["services"], data["kinds"] = sorted(self.services), sorted(self.kinds)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultPlan:
        return cls(
            rate=float(data["rate"]),
            services=frozenset(data.get("services") or ()),
            kinds=frozenset(data.get("kinds") or KINDS),
            seed=data.get("seed"),
            log_path=data.get("log_path"),
            switch_path=data.get("switch_path"),
        )

    def kinds_for(self, service: str, operation: str) -> list[str]:
        """The faults this plan may inject into one call (in ``KINDS`` order)."""
        if self.services and service not in self.services:
            return []
        possible = []
        for kind in KINDS:
            if kind not in self.kinds:
                continue
            if kind == "conflict" and not (
                service == "dynamodb" and (operation == "TransactWriteItems" or operation in _DYNAMODB_WRITES)
            ):
                continue
            if kind in ("throttle", "server_error") and service not in _THROTTLING:
                continue
            if kind == "sent_again" and not (service == "dynamodb" and operation in _DYNAMODB_WRITES):
                continue
            possible.append(kind)
        return possible


def error_response(
    service: str, operation: str, kind: str, request: dict[str, Any], rng: random.Random
) -> dict[str, Any]:
    """The parsed error answer AWS gives for ``kind`` (what botocore hands a ``ClientError``)."""
    if kind == "conflict" and operation == "TransactWriteItems":
        count = len(request.get("TransactItems", []))
        chosen = rng.randrange(count) if count else 0
        reasons = [
            {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}
            if i == chosen
            else {"Code": "None"}
            for i in range(count)
        ]
        code, status = "TransactionCanceledException", 400
        message = (
            "Transaction cancelled, please refer cancellation reasons for specific reasons "
            f"[{', '.join(r['Code'] for r in reasons)}]"
        )
        return {
            "Error": {"Code": code, "Message": message},
            "CancellationReasons": reasons,
            "ResponseMetadata": {"HTTPStatusCode": status},
        }
    if kind == "conflict":
        code, status = "TransactionConflictException", 400
        message = "Transaction is ongoing for the item"
    elif kind == "throttle":
        code, status = _THROTTLING[service]
        message = "Rate exceeded (injected by the local stack)"
        if service == "dynamodb" and rng.random() < 0.5:
            code = "ThrottlingException"
    else:
        code, status = _SERVER_ERROR[service]
        message = "We encountered an internal error. Please try again. (injected by the local stack)"
    return {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}


@dataclass
class FaultInjector:
    """Decides, per call, whether and how it fails; writes what it injected to the log."""

    plan: FaultPlan
    function: str
    stream: int = 0
    _random: random.Random = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _restore: Any = field(default=None, init=False)

    def __post_init__(self) -> None:
        seed = self.plan.seed if self.plan.seed is not None else random.randrange(2**32)
        self._random = random.Random(f"{seed}:{self.function}:{self.stream}")

    @property
    def rng(self) -> random.Random:
        return self._random

    def active(self) -> bool:
        return self.plan.switch_path is None or os.path.exists(self.plan.switch_path)

    def choose(self, service: str, operation: str) -> str | None:
        """The fault for this call, or None (the call goes through as it is)."""
        if self.plan.rate <= 0 or not self.active():
            return None
        kinds = self.plan.kinds_for(service, operation)
        with self._lock:
            if not kinds or self._random.random() >= self.plan.rate:
                return None
            return self._random.choice(kinds)

    def remove(self) -> None:
        """Undo ``install`` (a worker never needs to; tests in one process do)."""
        if self._restore is not None:
            self._restore()
            self._restore = None

    def record(self, service: str, operation: str, kind: str) -> None:
        if not self.plan.log_path:
            return
        line = json.dumps(
            {
                "at": time.time(),
                "function": self.function,
                "service": service,
                "operation": operation,
                "kind": kind,
            }
        )
        # one write of one short line to a file opened for appending: lines never interleave
        fd = os.open(self.plan.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, (line + "\n").encode())
        finally:
            os.close(fd)


def install(plan: FaultPlan, function: str, stream: int = 0) -> FaultInjector:
    """Wrap botocore's API call in this process so the functions' calls fail as ``plan`` says."""
    from botocore.client import BaseClient  # noqa: PLC0415 - workers import botocore only when faulted
    from botocore.exceptions import EndpointConnectionError, ReadTimeoutError  # noqa: PLC0415

    injector = FaultInjector(plan, function, stream)
    original = BaseClient._make_api_call  # type: ignore[attr-defined]

    def faulty_call(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        service = self.meta.service_model.service_name
        kind = injector.choose(service, operation_name)
        if kind is None:
            return original(self, operation_name, api_params)
        injector.record(service, operation_name, kind)
        url = self.meta.endpoint_url
        if kind == "no_connection":
            raise EndpointConnectionError(endpoint_url=url)
        if kind == "lost_answer":
            original(self, operation_name, api_params)  # it happened; the answer is what is lost
            raise ReadTimeoutError(endpoint_url=url)
        if kind == "sent_again":
            original(self, operation_name, api_params)  # it happened, the answer was lost...
            return original(self, operation_name, api_params)  # ...and the SDK sent it again
        response = error_response(service, operation_name, kind, api_params, injector.rng)
        code = response["Error"]["Code"]
        raise self.exceptions.from_code(code)(response, operation_name)

    BaseClient._make_api_call = faulty_call  # type: ignore[attr-defined]
    injector._restore = lambda: setattr(BaseClient, "_make_api_call", original)
    return injector


def read_log(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every fault a fault log holds (a missing log: none)."""
    try:
        with open(path, encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]
    except FileNotFoundError:
        return []


def parse_selection(text: str | None, known: Iterable[str] | None = None) -> frozenset[str]:
    """A comma-separated selection (``dynamodb,sesv2``); checked against ``known`` when given."""
    chosen = frozenset(part.strip() for part in (text or "").split(",") if part.strip())
    if known is not None:
        unknown = chosen - set(known)
        if unknown:
            raise ValueError(f"unknown {sorted(unknown)}; choose from {', '.join(sorted(known))}")
    return chosen


SERVICES = tuple(sorted(_THROTTLING))
