"""``make bench``: measured figures for claims and SES events, printed (never asserted).

Runs against moto's real HTTP server in this process. Each benchmark counts the DynamoDB
requests the core package makes (a botocore hook on its one DynamoDB client) and the partition
keys its writes land on.
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from couponflow.adapters import dynamodb
from couponflow.adapters.dynamodb import Table
from couponflow.domain.campaign import Campaign
from couponflow.ids import customer_id
from couponflow.store import campaigns, claims
from local_stack import moto_patches
from local_stack.provision import provision_template
from moto.server import ThreadedMotoServer

from bench.sends import bench_sends
from bench.ses_events import bench_ses_events

ROOT = Path(__file__).resolve().parent.parent
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }
)


class DynamoDBMeter:
    """Counts DynamoDB requests by operation and the partition keys written."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.write_keys: Counter[str] = Counter()

    def __call__(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.requests[model.name] += 1
        if model.name in ("PutItem", "UpdateItem", "DeleteItem"):
            self.write_keys[self._pk(params)] += 1
        elif model.name == "TransactWriteItems":
            for action in params["TransactItems"]:
                body = next(iter(action.values()))
                if "ConditionCheck" not in action:
                    self.write_keys[self._pk(body)] += 1

    @staticmethod
    def _pk(params: dict[str, Any]) -> str:
        key = params.get("Key") or params.get("Item") or {}
        return str(key.get("pk", {}).get("S", "?"))

    def reset(self) -> None:
        self.requests.clear()
        self.write_keys.clear()

    def hottest_share(self, prefix: str = "") -> float:
        relevant = {k: v for k, v in self.write_keys.items() if k.startswith(prefix)}
        total = sum(relevant.values())
        return max(relevant.values()) / total if total else 0.0


@contextmanager
def moto_stack() -> Iterator[Any]:
    moto_patches.apply()  # the local stack's moto: cheap, all-or-nothing transactions
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    try:
        yield provision_template(ROOT / "template.yaml", endpoint, "us-east-1")
    finally:
        server.stop()


def bench_claims(stack: Any, meter: DynamoDBMeter, claims_count: int) -> None:

    table = Table(stack.physical["CouponflowTable"])
    merchant = "mbench0000000000"
    campaign = Campaign(merchant, "cmp_bench", "Bench", "Subject", "email")
    now = datetime.now(UTC).isoformat()
    campaigns.create(table, campaign, now)
    campaigns.add_codes(
        table, merchant, campaign.campaign_id, [f"BENCH-{i:06d}" for i in range(claims_count)], now
    )

    meter.reset()
    started = time.perf_counter()
    for i in range(claims_count):
        email = f"c{i}@example.com"
        who = claims.Claimant(customer_id(merchant, email), email, None, False)
        campaigns.get(table, merchant, campaign.campaign_id)  # the claim service reads the campaign first
        claims.assign(table, campaign, who, now=now, day="2026-11-22", message_id=f"msg_{i:06d}")
    elapsed = time.perf_counter() - started
    ours_requests = sum(meter.requests.values()) / claims_count
    ours_share = meter.hottest_share()

    # The naive allocator: one counter item per campaign, incremented for every claim.
    meter.reset()
    counter = {"pk": f"M#{merchant}#CAMPAIGN#naive", "sk": "COUNTER"}
    for i in range(claims_count):
        item = table.update(counter, "ADD n :one", values={":one": 1}, return_new=True)
        assert item is not None
        table.get({"pk": f"M#{merchant}#CAMPAIGN#naive#CODE#{item['n']}", "sk": "CODE"})
        table.put({"pk": f"M#{merchant}#CUSTOMER#naive{i}", "sk": "CLAIM#naive", "code": str(item["n"])})
    naive_requests = sum(meter.requests.values()) / claims_count
    naive_share = meter.hottest_share()

    print(
        f"claims: {claims_count} sequential claims against moto in {elapsed:.1f} s "
        f"({claims_count / elapsed:.0f}/s)"
    )
    print(
        f"  DynamoDB requests per successful claim: ours {ours_requests:.2f} (target <= 3), "
        f"naive {naive_requests:.2f}"
    )
    print(
        f"  largest share of claim writes on one partition key: ours {ours_share:.4f} "
        f"(target <= 1/16 = {1 / 16:.4f} plus noise), naive {naive_share:.4f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--claims", type=int, default=2000)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--send-recipients", type=int, default=10_000, help="recipients of the segment send")
    args = parser.parse_args()

    with moto_stack() as stack:
        meter = DynamoDBMeter()
        dynamodb.client().meta.events.register("provide-client-params.dynamodb.*", meter)
        bench_claims(stack, meter, args.claims)
        bench_ses_events(stack, meter, args.events)
    bench_sends(args.send_recipients)


if __name__ == "__main__":
    main()
