"""Fan-out benchmark: one segment send to N recipients (10,000 by default) on the local stack.

Prints (never asserts): wall time from the schedule firing to the send being ``done``; AWS API
calls per 1,000 recipients by service (counted at the local moto server, so every function,
poller, the SES simulator's event publishing and the scheduler are included); Lambda
invocations and GB-seconds (local durations: an upper bound of Lambda's); and a cost model in
dollars per million recipients at AWS's public us-east-1 prices, beside SES's own $0.10 per
1,000 emails. Target: everything but SES adds at most 15% to SES's cost.
"""

from __future__ import annotations

import io
import json
import os
import threading
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
from couponflow.adapters import dynamodb
from couponflow.adapters.dynamodb import deserialize
from couponflow.services.housekeeping.finish_sends import PAGES_PER_RUN, READ_BATCH
from couponflow.services.housekeeping.stale_messages import FlagStaleMessages
from couponflow.services.send_delivery import CHUNK_SIZE
from couponflow.store.keys import RECIPIENT_SHARDS
from local_stack import LocalStack, moto_patches

from bench.dynamodb_units import WRITES, UnitPricer, read_units

ROOT = Path(__file__).resolve().parent.parent
BENCH_KEY = "benchreader"  # requests signed with this key are the bench's own reads: not counted

# Public prices, us-east-1 (USD).
SES_PER_EMAIL = 0.10 / 1000
LAMBDA_PER_REQUEST = 0.20 / 1e6
LAMBDA_PER_GB_SECOND_ARM = 0.0000133334
# Lambda gives a function one vCPU at 1,769 MB and a share in proportion below it
FULL_VCPU_MB = 1769
SQS_PER_REQUEST = 0.40 / 1e6  # standard queue, each 64 KB chunk of a request
SNS_PER_PUBLISH = 0.50 / 1e6
DYNAMODB_PER_WRU = 0.625 / 1e6  # on-demand
DYNAMODB_PER_RRU = 0.125 / 1e6
S3_PER_PUT = 0.005 / 1000
S3_PER_GET = 0.0004 / 1000
SCHEDULER_PER_INVOCATION = 1.00 / 1e6


class ApiMeter:
    """WSGI wrapper around moto: counts requests by service and operation, and DynamoDB units.

    DynamoDB units are priced from the items each request really touched (``bench/dynamodb_units``):
    item sizes, transactions at twice the units, and the writes of every index the item is in.
    """

    def __init__(self, app: Any, region: str) -> None:
        self.app = app
        self.pricer = UnitPricer(region)
        self.calls: Counter[tuple[str, str]] = Counter()
        self.write_units = 0.0
        self.read_units = 0.0
        # by (operation, kind of item written: its sort key's first part), and of those by kind
        # the units its indexes took
        self.write_units_by_write: Counter[tuple[str, str]] = Counter()
        self.index_units_by_item: Counter[str] = Counter()
        # by (operation, what it read: the index or table and the kind of item, consistent or not)
        self.read_units_by_read: defaultdict[tuple[str, str], float] = defaultdict(float)
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if f"Credential={BENCH_KEY}/" in environ.get("HTTP_AUTHORIZATION", ""):
            return self.app(environ, start_response)  # type: ignore[no-any-return]
        service, operation, body = self._classify(environ)
        written = self._before(operation, body) if service == "dynamodb" else []
        result = b"".join(self.app(environ, start_response))
        if service == "scheduler" and environ.get("REQUEST_METHOD") == "GET":
            return [result]  # the local scheduler loop's listing: AWS bills invocations, not this
        if operation == "ReceiveMessage" and b"ReceiptHandle" not in result:
            return [result]  # an empty poll: a fixed cost per queue (long polling), not per recipient
        with self._lock:
            self.calls[(service, operation)] += 1
        if service == "dynamodb":
            self._price(operation, body, written, result)
        return [result]

    def _before(self, operation: str, body: dict[str, Any]) -> list[tuple[str, dict[str, Any], int, Any]]:
        if operation not in WRITES:
            return []
        try:
            touched = self.pricer.keys_written(operation, body)
        except KeyError:
            return []  # a malformed request: moto refuses it
        return [(table, key, times, self.pricer.read(table, key)) for table, key, times in touched]

    def _price(
        self,
        operation: str,
        body: dict[str, Any],
        written: list[tuple[str, dict[str, Any], int, Any]],
        result: bytes,
    ) -> None:
        if operation in WRITES:
            for table, key, times, before in written:
                after = self.pricer.read(table, key)
                table_units, index_units = self.pricer.write_units(table, before, after, times)
                kind = str(key.get("sk", {}).get("S", key.get("pk", {}).get("S", "?"))).split("#", 1)[0]
                with self._lock:
                    self.write_units += table_units + index_units
                    self.write_units_by_write[(operation, kind)] += table_units + index_units
                    self.index_units_by_item[kind] += index_units
            return
        try:
            answer = json.loads(result or b"{}")
        except ValueError:
            return
        units = read_units(operation, body, answer)
        with self._lock:
            self.read_units += units
            self.read_units_by_read[(operation, _what_was_read(operation, body, answer))] += units

    def _classify(self, environ: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
        auth = environ.get("HTTP_AUTHORIZATION", "")
        service = auth.split("Credential=", 1)[1].split("/")[3] if "Credential=" in auth else "other"
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        body: dict[str, Any] = {}
        if service == "dynamodb":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(length)
            environ["wsgi.input"] = _Replay(raw)
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {}
        operation = (
            target.rsplit(".", 1)[-1]
            if target
            else f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO', '')[:40]}"
        )
        if service == "ses" and environ.get("PATH_INFO", "").startswith("/v2/"):
            operation = environ["PATH_INFO"].removeprefix("/v2/email/")  # e.g. outbound-bulk-emails
        elif service in ("ses", "sns") and not target:
            operation = "request"
        return service, operation, body

    def count_publishes_of(self, simulator: Any) -> None:
        """Count the SES simulator's SNS publishes of SES's events: they reach moto's SNS without
        HTTP (``moto_server.publish_to_topic``), so this WSGI wrapper never sees them, and on AWS
        each is a billed ``Publish``."""
        publish = simulator.publish

        def counted(topic_arn: str, message: str) -> None:
            publish(topic_arn, message)
            with self._lock:
                self.calls[("sns", "Publish")] += 1

        simulator.publish = counted

    def by_service(self) -> Counter[str]:
        totals: Counter[str] = Counter()
        for (service, _), n in self.calls.items():
            totals[service] += n
        return totals

    def write_units_by_item(self) -> Counter[str]:
        """Write units by the kind of item written, whatever the operation."""
        by_item: Counter[str] = Counter()
        for (_, kind), units in self.write_units_by_write.items():
            by_item[kind] += units
        return by_item

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.write_units = self.read_units = 0.0
            self.write_units_by_write.clear()
            self.index_units_by_item.clear()
            self.read_units_by_read.clear()


class _Replay:
    def __init__(self, raw: bytes) -> None:
        self._io = io.BytesIO(raw)

    def read(self, *args: Any) -> bytes:
        return self._io.read(*args)

    def readline(self, *args: Any) -> bytes:
        return self._io.readline(*args)


class LambdaMeter:
    """Counts invocations and GB-seconds per function by wrapping each worker pool's invoke."""

    def __init__(self, stack: LocalStack) -> None:
        self.invocations: Counter[str] = Counter()
        self.gb_seconds: Counter[str] = Counter()
        self.seconds: Counter[str] = Counter()
        self._pools = stack.pools
        self.memory_mb = {lid: pool.spec.memory_mb for lid, pool in stack.pools.items()}
        self._cpu_at_reset: dict[int, float] = {}
        self.cpu: defaultdict[str, float] = defaultdict(float)  # set by ``stop``
        for lid, pool in stack.pools.items():
            self._wrap(lid, pool)

    def _wrap(self, lid: str, pool: Any) -> None:
        original = pool.invoke
        memory_gb = pool.spec.memory_mb / 1024

        def invoke(event: Any, on_done: Any = None) -> Any:
            result = original(event, on_done)
            self.invocations[lid] += 1
            self.gb_seconds[lid] += max(result.duration_ms, 1.0) / 1000 * memory_gb
            self.seconds[lid] += max(result.duration_ms, 1.0) / 1000
            return result

        pool.invoke = invoke

    def reset(self) -> None:
        self.invocations.clear()
        self.gb_seconds.clear()
        self.seconds.clear()
        self._cpu_at_reset = {pid: cpu for _, pid, cpu in self._worker_cpu()}

    def stop(self) -> None:
        """Take the CPU seconds each function's worker processes used since ``reset`` (on a full
        core of this machine; Lambda gives a function ``memory / 1769 MB`` of a vCPU), before the
        stack and its workers stop."""
        self.cpu = self.cpu_seconds()

    def cpu_seconds(self) -> defaultdict[str, float]:
        used: defaultdict[str, float] = defaultdict(float)
        for lid, pid, cpu in self._worker_cpu():
            used[lid] += cpu - self._cpu_at_reset.get(pid, 0.0)
        return used

    def _worker_cpu(self) -> list[tuple[str, int, float]]:
        found = []
        for lid, pool in self._pools.items():
            for pid in pool.process_ids():
                try:
                    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                except (OSError, IndexError):
                    continue
                found.append((lid, pid, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")))
        return found


def api_call(stack: LocalStack, method: str, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(
        stack.api_url + path,
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {stack.api_key}"},
    )
    for attempt in range(4):  # setup calls are idempotent; a loaded machine can time a function out
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            if error.code < 500 or attempt == 3:
                raise RuntimeError(f"{method} {path}: {error.code} {error.read()[:300]!r}") from error
    return None


def import_csv(stack: LocalStack, path: str, body: Any, csv: str) -> None:
    """Load codes or customers as a merchant with thousands would: the async CSV import."""
    job = api_call(stack, "POST", path, body)
    upload = urllib.request.Request(
        job["upload"]["url"], data=csv.encode(), method="PUT", headers=job["upload"]["headers"]
    )
    with urllib.request.urlopen(upload, timeout=120):
        pass
    job_id = job.get("job_id") or job["import_id"]
    while (state := api_call(stack, "GET", f"{path}/{job_id}"))["state"] not in ("done", "failed"):
        time.sleep(1)
    if state["state"] != "done":
        raise RuntimeError(f"{path}: the import failed: {state}")


def unmetered_dynamodb(stack: LocalStack) -> Any:
    """A DynamoDB client for the bench's own reads, which the meter leaves out (``BENCH_KEY``)."""
    return boto3.client(
        "dynamodb",
        endpoint_url=stack.moto_url,
        region_name=stack.region,
        aws_access_key_id=BENCH_KEY,
        aws_secret_access_key="bench",
    )


@contextmanager
def ses_send_rate(rate: float | None) -> Iterator[None]:
    """The account's SES MaxSendRate the local SES answers while inside (None: SES's default for an
    account out of the sandbox, 14/s), as it was after: one part's rate never leaks into the next."""
    before = moto_patches.SEND_QUOTA["MaxSendRate"]
    if rate is not None:
        moto_patches.SEND_QUOTA["MaxSendRate"] = rate
    try:
        yield
    finally:
        moto_patches.SEND_QUOTA["MaxSendRate"] = before


def bench_sends(recipients: int, send_rate: float | None = None) -> None:
    """``send_rate``: the account's SES MaxSendRate the local SES answers (default: SES's 14/s)."""
    with ses_send_rate(send_rate):
        _bench_sends(recipients)


def _bench_sends(recipients: int) -> None:
    # DynamoDB in this process's moto: the meters read its requests and tables here
    with LocalStack(
        ROOT / "template.yaml", retry_delay=0.2, log_stream=None, dynamodb_process=False
    ) as stack:
        assert stack.moto is not None
        meter = ApiMeter(stack.moto.middleware.app, stack.region)
        stack.moto.middleware.app = meter
        meter.count_publishes_of(stack.simulator)
        lambdas = LambdaMeter(stack)

        campaign = api_call(stack, "POST", "/campaigns", {"name": "Bench send"})["campaign_id"]
        codes = "\n".join(f"BS-{i:07d}" for i in range(recipients))
        import_csv(stack, f"/campaigns/{campaign}/code-imports", None, codes)
        segment = api_call(
            stack, "POST", "/segments", {"name": "Bench segment", "rule": {"active_within_days": 30}}
        )
        recent = (datetime.now(UTC) - timedelta(days=1)).isoformat()
        people = (f"success+b{i}@simulator.amazonses.com,{recent}" for i in range(recipients))
        import_csv(
            stack, "/customers/imports", {"format": "csv"}, "email,last_interaction_at\n" + "\n".join(people)
        )
        send_at = (datetime.now(UTC) + timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
        send = api_call(
            stack,
            "POST",
            "/sends",
            {"segment_id": segment["segment_id"], "campaign_id": campaign, "send_at": send_at.isoformat()},
        )
        reader = unmetered_dynamodb(stack)
        table_name = stack.resources["CouponflowTable"]

        def read_send(send_id: str) -> dict[str, Any]:
            key = {"pk": {"S": f"M#{stack.merchant_id}#SEND#{send_id}"}, "sk": {"S": "SEND"}}
            return deserialize(reader.get_item(TableName=table_name, Key=key)["Item"])

        meter.reset()
        lambdas.reset()
        stack.clock.offset = (send_at - datetime.now(UTC)).total_seconds() + 1
        started = time.monotonic()
        fanned_out = None
        while True:
            # housekeeping finishes the send; it runs at the template's rate (every 5 minutes), as in
            # production, so the send is charged the runs it would be charged there
            state = read_send(send["send_id"])
            done_chunks = int(state.get("chunks_done", 0)) >= int(state.get("chunks_total", 1))
            if state.get("fanned_out_at") and done_chunks:
                fanned_out = fanned_out or time.monotonic() - started
            if state["status"] in ("done", "failed"):
                break
            time.sleep(1)
        elapsed = time.monotonic() - started
        lambdas.stop()
        swept = _stale_sweep_later(stack, table_name, meter)
    _report(recipients, state, elapsed, fanned_out or elapsed, meter, lambdas, swept)


def _what_was_read(operation: str, request: dict[str, Any], answer: dict[str, Any]) -> str:
    """The index (or the table) and the kind of item a read answered (its sort key's first part),
    and how: ``EC`` eventually consistent, ``SC`` strongly."""
    if operation == "BatchGetItem":
        tables = request.get("RequestItems", {})
        first: dict[str, Any] = next(iter(tables.values()), {})
        keys_ = first.get("Keys") or [{}]
        how = "SC" if first.get("ConsistentRead") else "EC"
        return f"{_kind(keys_[0])} {how}"
    how = "SC" if request.get("ConsistentRead") else "EC"
    items = answer.get("Items") or ([answer["Item"]] if answer.get("Item") else [])
    where = f"{request['IndexName']}:" if request.get("IndexName") else ""
    return f"{where}{_kind(items[0]) if items else '-'} {how}"


def _kind(item: dict[str, Any]) -> str:
    sk = item.get("sk", {}).get("S") or item.get("pk", {}).get("S") or "?"
    return str(sk).split("#", 1)[0]


def _stale_sweep_later(stack: LocalStack, table_name: str, meter: ApiMeter) -> tuple[float, float]:
    """The one cost of the send that comes later: housekeeping's stale-message sweep reads once,
    72 hours after its hand-off, each email its send's finish found still in flight and put on the
    awaiting index (``housekeeping/stale_messages.py``).
    Run here, as housekeeping would run it then, through the meter; its (WRU, RRU)."""
    env = {"AWS_ENDPOINT_URL": stack.moto_url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "x"}
    writes, reads = meter.write_units, meter.read_units
    with mock.patch.dict(os.environ, {**env, "AWS_DEFAULT_REGION": stack.region}):
        dynamodb.client.cache_clear()
        try:
            FlagStaleMessages(dynamodb.Table(table_name))(datetime.now(UTC) + timedelta(hours=73))
        finally:
            dynamodb.client.cache_clear()
    return meter.write_units - writes, meter.read_units - reads


def _report(
    n: int,
    state: dict[str, Any],
    elapsed: float,
    fanned_out: float,
    meter: ApiMeter,
    lambdas: LambdaMeter,
    swept: tuple[float, float],
) -> None:
    print(
        f"segment send of {n} recipients on the local stack: {state['status']}, "
        f"sent {state.get('count_sent')}, failed {state.get('count_failed')}"
    )
    print(
        f"  wall time: fan-out done in {fanned_out:.1f} s, send done in {elapsed:.1f} s "
        f"({n / elapsed:.0f} recipients/s; SES MaxSendRate {moto_patches.SEND_QUOTA['MaxSendRate']:g}/s)"
    )
    invocations, gb_s = print_usage(n, "recipients", meter, lambdas)
    print(
        f"    of which the stale-message sweep 72 hours on (each email in flight at the finish read once): "
        f"{swept[0] / n:.2f} WRU, {swept[1] / n:.2f} RRU"
    )
    calls = meter.by_service()
    sqs = calls["sqs"] * SQS_PER_REQUEST
    sns = calls["sns"] * SNS_PER_PUBLISH
    ddb = meter.write_units * DYNAMODB_PER_WRU + meter.read_units * DYNAMODB_PER_RRU
    lam = invocations * LAMBDA_PER_REQUEST + gb_s * LAMBDA_PER_GB_SECOND_ARM
    s3 = calls["s3"] * S3_PER_PUT
    sched = SCHEDULER_PER_INVOCATION
    ses = n * SES_PER_EMAIL
    million = 1e6 / n
    rest = (sqs + sns + ddb + lam + s3 + sched) * million
    print("  cost per million recipients (USD, us-east-1 public prices):")
    for name, dollars in (
        ("SQS", sqs),
        ("SNS (SES events)", sns),
        ("DynamoDB on-demand", ddb),
        ("Lambda", lam),
        ("S3 + Scheduler", s3 + sched),
    ):
        print(f"    {name:20} ${dollars * million:8.2f}")
    print(
        f"    {'everything but SES':20} ${rest:8.2f}  vs SES ${ses * million:.2f}: "
        f"+{100 * rest / (ses * million):.1f}% (target at most 10% at 10,000 recipients)"
    )
    _project_a_million(n, meter, lambdas)


def print_usage(n: int, unit: str, meter: ApiMeter, lambdas: LambdaMeter) -> tuple[int, float]:
    """AWS calls by service, Lambda invocations and GB-seconds, and DynamoDB units with their
    breakdowns, per 1,000 (or per one) of ``n`` ``unit``s; the invocations and GB-seconds."""
    per_k = 1000 / n
    one = unit.removesuffix("s")
    print(f"  AWS API calls per 1,000 {unit}, by service:")
    for service, count in sorted(meter.by_service().items(), key=lambda kv: -kv[1]):
        ops = ", ".join(f"{op} {c * per_k:.0f}" for (s, op), c in meter.calls.most_common() if s == service)
        print(f"    {service:9} {count * per_k:8.0f}  ({ops})")
    invocations = sum(lambdas.invocations.values())
    # Billed time, bounded above: the local duration (its waits on moto, slower than AWS's, and
    # its CPU time on a full core of this machine), plus that CPU time stretched to the share of
    # a vCPU the function's memory buys (1/3.5 of one at 512 MB): GB-s grow by CPU s times
    # (1,769 MB - memory) / 1,024 (``FULL_VCPU_MB``)
    stretched = {
        k: lambdas.cpu[k] * max(0, FULL_VCPU_MB - lambdas.memory_mb[k]) / 1024 for k in lambdas.invocations
    }
    gb_s = sum(lambdas.gb_seconds.values()) + sum(stretched.values())
    print(
        f"  Lambda: {invocations} invocations ({invocations * per_k:.1f} per 1,000), {gb_s:.1f} GB-s "
        f"({gb_s * per_k:.2f} per 1,000; local durations, plus their CPU time stretched to the memory's "
        "share of a vCPU): "
        + ", ".join(
            f"{k} {v} ({lambdas.gb_seconds[k]:.0f} + {stretched[k]:.0f} GB-s at {lambdas.memory_mb[k]} MB, "
            f"{lambdas.cpu[k] * per_k:.1f} CPU s per 1,000)"
            for k, v in lambdas.invocations.most_common()
        )
    )
    print(
        f"  DynamoDB units per {one}: {meter.write_units / n:.1f} WRU, {meter.read_units / n:.1f} RRU; "
        "WRU by item written (of which its indexes): "
        + ", ".join(
            f"{kind} {units / n:.1f} ({meter.index_units_by_item[kind] / n:.1f})"
            for kind, units in meter.write_units_by_item().most_common(10)
        )
    )
    print(
        "    by write (operation, item kind): "
        + ", ".join(
            f"{op} {kind} {units / n:.2f}" for (op, kind), units in meter.write_units_by_write.most_common(12)
        )
    )
    print(
        "    RRU by read (operation, index: item kind, EC/SC consistency): "
        + ", ".join(
            f"{op} {what} {units / n:.2f}"
            for (op, what), units in sorted(meter.read_units_by_read.items(), key=lambda kv: -kv[1])[:10]
        )
    )
    return invocations, gb_s


# The fan-out's own writes (``services/send_delivery.py``): the group transaction's claims and
# codes, the messages put after it, the send's recipients; the rest is the mailer's and SES events'.
FANOUT_WRITES = {("TransactWriteItems", "CLAIM"), ("TransactWriteItems", "CODE"), ("PutItem", "MESSAGE")}
FANOUT_WRITES |= {("PutItem", "CUS"), ("TransactWriteItems", "COUNT"), ("TransactWriteItems", "CHUNK")}
# What a new on-demand table serves at once (AWS: up to 4,000 write units a second, then twice
# the previous peak within 30 minutes); the fan-out's enqueue time is bounded by it, not by Lambda.
ON_DEMAND_INITIAL_WRU_PER_S = 4000


def _project_a_million(n: int, meter: ApiMeter, lambdas: LambdaMeter) -> None:
    """A million recipients, from this run's per-recipient figures (the cost scales linearly: the
    model above). Enqueueing: every recipient's code assigned and email queued, at the rate the
    table's initial on-demand capacity allows for the fan-out's writes, with as many fan-out
    functions as that needs (each chunk's measured local duration, an upper bound); then SES
    hands the emails out at the account's MaxSendRate, its limit and not ours."""
    million = 1_000_000
    fanout_wru = sum(u for key, u in meter.write_units_by_write.items() if key in FANOUT_WRITES) / n
    per_second = ON_DEMAND_INITIAL_WRU_PER_S / fanout_wru
    chunk_seconds = lambdas.seconds["SendFanoutFunction"] / max(lambdas.invocations["SendFanoutFunction"], 1)
    rate = float(moto_patches.SEND_QUOTA["MaxSendRate"])
    functions = per_second / CHUNK_SIZE * chunk_seconds
    print(
        f"  a million recipients, projected: enqueued in {million / per_second / 60:.0f} min "
        f"({fanout_wru:.1f} write units each for the fan-out, {per_second:.0f} recipients/s on a new "
        f"on-demand table's {ON_DEMAND_INITIAL_WRU_PER_S} units/s; {functions:.0f} "
        f"fan-out functions at {chunk_seconds:.2f} s a chunk of {CHUNK_SIZE}); handed to SES in "
        f"{million / rate / 3600:.1f} h at MaxSendRate {rate:g}/s ({million / 200 / 3600:.1f} h at 200/s)"
    )
    pages = million // READ_BATCH + RECIPIENT_SHARDS  # the count's pages, each shard's last one empty
    runs = -(-pages // PAGES_PER_RUN)
    print(
        f"  and done {runs} housekeeping runs ({runs * 5} min) after SES's last verdict: the finish "
        f"counts {pages:,} pages of {READ_BATCH} recipients, {PAGES_PER_RUN} a run, from the send's tally"
    )
