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

import json
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import boto3
from couponflow.adapters.dynamodb import Table
from couponflow.domain.campaign import Campaign
from couponflow.ids import customer_id
from couponflow.store import campaigns, claims, code_imports
from couponflow.store.import_jobs import JobRef

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


def bench_claims(stack: Any, meter: Meter, claims_count: int) -> None:
    table = Table(stack.physical["CouponflowTable"])
    merchant = "mbench0000000000"
    campaign = Campaign(merchant, "cmp_bench", "Bench", "Subject", "email")
    now = datetime.now(UTC).isoformat()
    campaigns.create(table, campaign, now)
    _load(table, merchant, campaign.campaign_id, [f"BENCH-{i:06d}" for i in range(claims_count)])

    meter.reset()
    started = time.perf_counter()
    for i in range(claims_count):
        email = f"c{i}@example.com"
        who = claims.Claimant(customer_id(merchant, email), email, None, False)
        current = campaigns.get(table, merchant, campaign.campaign_id)  # the claim service reads it first
        claims.assign(table, current, who, now=now, day="2026-11-22", message_id=f"msg_{i:06d}")
    elapsed = time.perf_counter() - started
    ours_requests = sum(meter.requests.values()) / claims_count
    ours_share = meter.hottest_share()

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

        naive = _raw_naive(info["moto_url"], info["resources"]["CouponflowTable"])
        naive_elapsed, _ = _timed(clients, claims_count, naive)

    print(f"claims over HTTP on the local stack, {clients} concurrent clients:")
    print(
        f"  ours {claimed}/{claims_count} claimed in {elapsed:.1f} s = {claimed / elapsed:.0f} claims/s "
        f"(gateway, claim function workers, moto); naive counter allocator against the same moto "
        f"with {clients} clients: {claims_count / naive_elapsed:.0f} claims/s (no HTTP, no function)"
    )
    if unanswered:
        print(f"  {unanswered} claims got no answer within 60 s (timed out or refused)")
