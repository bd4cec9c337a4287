"""The list views over HTTP on the local stack, at a merchant's scale: 3,000 customers in the
customers tab (filtered by activity, found by a name prefix) and a 1,000-recipient send's
tracker (filtered by status), paged to the end, each page's DynamoDB requests counted at moto.

The data is written straight into the table (as claims, imports and a send would leave it), so
the test measures the reads alone.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from couponflow.store import claims, keys, messages, sends
from local_stack import LocalStack
from moto.dynamodb.responses import DynamoHandler

from tests.e2e.conftest import Call, in_process_stack, seed_table, stack_http

pytestmark = pytest.mark.e2e
FIRST_NAMES = ["Ann", "Andrew", "Bea", "Carl", "Dana", "Eli", "Fay", "Gus", "Hana", "Ivo"]
CUSTOMERS = 3000
RECIPIENTS = 1000


class RequestCounter:
    """DynamoDB requests moto serves that name one merchant (the list views key everything by
    it), but the authorizer's (its key lookup, cached for a minute after)."""

    def __init__(self, merchant_id: str) -> None:
        self.merchant_id = merchant_id
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()

    def __enter__(self) -> RequestCounter:
        original = DynamoHandler.call_action
        counter = self

        def counted(handler: DynamoHandler) -> Any:
            body = handler.body or ""
            if counter.merchant_id in body and "APIKEY#" not in body:  # the authorizer's are not the view's
                with counter.lock:
                    counter.counts[handler._get_action()] += 1
            return original(handler)

        self._original = original
        DynamoHandler.call_action = counted  # type: ignore[method-assign]
        return self

    def __exit__(self, *_: Any) -> None:
        DynamoHandler.call_action = self._original  # type: ignore[method-assign]

    def take(self) -> int:
        with self.lock:
            total = sum(self.counts.values())
            self.counts.clear()
        return total


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> Iterator[LocalStack]:
    # DynamoDB in this process's moto: RequestCounter counts the requests moto serves here
    with in_process_stack(
        tmp_path_factory.mktemp("lists"), "couponflow-e2e-lists", pytestconfig, dynamodb_process=False
    ) as running:
        yield running


@pytest.fixture(scope="module")
def http(stack: LocalStack) -> Call:
    return stack_http(stack)


def _customer(merchant_id: str, n: int, now: datetime) -> dict[str, Any]:
    first = FIRST_NAMES[n % len(FIRST_NAMES)]
    cid = f"cus_list{n:06d}"
    email = f"c{n:05d}@example.com"
    seen = (now - timedelta(days=(n % 2) * 400 + 1, minutes=n)).isoformat()  # odd n: inactive
    return {
        **keys.customer(merchant_id, cid),
        **keys.customers_index(merchant_id, cid, seen),
        **keys.customer_search_index(merchant_id, cid, email=email, name=f"{first} Doe{n}"),
        "type": "customer",
        "merchant_id": merchant_id,
        "customer_id": cid,
        "email": email,
        "first_name": first,
        "last_name": f"Doe{n}",
        "name": f"{first} Doe{n}",
        "last_interaction_at": seen,
        "created_at": seen,
    }


def _send(
    merchant_id: str, now: datetime, rng: random.Random
) -> tuple[str, list[dict[str, Any]], dict[str, str]]:
    """A finished send's items as its fan-out, mailer, SES events and redemptions leave them, each
    with its views index entry written by the store's own helpers; and each recipient's expected
    tracker status."""
    send_id, campaign_id = "snd_listview", "cmp_listview"
    stamp = now.isoformat()
    send = {
        **keys.send(merchant_id, send_id),
        **keys.sends_index(merchant_id, send_id, stamp),
        "type": "send",
        "merchant_id": merchant_id,
        "send_id": send_id,
        "segment_id": "seg_listview",
        "campaign_id": campaign_id,
        "channel": "email",
        "status": "done",
        "send_at": stamp,
        "created_at": stamp,
    }
    items: list[dict[str, Any]] = [send]
    expected: dict[str, str] = {}
    # done: no email is still queued (a send is done once all were handed to SES); the status
    # filters' reads of a send in progress are the integration tests' (test_list_views.py)
    kinds = ["delivered", "opened", "clicked", "bounced", "redeemed", "refused"]
    for n in range(RECIPIENTS):
        cid, message_id = f"cus_rcpt{n:06d}", f"msg_rcpt{n:06d}"
        kind = rng.choices(kinds, [65, 15, 5, 5, 5, 5])[0]
        expected[cid] = {
            "delivered": "sent",
            "bounced": "failed",
            "queued": "initiated",
            "refused": "failed",
        }.get(kind, kind)
        recipient = {
            **keys.send_recipient(merchant_id, send_id, cid),
            "customer_id": cid,
            "email": f"r{n}@example.com",
            "at": stamp,
        }
        if kind == "refused":  # excluded by the audience rules: no message, no claim
            items.append(
                {
                    **recipient,
                    "outcome": "failed",
                    "reason": "unsubscribed",
                    **sends.refused_entry(merchant_id, send, cid),
                }
            )
            continue
        items.append({**recipient, "outcome": "sent", "message_id": message_id, "email_queued": True})
        owner = {
            "merchant_id": merchant_id,
            "campaign_id": campaign_id,
            "customer_id": cid,
            "send_id": send_id,
        }
        message = {
            **keys.message(merchant_id, cid, message_id),
            **owner,
            "message_id": message_id,
            "status": "delivered" if kind == "redeemed" else kind,
        }
        claim = {
            **keys.claim(merchant_id, cid, campaign_id),
            **owner,
            "send_id": send_id,
            "status": "redeemed" if kind == "redeemed" else "claimed",
        }
        items += [
            {**message, **messages.view_entry(message, send_id)},
            {**claim, **claims.claim_view_entry(claim)},
        ]
    return send_id, items, expected


def _pages(http: Call, counter: RequestCounter, path: str) -> tuple[list[dict[str, Any]], list[int]]:
    rows: list[dict[str, Any]] = []
    costs: list[int] = []
    after = None
    counter.take()
    while True:
        joiner = "&" if "?" in path else "?"
        status, page = http("GET", path + (f"{joiner}next={after}" if after else ""))
        assert status == 200, page
        costs.append(counter.take())
        assert costs[-1] > 0, "no DynamoDB request counted: the counter is not where moto serves them"
        rows += page["items"]
        after = page.get("next")
        if not after:
            return rows, costs


def test_a_merchant_pages_3000_customers_and_a_1000_recipient_tracker_a_few_requests_a_page(
    stack: LocalStack, http: Call, monkeypatch: pytest.MonkeyPatch
) -> None:
    merchant_id = stack.merchant_id
    now = datetime.now(UTC)
    send_id, items, expected = _send(merchant_id, now, random.Random(7))
    seed_table(stack, [_customer(merchant_id, n, now) for n in range(CUSTOMERS)] + items, monkeypatch)

    with RequestCounter(merchant_id) as counter:
        active, costs = _pages(http, counter, "/customers?status=active&limit=100")
        assert len(active) == CUSTOMERS // 2 and all(r["active"] for r in active)
        seen = [r["last_interaction_at"] for r in active]
        assert seen == sorted(seen, reverse=True) and len({r["customer_id"] for r in active}) == len(active)
        # one Query per shard of the listing (16, in parallel: every claim moves its customer's
        # entry, so one key would take a flash sale's every claim), each a range of its key
        assert max(costs) <= keys.CUSTOMER_INDEX_SHARDS, costs

        named, costs = _pages(http, counter, "/customers?q=an&limit=100")
        wanted = {n for n in range(CUSTOMERS) if FIRST_NAMES[n % len(FIRST_NAMES)].lower().startswith("an")}
        assert {r["customer_id"] for r in named} == {f"cus_list{n:06d}" for n in wanted}
        # a Query per shard and a BatchGetItem (the Queries twice where the email phase ends)
        assert max(costs) <= 2 * keys.CUSTOMER_INDEX_SHARDS + 1, costs

        tracked, costs = _pages(http, counter, f"/sends/{send_id}/recipients?limit=100")
        assert {r["customer_id"]: r["status"] for r in tracked} == expected
        # the send (GetItem), a Query per shard the page spans (two or three), a BatchGetItem per
        # hundred keys (two: each recipient's message and claim)
        assert max(costs) <= 6, costs

        for status in sorted(set(expected.values())):
            found, costs = _pages(http, counter, f"/sends/{send_id}/recipients?status={status}&limit=50")
            assert sorted(r["customer_id"] for r in found) == sorted(
                c for c, s in expected.items() if s == status
            )
            # The send (GetItem); per read: a Query (of one shard of the views index's bucket, 2
            # shards each; for `sent`, which most rows are, of one shard of the list itself), a
            # BatchGetItem of the recipients it names and one of their messages and claims. A
            # page spans a shard or two.
            assert max(costs) <= 1 + 3 * 3, (status, costs)
            print(f"tracker filtered by {status}: {len(found)} rows, {len(costs)} pages, requests {costs}")
