"""Claims benchmark: our sharded, transactional allocator beside a naive single-counter allocator.

Two parts, each printing our figure beside the naive one measured in the same run:

- in-process against moto (``bench_claims``): DynamoDB requests per successful claim (the whole
  pool is claimed, so the claims near its end, when most shards are empty, count too), and the
  largest share of claim writes that landed on one partition key over N claims; then what an
  out-of-codes claim costs before and after the pool-exhausted marker is set;
- over HTTP on the running local stack (``bench_claims_http``): claims per second with many
  concurrent storefront clients, and, against the same moto with the same number of clients, the
  naive allocator (one counter item: increment, read the code, write the claim).

Figures are printed, never asserted. moto serialises DynamoDB requests (the local stack does,
as DynamoDB serialises writes to one item), so throughput here says more about overheads than
about DynamoDB; the partition share is what shows the flash-sale ceiling of a single counter.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import boto3
from couponflow.adapters import dynamodb
from couponflow.adapters.dynamodb import Table
from couponflow.domain.campaign import Campaign
from couponflow.ids import customer_id
from couponflow.models.claims import ClaimIn
from couponflow.services.claims import ClaimService
from couponflow.store import campaigns, claims, code_imports
from couponflow.store.import_jobs import JobRef

from bench.dynamodb_units import WRITES, UnitPricer, _projected

ROOT = Path(__file__).resolve().parent.parent


class Meter(Protocol):
    requests: Any

    def reset(self) -> None: ...

    def hottest_share(self, prefix: str = "") -> float: ...


def _load(table: Table, merchant: str, campaign_id: str, codes: list[str]) -> None:
    code_imports.load_codes(table, JobRef(merchant, campaign_id, "imp_bench"), codes, chunk="0", now="bench")


def _naive_claim(table: Table, merchant: str, i: int) -> None:
    counter = {"pk": f"M#{merchant}#CAMPAIGN#naive", "sk": "COUNTER"}
    item = table.update(counter, "ADD n :one", values={":one": 1}, return_new=True)
    assert item is not None
    table.get({"pk": f"M#{merchant}#CAMPAIGN#naive#CODE#{item['n']}", "sk": "CODE"})
    table.put({"pk": f"M#{merchant}#CUSTOMER#naive{i}", "sk": "CLAIM#naive", "code": str(item["n"])})


def _requests_with_and_without_a_key(
    stack: Any, table: Table, meter: Meter, merchant: str, count: int
) -> dict[bool, float]:
    """DynamoDB requests per claim through the claim service, without and with an Idempotency-Key."""
    campaign = Campaign(merchant, "cmp_bench_keys", "Bench keys", "Subject", "email")
    campaigns.create(table, campaign, datetime.now(UTC).isoformat())
    _load(table, merchant, campaign.campaign_id, [f"KEYS-{i:06d}" for i in range(2 * count + 1000)])
    service = ClaimService(table, stack.physical["ClaimMailQueue"])
    per_claim = {}
    for with_key in (False, True):
        meter.reset()
        with contextlib.redirect_stdout(io.StringIO()):  # the service's metric lines (EMF)
            for i in range(count):
                request = ClaimIn(email=f"k{int(with_key)}-{i}@example.com")
                key = f"order-{i}" if with_key else None
                service.claim(merchant, campaign.campaign_id, request, idempotency_key=key)
        per_claim[with_key] = sum(meter.requests.values()) / count
    return per_claim


class KeyTouches:
    """Which partition keys each claim writes, in the table and in every index (an index entry is
    written when its item enters, leaves or moves in it, or changes while the index projects
    everything), read from moto before and after each write request."""

    def __init__(self, region: str = "us-east-1") -> None:
        self.pricer = UnitPricer(region)
        self.current: set[tuple[str, str]] | None = None
        self.per_claim: list[set[tuple[str, str]]] = []
        self._before: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []

    def before(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if self.current is None or model.name not in WRITES:
            return
        written = self.pricer.keys_written(model.name, params)
        self._before = [(table, key, self.pricer.read(table, key)) for table, key, _ in written]

    def after(self, model: Any, **_: Any) -> None:
        if self.current is None or model.name not in WRITES:
            return
        for table, key, before in self._before:
            after = self.pricer.read(table, key)
            if before == after:
                continue  # a failed condition wrote nothing
            self.current.add(("table", str(key["pk"]["S"])))
            for index in self.pricer._indexes(table):
                hash_key = index.keys[0]
                for item in (before, after):
                    if item is not None and hash_key in item and _entry_written(index, before, after):
                        self.current.add((hash_key.removesuffix("pk"), str(item[hash_key]["S"])))
        self._before = []

    @contextmanager
    def claim(self) -> Iterator[None]:
        self.current = set()
        try:
            yield
        finally:
            self.per_claim.append(self.current)
            self.current = None

    def busiest_shares(self) -> dict[str, float]:
        """Per key space (the table, each index): the share of claims that wrote its busiest key."""
        counts: dict[str, Counter[str]] = {}
        for touched in self.per_claim:
            for space, key in touched:
                counts.setdefault(space, Counter())[key] += 1
        claims_seen = max(1, len(self.per_claim))
        return {space: max(c.values()) / claims_seen for space, c in sorted(counts.items())}


def _entry_written(index: Any, before: dict[str, Any] | None, after: dict[str, Any] | None) -> bool:
    old, new = _projected(index, [], before), _projected(index, [], after)
    if old is None or new is None:
        return old is not None or new is not None
    return old != new


def bench_claims(stack: Any, meter: Meter, claims_count: int) -> None:
    table = Table(stack.physical["CouponflowTable"])
    merchant = "mbench0000000000"
    campaign = Campaign(merchant, "cmp_bench", "Bench", "Subject", "email")
    now = datetime.now(UTC).isoformat()
    campaigns.create(table, campaign, now)
    _load(table, merchant, campaign.campaign_id, [f"BENCH-{i:06d}" for i in range(claims_count)])

    meter.reset()
    touches = KeyTouches()
    events = dynamodb.client().meta.events
    events.register("provide-client-params.dynamodb.*", touches.before)
    events.register("after-call.dynamodb.*", touches.after)
    started = time.perf_counter()
    for i in range(claims_count):
        email = f"c{i}@example.com"  # every email starts alike, as a flash sale's need not
        who = claims.Claimant(customer_id(merchant, email), email, f"Customer {i}", False)
        with touches.claim():
            current = campaigns.get(table, merchant, campaign.campaign_id)  # the service reads it first
            claims.assign(table, current, who, now=now, day="2026-11-22", message_id=f"msg_{i:06d}")
    elapsed = time.perf_counter() - started
    events.unregister("provide-client-params.dynamodb.*", touches.before)
    events.unregister("after-call.dynamodb.*", touches.after)
    ours_requests = sum(meter.requests.values()) / claims_count
    ours_share = meter.hottest_share()
    busiest = touches.busiest_shares()

    # Out of codes: the first claim queries the shards not yet marked empty and marks the pool
    # exhausted; later ones read the marks.
    costs = []
    for i in range(3):
        email = f"late{i}@example.com"
        who = claims.Claimant(customer_id(merchant, email), email, None, False)
        meter.reset()
        current = campaigns.get(table, merchant, campaign.campaign_id)
        claims.assign(table, current, who, now=now, day="2026-11-22", message_id=f"msg_late_{i}")
        costs.append(sum(meter.requests.values()))

    keyed = _requests_with_and_without_a_key(stack, table, meter, merchant, min(claims_count, 500))

    meter.reset()
    for i in range(claims_count):
        _naive_claim(table, merchant, i)
    naive_requests = sum(meter.requests.values()) / claims_count
    naive_share = meter.hottest_share()

    print(f"claims (in process, moto): {claims_count} sequential claims in {elapsed:.1f} s")
    print(
        f"  DynamoDB requests per successful claim: ours {ours_requests:.3f} (target <= 3), "
        f"naive {naive_requests:.3f}"
    )
    print(
        f"  largest share of claim writes on one partition key over {claims_count} claims: "
        f"ours {ours_share:.4f} (target <= 1/16 = {1 / 16:.4f} plus noise), naive {naive_share:.4f}"
    )
    noise = 3 * math.sqrt(1 / 16 * 15 / 16 / claims_count)  # 3 sigma of a shard's share of N claims
    print(
        "  share of claims that wrote the busiest key, per key space (indexes' entries included; "
        f"target <= 1/16 + 3 sigma = {1 / 16 + noise:.4f} at {claims_count} claims; "
        "a naive counter: 1.0000): " + ", ".join(f"{space} {share:.4f}" for space, share in busiest.items())
    )
    print(
        f"  DynamoDB requests per claim through the claim service: {keyed[False]:.3f} without an "
        f"Idempotency-Key, {keyed[True]:.3f} with one (target: no more; its receipt rides in the claim's "
        "transaction)"
    )
    print(
        f"  DynamoDB requests per out-of-codes claim: first {costs[0]} (queries the shards not yet marked "
        f"empty, marks the pool exhausted), then {costs[1]} and {costs[2]} (the marks: no shard queries)"
    )


@contextmanager
def local_stack() -> Iterator[dict[str, Any]]:
    """``python -m local_stack`` in its own process, as ``make run`` starts it."""
    with tempfile.TemporaryDirectory() as folder:
        ready = Path(folder) / "ready.json"
        command = [sys.executable, "-m", "local_stack", "--api-port", "0", "--moto-port", "0"]
        command += ["--ready-file", str(ready), "--log-dir", folder]
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 90
            while not ready.exists() or not ready.read_text():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the local stack did not start")
                time.sleep(0.1)
            yield json.loads(ready.read_text())
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def _http(info: dict[str, Any], method: str, path: str, body: Any = None, *, key: bool = True) -> Any:
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {info['api_key']}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(info["api_url"] + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")
    except (urllib.error.URLError, TimeoutError) as error:  # counted as not claimed, never hidden
        return 0, {"error": str(error)}


def _raw_naive(endpoint: str, table_name: str) -> Callable[[int], None]:
    """The naive allocator with a client of its own on the local stack's moto."""
    client = boto3.client("dynamodb", endpoint_url=endpoint)
    counter = {"pk": {"S": "M#mnaive#CAMPAIGN#naive"}, "sk": {"S": "COUNTER"}}

    def claim(i: int) -> None:
        item = client.update_item(
            TableName=table_name,
            Key=counter,
            UpdateExpression="ADD n :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
            ReturnValues="ALL_NEW",
        )["Attributes"]
        number = item["n"]["N"]
        client.get_item(
            TableName=table_name, Key={"pk": {"S": f"M#mnaive#CODE#{number}"}, "sk": {"S": "CODE"}}
        )
        client.put_item(
            TableName=table_name,
            Item={"pk": {"S": f"M#mnaive#CUSTOMER#{i}"}, "sk": {"S": "CLAIM#naive"}, "code": {"S": number}},
        )

    return claim


def _timed(workers: int, count: int, job: Callable[[int], Any]) -> tuple[float, list[Any]]:
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(job, range(count)))
    return time.perf_counter() - started, results


def bench_claims_http(claims_count: int, clients: int) -> None:
    with local_stack() as info:
        status, created = _http(info, "POST", "/campaigns", {"name": "Bench over HTTP"})
        assert status == 201, created
        campaign_id = created["campaign_id"]
        for start in range(0, claims_count, 1000):
            codes = [f"HTTP-{i:07d}" for i in range(start, min(start + 1000, claims_count))]
            _http(info, "POST", f"/campaigns/{campaign_id}/codes", {"codes": codes})
        path = f"/public/merchants/{info['merchant_id']}/campaigns/{campaign_id}/claims"

        elapsed, results = _timed(
            clients,
            claims_count,
            lambda i: _http(info, "POST", path, {"email": f"h{i}@example.com"}, key=False),
        )
        claimed = sum(1 for status, body in results if status == 201 and body.get("status") == "claimed")
        unanswered = sum(1 for status, _ in results if status == 0)

        naive = _raw_naive(info["dynamodb_url"], info["resources"]["CouponflowTable"])
        naive_elapsed, _ = _timed(clients, claims_count, naive)

    print(f"claims over HTTP on the local stack, {clients} concurrent clients:")
    print(
        f"  ours {claimed}/{claims_count} claimed in {elapsed:.1f} s = {claimed / elapsed:.0f} claims/s "
        f"(target 39/s with 64 clients: 3x the first measure, 13/s; gateway, claim function workers, "
        f"moto, and the claims' emails and SES events); naive counter allocator against the same moto "
        f"with {clients} clients: {claims_count / naive_elapsed:.0f} claims/s (no HTTP, no function)"
    )
    if unanswered:
        print(f"  {unanswered} claims got no answer within 60 s (timed out or refused)")
