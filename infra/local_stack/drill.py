"""Fault drills: claims, a segment send and SES events on the local stack while AWS misbehaves.

``make drill`` (``python -m local_stack.drill``) runs each scenario at 0% and at 10% faults
(``local_stack.faults``) and prints one row per run: codes lost, codes held twice, emails
handed to SES twice, stuck items, dead-letter depth, faults injected, time. A run is:

1. set up with faults off (the merchant's campaign, customers, segment);
2. the workload with faults on (storefront claimers who retry as a storefront does; a send
   fired by the scheduler; SES events for every message), ticking housekeeping every few
   seconds, until every queue is empty;
3. the operator's part, with faults off (as the runbook says): redrive every dead-letter queue
   into its source queue, and let everything settle again;
4. the checks, read straight from moto: every code of the campaign either in the pool or held by
   exactly one claim, its registry item saying which (available, or naming the holder), no
   customer holding two codes of one campaign, no message handed to SES
   twice (counted by the local SES as it accepted them, by our message tag), every message,
   claim and send final (``unknown`` counts as final: visible, with its reason), the campaign's
   message counters equal to its messages' statuses, the pool's counters equal to its codes.

Grace periods are shortened through the functions' environment so a drill takes a minute, not
hours: unknown hand-offs settle after 3 s, outbox re-queues after 3 s, sends finish 30 s after
their fan-out.

The test suite runs a small version (``tests/e2e/test_fault_drills.py``); this module's
scenarios are the same code at full size.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from couponflow.adapters.dynamodb import deserialize

from local_stack import faults as faults_module
from local_stack.stack import LocalStack

ROOT = Path(__file__).resolve().parents[2]
SIM = "simulator.amazonses.com"
HOLDING = frozenset({"claimed", "coupon_viewed", "clicked_through", "redeemed"})
IN_FLIGHT = frozenset({"queued", "sent", "delayed"})
DRILL_ENVIRONMENT = {
    "UNKNOWN_OUTCOME_MINUTES": "0.05",
    "OUTBOX_GRACE_MINUTES": "0.05",
    "SEND_GRACE_MINUTES": "0.5",
}
# Polls (a second apart) with nothing moving and records in a dead-letter queue before a drill
# hands over to the operator's redrive.
STALL_POLLS = 15


@dataclass
class Findings:
    """What one drill run found; ``clean`` when every promise held."""

    scenario: str
    rate: float
    codes_lost: int = 0
    codes_twice: int = 0
    double_sends: int = 0
    stuck: int = 0
    counts_off: int = 0
    unanswered: int = 0
    dlq_depth: int = 0
    faults: int = 0
    unknown: int = 0
    lost_answers: int = 0  # hand-offs whose answer was lost, settled by SES's events or `unknown`
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (
            self.codes_lost
            or self.codes_twice
            or self.double_sends
            or self.stuck
            or self.counts_off
            or self.unanswered
        )

    def row(self) -> str:
        return (
            f"{self.scenario:<10} {self.rate:>5.0%} {self.codes_lost:>6} {self.codes_twice:>6} "
            f"{self.double_sends:>7} {self.stuck:>6} {self.counts_off:>6} {self.unanswered:>6} "
            f"{self.dlq_depth:>5} {self.lost_answers:>6} {self.unknown:>7} {self.faults:>6} "
            f"{self.seconds:>7.1f}"
        )


HEADER = (
    f"{'scenario':<10} {'faults':>5} {'lost':>6} {'twice':>6} {'2xsent':>7} {'stuck':>6} {'counts':>6} "
    f"{'unansw':>6} {'dlq':>5} {'lost?':>6} {'unknown':>7} {'faults':>6} {'seconds':>7}"
)


# ---------------------------------------------------------------------------------------------
# The stack under drill
# ---------------------------------------------------------------------------------------------


class Drill:
    """A local stack whose functions' AWS calls fail at ``rate`` while the faults are on."""

    def __init__(self, stack: LocalStack, workdir: Path) -> None:
        self.stack = stack
        self.workdir = workdir
        self.table = stack.resources["CouponflowTable"]
        self.dynamodb = stack.client("dynamodb")
        self.sqs = stack.client("sqs")
        self.unanswered: list[str] = []  # why each claimer who gave up did

    # -- HTTP as a merchant and as a storefront ----------------------------------------------------

    def call(self, method: str, path: str, body: Any = None, *, key: bool = True, headers: Any = None) -> Any:
        """``(status, answer)`` of one request to the stack's API."""
        status, answer, _ = self._request(method, path, body, key=key, headers=headers)
        return status, answer

    def _request(
        self, method: str, path: str, body: Any, *, key: bool, headers: Any
    ) -> tuple[int, Any, float | None]:
        """One request: its status, JSON answer and ``Retry-After`` (seconds, when given)."""
        request = urllib.request.Request(
            self.stack.api_url + path,
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={
                "Content-Type": "application/json",
                **({"Authorization": f"Bearer {self.stack.api_key}"} if key else {}),
                **(headers or {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read() or b"null"), None
        except urllib.error.HTTPError as error:
            retry_after = error.headers.get("Retry-After")
            return (
                error.code,
                json.loads(error.read() or b"null"),
                float(retry_after) if retry_after else None,
            )

    def ok(self, method: str, path: str, body: Any = None, expected: int = 200) -> Any:
        status, answer = self.call(method, path, body)
        if status != expected:
            raise AssertionError(f"{method} {path}: {status} {answer}")
        return answer

    def storefront_claim(
        self, campaign_id: str, email: str, *, idempotency_key: str | None, patience: float = 300.0
    ) -> str:
        """Claim as a storefront does: retry what the API could not answer (5xx, 409, 429, no
        answer) with backoff, honouring ``Retry-After``, for up to ``patience`` seconds; the final
        answer's status (``claimed``, ``out_of_coupons``), ``refused <status>``, or ``unanswered``."""
        path = f"/public/merchants/{self.stack.merchant_id}/campaigns/{campaign_id}/claims"
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        give_up = time.monotonic() + patience
        last: Any = None
        attempt = 0
        while time.monotonic() < give_up:
            attempt += 1
            try:
                status, answer, wait = self._request(
                    "POST", path, {"email": email}, key=False, headers=headers
                )
            except OSError as error:
                status, answer, wait = 599, str(error), None
            if status in (200, 201):
                return str(answer["status"])
            if status < 500 and status not in (409, 429):
                return f"refused {status}"
            last = (status, answer)
            backoff = min(2.0, 0.1 * 2 ** min(attempt, 5)) * random.random() + 0.05
            time.sleep(min(10.0, wait) if wait else backoff)
        self.unanswered.append(f"{email}: after {attempt} tries, last answer {last}")
        return "unanswered"

    # -- settling ---------------------------------------------------------------------------------

    def faults(self, on: bool) -> None:
        if self.stack.faults is not None:
            self.stack.set_faults(on)

    def tick_housekeeping(self) -> None:
        self.stack.invoke("HousekeepingFunction", {"source": "drill"})

    def queues(self) -> dict[str, str]:
        """Logical id -> URL of every queue."""
        return {
            lid: url
            for lid, url in self.stack.resources.items()
            if str(url).startswith("http") and "/" in url
        }

    def depth(self, url: str) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )

    def settle(self, timeout: float, done: Callable[[], bool] = lambda: True) -> bool:
        """Tick housekeeping until every working queue is empty and ``done()`` holds three polls in
        a row (True), or until nothing moves any more while a dead-letter queue holds records:
        that is for the operator's redrive (False); or ``timeout`` passes (False)."""
        deadline = time.monotonic() + timeout
        calm = still = 0
        last_tick = 0.0
        before: Any = None
        while time.monotonic() < deadline:
            if time.monotonic() - last_tick > 2.0:
                self.tick_housekeeping()
                last_tick = time.monotonic()
            busy = sum(self.depth(url) for lid, url in self.queues().items() if "DeadLetter" not in lid)
            finished = busy == 0 and done()
            calm = calm + 1 if finished else 0
            if calm >= 3:
                return True
            # only when just a dead-letter queue's records could be left is progress read (a scan)
            waiting = not finished and busy == 0 and self.dead_letters() > 0
            now = self._progress() if waiting else None
            still = still + 1 if waiting and now == before else 0
            if still >= STALL_POLLS:
                return False
            before = now
            time.sleep(1.0)
        return False

    def _progress(self) -> Counter[str]:
        """What moves while work goes on: items by type and status."""
        return Counter(f"{i.get('type')}:{i.get('status')}" for i in self.items())

    def dead_letters(self) -> int:
        return sum(self.depth(url) for lid, url in self.queues().items() if "DeadLetter" in lid)

    def redrive(self) -> int:
        """What the runbook tells an operator to do once the cause is gone: move every dead-letter
        queue's messages back to the queue that sent them there, and invoke a function again with
        each invocation record its on-failure destination holds; how many were redriven."""
        sources: dict[str, str] = {}  # dead-letter queue name -> its source queue's URL
        for url in self.queues().values():
            raw = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])
            policy = raw.get("Attributes", {}).get("RedrivePolicy")
            if policy:
                sources[json.loads(policy)["deadLetterTargetArn"].rsplit(":", 1)[-1]] = url
        moved = 0
        for lid, url in self.queues().items():
            if "DeadLetter" not in lid:
                continue
            while got := self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
                for message in got:
                    self._redrive_one(message["Body"], sources.get(url.rsplit("/", 1)[-1]))
                    self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                    moved += 1
        return moved

    def _redrive_one(self, body: str, source_url: str | None) -> None:
        try:
            record = json.loads(body)
        except ValueError:
            record = None
        if isinstance(record, dict) and "requestPayload" in record and "requestContext" in record:
            name = str(record["requestContext"]["functionArn"]).split(":function:")[1].split(":")[0]
            self.stack.invoke(name, record["requestPayload"])
        elif source_url is not None:
            self.sqs.send_message(QueueUrl=source_url, MessageBody=body)

    # -- reading what happened ----------------------------------------------------------------------

    def items(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        pages = self.dynamodb.get_paginator("scan").paginate(TableName=self.table)
        for page in pages:
            found.extend(deserialize(raw) for raw in page["Items"])
        return found

    def sends_by_message(self) -> Counter[str]:
        """How many times the local SES accepted each of our messages (by its ``message`` tag)."""
        assert self.stack.simulator is not None
        return Counter(self.stack.simulator.accepted_by_tag)


@contextmanager
def drill_stack(
    rate: float, *, seed: int = 7, workdir: Path | None = None, kinds: frozenset[str] = frozenset()
) -> Iterator[Drill]:
    """A fresh in-process local stack with faults ready at ``rate`` (off until a drill turns them on);
    ``kinds``: only these faults (empty: every kind)."""
    base = Path(workdir or tempfile.mkdtemp(prefix="couponflow-drill-"))
    base.mkdir(parents=True, exist_ok=True)
    plan = faults_module.FaultPlan(
        rate=rate,
        seed=seed,
        kinds=kinds or frozenset(faults_module.KINDS),
        log_path=str(base / "faults.jsonl"),
        switch_path=str(base / "faults.on"),
    )
    with LocalStack(
        ROOT / "template.yaml",
        retry_delay=0.2,
        log_dir=base / "logs",
        log_stream=None,
        stack_name=f"drill{random.randrange(10**6)}",
        faults=plan if rate > 0 else None,
        environment=DRILL_ENVIRONMENT,
    ) as stack:
        # moto's state is per process: resetting it on stop would wipe whatever else this process
        # keeps in moto (a test session's resources); the drill's names are its own anyway
        assert stack.moto is not None
        stack.moto.reset = lambda: None  # type: ignore[method-assign]
        yield Drill(stack, base)


# ---------------------------------------------------------------------------------------------
# The checks
# ---------------------------------------------------------------------------------------------


@dataclass
class _State:
    """What the checks read, per campaign."""

    registry: dict[str, set[str]]
    named: dict[str, dict[str, tuple[str, str | None]]]  # code -> (registry state, holder named)
    pool: dict[str, Counter[str]]
    pool_counts: Counter[str]
    held: dict[str, Counter[str]]
    held_by: dict[str, dict[str, str]]  # code -> the customer whose claim holds it
    holders: Counter[tuple[str, str]]
    statuses: dict[str, Counter[str]]
    counters: dict[str, Counter[str]]
    empty_marks: dict[str, set[int]]  # pool shards each campaign's claims skip as empty
    pool_shards: dict[str, Counter[int]]  # codes in each pool shard


def check(drill: Drill, findings: Findings, campaign_ids: set[str]) -> None:
    """Fill ``findings`` from the stored state (see the module docstring)."""
    state = _read_state(drill, findings, campaign_ids)
    for c in campaign_ids:
        _check_codes(state, findings, c)
    twice = [key for key, n in state.holders.items() if n > 1]
    findings.codes_twice += len(twice)
    findings.notes.extend(f"customer {cus} holds {state.holders[(c, cus)]} codes of {c}" for c, cus in twice)
    for message_id, times in drill.sends_by_message().items():
        if times > 1:
            findings.double_sends += times - 1
            findings.notes.append(f"message {message_id} was handed to SES {times} times")
    findings.faults = len(faults_module.read_log(drill.workdir / "faults.jsonl"))


def _read_state(drill: Drill, findings: Findings, campaign_ids: set[str]) -> _State:
    items = drill.items()
    registry: dict[str, set[str]] = {c: set() for c in campaign_ids}
    named: dict[str, dict[str, tuple[str, str | None]]] = {c: {} for c in campaign_ids}
    pool: dict[str, Counter[str]] = {c: Counter() for c in campaign_ids}
    pool_counts: Counter[str] = Counter()
    held: dict[str, Counter[str]] = {c: Counter() for c in campaign_ids}
    held_by: dict[str, dict[str, str]] = {c: {} for c in campaign_ids}
    holders: Counter[tuple[str, str]] = Counter()
    statuses: dict[str, Counter[str]] = {c: Counter() for c in campaign_ids}
    counters: dict[str, Counter[str]] = {c: Counter() for c in campaign_ids}
    empty_marks: dict[str, set[int]] = {c: set() for c in campaign_ids}
    pool_shards: dict[str, Counter[int]] = {c: Counter() for c in campaign_ids}
    for item in items:
        pk, sk = str(item["pk"]), str(item["sk"])
        campaign = next((c for c in campaign_ids if f"#CAMPAIGN#{c}#" in pk + "#"), None)
        if campaign and "#CODE#" in pk and sk == "CODE":
            registry[campaign].add(pk.rsplit("#CODE#", 1)[1])
            named[campaign][pk.rsplit("#CODE#", 1)[1]] = (str(item.get("state")), item.get("customer_id"))
        elif campaign and "#POOL#" in pk and sk.startswith("CODE#"):
            pool[campaign][sk.removeprefix("CODE#")] += 1
            pool_shards[campaign][int(pk.rsplit("#POOL#", 1)[1])] += 1
        elif campaign and sk == "CAMPAIGN":
            empty_marks[campaign] = {int(x) for x in item.get("empty_shards") or ()}
        elif campaign and "#POOLCOUNT#" in pk:
            pool_counts[campaign] += int(item.get("available", item.get("count", 0)))
        elif campaign and "#STATS#" in pk:
            for name, value in item.items():
                if name not in ("pk", "sk") and isinstance(value, int):
                    counters[campaign][name] += value
        elif sk.startswith("CLAIM#") and item.get("campaign_id") in campaign_ids:
            if item.get("status") in HOLDING and item.get("code"):
                held[item["campaign_id"]][item["code"]] += 1
                held_by[item["campaign_id"]][item["code"]] = item["customer_id"]
                holders[(item["campaign_id"], item["customer_id"])] += 1
        elif sk.startswith("MESSAGE#") and item.get("campaign_id") in campaign_ids:
            status = str(item.get("status", "queued"))
            if status in IN_FLIGHT:
                findings.stuck += 1
                findings.notes.append(f"message {item['message_id']} still {status} {_why(item)}")
            if status == "unknown":
                findings.unknown += 1
            if item.get("handoff") == "unknown":
                findings.lost_answers += 1
            if item.get("channel", "email") == "email" and status != "queued":
                statuses[item["campaign_id"]][status] += 1
        elif sk == "SEND" and item.get("status") in ("scheduled", "sending"):
            findings.stuck += 1
            findings.notes.append(f"send {item['send_id']} still {item['status']}")
    return _State(
        registry,
        named,
        pool,
        pool_counts,
        held,
        held_by,
        holders,
        statuses,
        counters,
        empty_marks,
        pool_shards,
    )


def _check_registry(state: _State, findings: Findings, c: str) -> None:
    """Each code's registry item says where it is: available while in the pool, else naming the
    customer whose claim holds it (redemptions and returns find the holder there)."""
    for code, (registry_state, named) in state.named[c].items():
        holder = state.held_by[c].get(code)
        if holder is not None:
            right = registry_state in ("assigned", "redeemed") and named == holder
        else:
            right = registry_state == "available" or code not in state.pool[c]
        if not right:
            findings.counts_off += 1
            findings.notes.append(
                f"code {code}: the registry says {registry_state} for {named}, held by {holder}"
            )


def _check_codes(state: _State, findings: Findings, c: str) -> None:
    registry, pool, held = state.registry, state.pool, state.held
    for code in registry[c] | set(pool[c]) | set(held[c]):
        where = pool[c][code] + held[c][code]
        if where == 0:
            findings.codes_lost += 1
            findings.notes.append(f"code {code} is neither in the pool nor held")
        elif where > 1 or code not in registry[c]:
            findings.codes_twice += 1
            findings.notes.append(f"code {code}: {pool[c][code]} in the pool, {held[c][code]} held")
    _check_registry(state, findings, c)
    hidden = sum(n for shard, n in state.pool_shards[c].items() if shard in state.empty_marks[c])
    if hidden:  # in the pool, but behind a mark that makes every claim skip its shard
        findings.codes_lost += hidden
        findings.notes.append(f"{hidden} codes of {c} are in pool shards marked empty: no claim gets them")
    in_pool = sum(pool[c].values())
    if state.pool_counts[c] != in_pool:
        findings.counts_off += 1
        findings.notes.append(f"pool counters say {state.pool_counts[c]}, the pool has {in_pool}")
    shown = {k: v for k, v in state.counters[c].items() if v}
    if shown != dict(state.statuses[c]):
        findings.counts_off += 1
        findings.notes.append(f"campaign counters {shown} != message statuses {dict(state.statuses[c])}")


def _why(item: dict[str, Any]) -> str:
    return json.dumps(
        {k: item.get(k) for k in ("handoff", "lease_until", "ses_message_id", "status_at") if k in item}
    )


def _operator_part(drill: Drill, findings: Findings, timeout: float, done: Callable[[], bool]) -> None:
    drill.settle(timeout, done)
    drill.faults(False)
    findings.dlq_depth = drill.dead_letters()
    if findings.dlq_depth:
        drill.redrive()
    drill.settle(timeout, done)


# ---------------------------------------------------------------------------------------------
# Scenarios
# ---------------------------------------------------------------------------------------------


def drill_claims(drill: Drill, rate: float, *, claimers: int = 300, codes: int = 200) -> Findings:
    """``claimers`` storefront customers claim at once from a pool of ``codes`` codes."""
    findings = Findings("claims", rate)
    started = time.monotonic()
    campaign = drill.ok(
        "POST",
        "/campaigns",
        {"name": "Flash sale", "codes": [f"FLASH-{i:04d}" for i in range(codes)]},
        expected=201,
    )["campaign_id"]
    mailboxes = ["success"] * 8 + ["bounce", "suppressionlist"]
    emails = [f"{mailboxes[i % len(mailboxes)]}+c{i}@{SIM}" for i in range(claimers)]
    drill.faults(True)
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(
            pool.map(
                lambda pair: drill.storefront_claim(
                    campaign, pair[1], idempotency_key=f"key-{pair[0]}" if pair[0] % 2 else None
                ),
                enumerate(emails),
            )
        )
    tally = Counter(answers)
    findings.unanswered = tally["unanswered"] + sum(n for a, n in tally.items() if a.startswith("refused"))
    # (more than ``codes`` may be told "claimed": a bounced or dropped email's code is released
    # to the pool and claimed again; the checks below count codes, not answers)
    findings.notes.append(f"answers: {dict(tally)}")
    findings.notes.extend(drill.unanswered)
    _operator_part(drill, findings, 240, lambda: not _in_flight(drill))
    check(drill, findings, {campaign})
    findings.seconds = time.monotonic() - started
    return findings


def _in_flight(drill: Drill) -> bool:
    return any(
        str(i["sk"]).startswith("MESSAGE#") and i.get("status", "queued") in IN_FLIGHT for i in drill.items()
    )


def drill_send(drill: Drill, rate: float, *, recipients: int = 300) -> Findings:
    """A segment send to ``recipients`` customers (a few bounce, a few are dropped by SES), fired
    by the scheduler with faults on, followed to ``done``."""
    findings = Findings("send", rate)
    started = time.monotonic()
    recent = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    mailboxes = ["success"] * 18 + ["bounce", "suppressionlist"]
    emails = [f"{mailboxes[i % len(mailboxes)]}+s{i}@{SIM}" for i in range(recipients)]
    for start in range(0, recipients, 500):
        drill.ok(
            "POST",
            "/customers/import",
            {"customers": [{"email": e, "last_interaction_at": recent} for e in emails[start : start + 500]]},
        )
    segment = drill.ok("POST", "/segments", {"name": "Drill"}, expected=201)["segment_id"]
    drill.ok("POST", f"/segments/{segment}/members", {"customers": emails})
    campaign = drill.ok("POST", "/campaigns", {"name": "Drill send"}, expected=201)["campaign_id"]
    for start in range(0, recipients + 20, 500):
        batch = [f"SEND-{i:05d}" for i in range(start, min(start + 500, recipients + 20))]
        drill.ok("POST", f"/campaigns/{campaign}/codes", {"codes": batch})
    send_at = (datetime.now(UTC) + timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    send = drill.ok(
        "POST",
        "/sends",
        {"segment_id": segment, "campaign_id": campaign, "send_at": send_at.isoformat()},
        201,
    )["send_id"]
    drill.faults(True)
    drill.stack.clock.offset = (send_at - datetime.now(UTC)).total_seconds() + 1

    def done() -> bool:
        sent = [i for i in drill.items() if i.get("sk") == "SEND" and i.get("send_id") == send]
        return (
            bool(sent) and sent[0].get("status") in ("done", "failed", "canceled") and not _in_flight(drill)
        )

    _operator_part(drill, findings, 300, done)
    check(drill, findings, {campaign})
    [stored] = [i for i in drill.items() if i.get("sk") == "SEND" and i.get("send_id") == send]
    counted = int(stored.get("count_sent", 0)) + int(stored.get("count_failed", 0))
    findings.notes.append(
        f"send {stored.get('status')}: {stored.get('count_sent')} sent, "
        f"{stored.get('count_failed')} not sent {stored.get('failed_by_reason')}"
    )
    if stored.get("status") != "done" or counted != recipients:
        findings.counts_off += 1
        findings.notes.append(f"the send's counts add up to {counted}, not {recipients}")
    findings.seconds = time.monotonic() - started
    return findings


# Extra events the SES-events drill publishes for a message, by mailbox, on top of what the local
# SES publishes itself (Delivery, Bounce, Complaint): every event type, some twice.
EXTRA_EVENTS = {
    "success": ("DeliveryDelay", "Open", "Click", "Open"),
    "ooto": ("Send", "DeliveryDelay"),
    "complaint": ("Open",),
    "bounce": ("DeliveryDelay",),
    "reject": ("Reject",),
    "render": ("Rendering Failure",),
}
EXPECTED = {
    "success": "clicked",
    "ooto": "delivered",
    "complaint": "complained",
    "bounce": "bounced",
    "suppressionlist": "dropped",
    "reject": "failed",
    "render": "failed",
}


def drill_ses_events(drill: Drill, rate: float, *, messages: int = 200) -> Findings:
    """``messages`` coupon emails to the simulator's mailboxes, then SES events of every type (and
    duplicates) for each while the SES-events function is faulted; every message must end in the
    status its events imply, its counters must match, and nothing may be handed to SES twice."""
    findings = Findings("ses-events", rate)
    started = time.monotonic()
    # campaigns of at most 50 messages: the reputation guard (which pauses a campaign bouncing
    # over 2% once it has 100 messages) stays out of a drill about events
    campaigns = [
        drill.ok(
            "POST", "/campaigns", {"name": f"Events {n}", "codes": [f"EV{n}-{i:03d}" for i in range(50)]}, 201
        )["campaign_id"]
        for n in range((messages + 49) // 50)
    ]
    kinds = list(EXPECTED)
    # reject and render are delivered by the local SES (success@) before their extra event
    mailbox = {"reject": "success+r-", "render": "success+x-"}
    emails = {
        f"{mailbox.get(kind, kind + '+')}e{i}@{SIM}": kind
        for i, kind in ((i, kinds[i % len(kinds)]) for i in range(messages))
    }
    for i, email in enumerate(emails):
        if drill.storefront_claim(campaigns[i // 50], email, idempotency_key=None) != "claimed":
            findings.unanswered += 1
    drill.settle(120, lambda: not _in_flight(drill))
    drill.faults(True)
    assert drill.stack.simulator is not None
    simulator = drill.stack.simulator
    for message in list(simulator.messages.values()):
        kind = emails.get(message.destination[0].lower())
        for event_type in EXTRA_EVENTS.get(kind or "", ()):
            simulator.emit(message.message_id, event_type)
        if kind in ("bounce", "complaint"):
            simulator.replay(message.message_id)  # SNS delivers at least once: a duplicate
    _operator_part(drill, findings, 240, lambda: not _in_flight(drill))
    check(drill, findings, set(campaigns))
    by_recipient = {
        str(i.get("recipient")): str(i.get("status"))
        for i in drill.items()
        if str(i["sk"]).startswith("MESSAGE#") and i.get("campaign_id") in campaigns
    }
    for recipient, status in by_recipient.items():
        kind = emails.get(recipient, "")
        if status != EXPECTED.get(kind) and status != "unknown":
            findings.counts_off += 1
            findings.notes.append(f"{recipient}: {status}, its events say {EXPECTED.get(kind)}")
    findings.seconds = time.monotonic() - started
    return findings


SCENARIOS: dict[str, Callable[..., Findings]] = {
    "claims": drill_claims,
    "send": drill_send,
    "ses-events": drill_ses_events,
}


def run(
    scenario: str, rate: float, *, seed: int = 7, kinds: frozenset[str] = frozenset(), **size: int
) -> Findings:
    with drill_stack(rate, seed=seed, kinds=kinds) as drill:
        return SCENARIOS[scenario](drill, rate, **size)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_stack.drill", description=__doc__.split("\n")[0])
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS), help="default: all")
    parser.add_argument("--rate", action="append", type=float, help="fault rates (default: 0 and 0.1)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--kinds", help=f"only these faults (comma-separated: {','.join(faults_module.KINDS)})"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="print every finding's notes")
    args = parser.parse_args(argv)
    kinds = faults_module.parse_selection(args.kinds, faults_module.KINDS)
    print(HEADER, flush=True)
    clean = True
    for scenario in args.scenario or list(SCENARIOS):
        for rate in args.rate or [0.0, 0.1]:
            findings = run(scenario, rate, seed=args.seed, kinds=kinds)
            clean = clean and findings.clean
            print(findings.row(), flush=True)
            for note in findings.notes if (args.verbose or not findings.clean) else findings.notes[:1]:
                print(f"    {note}", flush=True)
    return 0 if clean else 1


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["SCENARIOS", "Drill", "Findings", "drill_stack", "run"]
