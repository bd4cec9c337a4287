"""``make bench``: measured figures for claims, SES events, customer imports and sends, printed
(never asserted).

Runs against moto's real HTTP server in this process. Each benchmark counts the DynamoDB
requests the core package makes (a botocore hook on its one DynamoDB client) and the partition
keys its writes land on.
"""

from __future__ import annotations

import argparse
import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from couponflow.adapters import dynamodb
from local_stack.moto_server import MotoServer
from local_stack.provision import provision_template

from bench.claim_cost import bench_claim_cost
from bench.claims import bench_claims, bench_claims_http
from bench.cold_starts import bench_cold_starts, bench_layer_bytecode
from bench.customer_imports import bench_customer_imports
from bench.sends import bench_sends
from bench.ses_events import bench_ses_events
from bench.stack_starts import bench_stack_starts

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
    server = MotoServer(port=0)  # the local stack's moto, with its patches
    server.start()
    os.environ["AWS_ENDPOINT_URL"] = server.url
    try:
        yield provision_template(ROOT / "template.yaml", server.url, "us-east-1")
    finally:
        server.reset()  # moto's state is per process: the local stacks below start from nothing
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, epilog="A count of 0 skips that part.")
    parser.add_argument("--claims", type=int, default=10_000, help="in-process claims (partition share)")
    parser.add_argument("--http-claims", type=int, default=2000, help="claims over HTTP on the local stack")
    parser.add_argument("--clients", type=int, default=64, help="concurrent storefront clients over HTTP")
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--send-recipients", type=int, default=10_000, help="recipients of the segment send")
    parser.add_argument(
        "--send-rate",
        type=float,
        default=None,
        help="the SES MaxSendRate the local SES answers (default 14/s)",
    )
    parser.add_argument(
        "--claim-cost", type=int, default=1000, help="storefront claims, each emailed, metered for their cost"
    )
    parser.add_argument("--customers", type=int, default=20_000, help="rows of the customer CSV import")
    parser.add_argument("--cold-starts", type=int, default=1, help="0 skips the cold-start imports")
    parser.add_argument("--stack-starts", type=int, default=3, help="starts of the local stack timed")
    args = parser.parse_args()

    if args.claims or args.events or args.customers or args.cold_starts:
        _in_process(args)
    if args.stack_starts:
        bench_stack_starts(args.stack_starts)
    if args.http_claims:
        bench_claims_http(args.http_claims, args.clients)
    if args.claim_cost:
        bench_claim_cost(args.claim_cost)
    if args.send_recipients:
        bench_sends(args.send_recipients, args.send_rate)


def _in_process(args: argparse.Namespace) -> None:
    with moto_stack() as stack:
        meter = DynamoDBMeter()
        dynamodb.client().meta.events.register("provide-client-params.dynamodb.*", meter)
        if args.claims:
            bench_claims(stack, meter, args.claims)
        if args.events:
            bench_ses_events(stack, meter, args.events)
        if args.customers:
            bench_customer_imports(stack, meter, args.customers)
        if args.cold_starts:
            bench_cold_starts(stack)
            bench_layer_bytecode(stack)


if __name__ == "__main__":
    main()
