"""What one DynamoDB request of each shape the pipeline sends costs on the local stack's moto.

``python -m bench.dynamodb_ops [N]`` starts the patched moto server in this process, provisions
template.yaml, fills the table with a few thousand items and times N requests of each shape
(the expressions are those of store/claims.py, messages.py, sends.py and campaign_stats.py),
over HTTP with the core package's own client. Figures are printed, never asserted.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from couponflow.adapters.dynamodb import Delete, Put, Table, TransactionCanceled, Update
from local_stack.moto_server import MotoServer
from local_stack.provision import provision_template

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }
)
ROOT = Path(__file__).resolve().parent.parent
NOW = "2026-11-23T02:00:00+00:00"


def _message(i: int) -> dict[str, Any]:
    return {
        "pk": f"MERCHANT#m#CUSTOMER#c{i}",
        "sk": f"MESSAGE#msg{i}",
        "type": "message",
        "merchant_id": "m",
        "customer_id": f"c{i}",
        "campaign_id": "camp",
        "message_id": f"msg{i}",
        "channel": "email",
        "recipient": f"c{i}@example.com",
        "code": f"CODE{i}",
        "status": "queued",
        "status_rank": 0,
        "status_at": NOW,
        "created_at": NOW,
        "gsi3pk": f"OUTBOX#m#{i % 8}",
        "gsi3sk": f"{NOW}#msg{i}",
    }


def shapes(table: Table, n: int) -> dict[str, Callable[[int], Any]]:
    """Each shape as a function of the request's number (so every request has its own item)."""

    def update_status(i: int) -> Any:  # messages.status_move's message update, standalone
        return table.update(
            {"pk": f"MERCHANT#m#CUSTOMER#c{i}", "sk": f"MESSAGE#msg{i}"},
            "SET #status = :status, status_rank = :rank, status_at = :at, status_details = :details, "
            "#x0 = :x0 REMOVE gsi2pk, gsi2sk, needs_attention, needs_attention_at",
            condition="attribute_exists(pk) AND status_rank = :current",
            names={"#status": "status", "#x0": "ses_message_id"},
            values={
                ":status": "delivered",
                ":rank": 3,
                ":at": NOW,
                ":details": {"smtp": "250 ok"},
                ":current": 0,
                ":x0": f"ses-{i}",
            },
        )

    def update_add_all_new(i: int) -> Any:  # the daily counter with if_not_exists, ALL_NEW
        return table.update(
            {"pk": "MERCHANT#m#CAMPAIGN#camp", "sk": f"DAILY#{i % 50}"},
            "SET claimed = if_not_exists(claimed, :zero) + :one ADD #new :one",
            condition="attribute_not_exists(claimed) OR claimed < :limit",
            names={"#new": "sent"},
            values={":zero": 0, ":one": 1, ":limit": 10**9},
            return_new=True,
        )

    def update_failing(i: int) -> Any:  # a condition that fails (ALL_OLD comes back)
        try:
            table.update(
                {"pk": f"MERCHANT#m#CUSTOMER#c{i}", "sk": f"MESSAGE#msg{i}"},
                "SET #status = :status",
                condition="status_rank = :current",
                names={"#status": "status"},
                values={":status": "sent", ":current": 99},
            )
        except Exception as error:  # ConditionFailed
            return error
        raise AssertionError("the condition should have failed")

    def put_recipient(i: int) -> Any:  # sends.put_recipient
        return table.put(
            {"pk": f"SEND#m#s#{i % 16}", "sk": f"RECIPIENT#c{i}", "outcome": "queued"},
            condition="attribute_not_exists(pk)",
        )

    def transact_claim(i: int) -> Any:  # the claim transaction of claims._try_code
        j = n + i
        return table.transact(
            [
                Put(
                    {"pk": f"MERCHANT#m#CUSTOMER#c{j}", "sk": "CLAIM#camp", "status": "claimed"},
                    condition="attribute_not_exists(pk) OR #status IN (:s0, :s1)",
                    names={"#status": "status"},
                    values={":s0": "out_of_coupons", ":s1": "not_eligible"},
                ),
                Delete({"pk": f"POOL#m#camp#{i % 16}", "sk": f"CODE#C{j}"}),
                Update(
                    {"pk": "MERCHANT#m#CAMPAIGN#camp", "sk": f"CODE#C{j}"},
                    "SET #state = :assigned, customer_id = :cus, assigned_at = :now",
                    names={"#state": "state"},
                    values={":assigned": "assigned", ":cus": f"c{j}", ":now": NOW},
                ),
                Update(
                    {"pk": "MERCHANT#m#CAMPAIGN#camp", "sk": f"POOLCOUNT#{i % 16}"},
                    "ADD available :n",
                    values={":n": -1},
                ),
                Put(_message(j), condition="attribute_not_exists(pk)"),
                Update(
                    {"pk": f"MERCHANT#m#CUSTOMER#c{j}", "sk": "PROFILE"},
                    "SET #type = :type, email = :e, last_interaction_at = :now, "
                    "created_at = if_not_exists(created_at, :now), gsi2pk = :g2pk, gsi2sk = :g2sk",
                    names={"#type": "type"},
                    values={
                        ":type": "customer",
                        ":e": f"c{j}@example.com",
                        ":now": NOW,
                        ":g2pk": "L",
                        ":g2sk": NOW,
                    },
                ),
            ]
        )

    def transact_status(i: int) -> Any:  # messages.raise_status: message + campaign counter shard
        return table.transact(
            [
                Update(
                    {"pk": f"MERCHANT#m#CUSTOMER#c{i}", "sk": f"MESSAGE#msg{i}"},
                    "SET #status = :status, status_rank = :rank, status_at = :at",
                    condition="attribute_exists(pk) AND status_rank = :current",
                    names={"#status": "status"},
                    values={":status": "opened", ":rank": 5, ":at": NOW, ":current": 3},
                ),
                Update(
                    {"pk": "MERCHANT#m#CAMPAIGN#camp", "sk": f"STATS#{i % 8}"},
                    "ADD #new :one, #old :minus",
                    names={"#new": "opened", "#old": "delivered"},
                    values={":one": 1, ":minus": -1},
                ),
            ]
        )

    def transact_canceled(i: int) -> Any:
        try:
            table.transact([Put(_message(i), condition="attribute_not_exists(pk)")])
        except TransactionCanceled as error:
            return error
        raise AssertionError("the transaction should have been canceled")

    def get(i: int) -> Any:
        return table.get({"pk": f"MERCHANT#m#CUSTOMER#c{i}", "sk": f"MESSAGE#msg{i}"})

    def batch_get(i: int) -> Any:
        return table.batch_get([{"pk": "MERCHANT#m#CAMPAIGN#camp", "sk": f"STATS#{s}"} for s in range(8)])

    def query(i: int) -> Any:
        return table.query("pk = :pk", {":pk": f"SEND#m#s#{i % 16}"}, consistent=True, limit=20)

    return {
        "UpdateItem SET+REMOVE, condition": update_status,
        "UpdateItem if_not_exists+ADD, ALL_NEW": update_add_all_new,
        "UpdateItem condition fails, ALL_OLD": update_failing,
        "PutItem attribute_not_exists": put_recipient,
        "TransactWriteItems claim (6 actions)": transact_claim,
        "TransactWriteItems status move (2)": transact_status,
        "TransactWriteItems canceled (1)": transact_canceled,
        "GetItem": get,
        "BatchGetItem (8 keys)": batch_get,
        "Query partition (limit 20)": query,
    }


class _ServerCpu:
    """Adds up the CPU time moto's threads spend serving requests (the wall clock is shared)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seconds = 0.0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        started = time.thread_time()
        try:
            return list(self.app(environ, start_response))
        finally:
            self.seconds += time.thread_time() - started


def run(n: int) -> dict[str, tuple[float, float]]:
    """Per request of each shape (N requests each): wall ms at the client, and moto's CPU ms."""
    server = MotoServer(port=0)
    cpu = _ServerCpu(server.middleware.app)
    server.middleware.app = cpu
    server.start()
    os.environ["AWS_ENDPOINT_URL"] = server.url
    try:
        stack = provision_template(ROOT / "template.yaml", server.url, "us-east-1")
        table = Table(stack.physical["CouponflowTable"])
        table.batch_put([_message(i) for i in range(n)])
        results: dict[str, tuple[float, float]] = {}
        table.get({"pk": "warm", "sk": "up"})
        for name, call in shapes(table, n).items():
            cpu.seconds = 0.0
            started = time.perf_counter()
            for i in range(n):
                call(i)
            results[name] = ((time.perf_counter() - started) * 1000 / n, cpu.seconds * 1000 / n)
        return results
    finally:
        server.reset()
        server.stop()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    print(f"{'ms per request':42s} {'wall':>7s} {'moto CPU':>9s}")
    for name, (wall, cpu) in run(n).items():
        print(f"{name:42s} {wall:7.2f} {cpu:9.2f}")


if __name__ == "__main__":
    main()
