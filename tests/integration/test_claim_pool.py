"""The claim allocator's pool, through the handlers against moto's server: the per-shard counters
behind ``codes_available``, claims that skip empty shards, and more than one code per customer
(``per_customer_limit``)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest
from couponflow.adapters import dynamodb
from couponflow.adapters.dynamodb import Table
from couponflow.domain.claim_status import ClaimStatus
from couponflow.errors import RetryableError
from couponflow.ids import customer_id
from couponflow.models.claims import ClaimIn
from couponflow.services.claims import ClaimService
from couponflow.store import campaigns, claim_progress, claims, keys

from tests.conftest import load_event
from tests.integration.helpers import body_of, claim_event, merchant_event, sqs_event

Api = Callable[..., dict[str, Any]]


@pytest.fixture()
def table(stack: Any) -> Table:
    return Table(stack.physical["CouponflowTable"])


@pytest.fixture()
def handlers(load_handler: Callable[[str], ModuleType]) -> dict[str, ModuleType]:
    names = (
        "MerchantApiFunction",
        "ClaimFunction",
        "MailerFunction",
        "SesEventsFunction",
        "HousekeepingFunction",
    )
    return {name: load_handler(name) for name in names}


@pytest.fixture()
def merchant_api(merchant: tuple[str, str], handlers: dict[str, ModuleType], lambda_context: Any) -> Api:
    def call(method: str, path: str, body: Any = None, resource: str | None = None) -> dict[str, Any]:
        event = merchant_event(merchant[0], method, resource or path, path, body)
        response: dict[str, Any] = handlers["MerchantApiFunction"].lambda_handler(event, lambda_context)
        return response

    return call


@pytest.fixture()
def new_campaign(merchant_api: Api) -> Callable[..., str]:
    def create(codes: list[str], **fields: Any) -> str:
        response = merchant_api("POST", "/campaigns", {"name": "Pool", "codes": codes, **fields})
        assert response["statusCode"] == 201, response["body"]
        return str(body_of(response)["campaign_id"])

    return create


@pytest.fixture()
def claim(merchant: tuple[str, str], handlers: dict[str, ModuleType], lambda_context: Any) -> Api:
    """POST a claim for ``email``; the handler's response."""

    def call(campaign_id: str, email: str) -> dict[str, Any]:
        event = claim_event(merchant[0], campaign_id, {"email": email})
        response: dict[str, Any] = handlers["ClaimFunction"].lambda_handler(event, lambda_context)
        return response

    return call


def codes_in(shard: int, count: int, prefix: str) -> list[str]:
    """``count`` codes that land in pool shard ``shard``."""
    found: list[str] = []
    n = 0
    while len(found) < count:
        code = f"{prefix}-{n:05d}"
        if keys.pool_shard_of(code) == shard:
            found.append(code)
        n += 1
    return found


def codes_in_pool(table: Table, merchant_id: str, campaign_id: str) -> int:
    """The ground truth: every code in every pool shard, counted by querying them."""
    return sum(
        table.count(
            "pk = :pk", {":pk": keys.pool_partition(merchant_id, campaign_id, shard)}, consistent=True
        )
        for shard in range(keys.POOL_SHARDS)
    )


class Requests:
    """The DynamoDB requests the core package makes (a hook on its one client), with their params."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls.append((model.name, params))

    @property
    def names(self) -> Counter[str]:
        return Counter(name for name, _ in self.calls)

    def queried_partitions(self) -> Counter[str]:
        return Counter(
            params["ExpressionAttributeValues"][":pk"]["S"] for name, params in self.calls if name == "Query"
        )


@contextmanager
def dynamodb_requests() -> Iterator[Requests]:
    meter = Requests()
    events = dynamodb.client().meta.events
    events.register("provide-client-params.dynamodb.*", meter)
    try:
        yield meter
    finally:
        events.unregister("provide-client-params.dynamodb.*", meter)


def redeem(merchant_api: Api, campaign_id: str, code: str, order_id: str) -> None:
    event_path = "/redemptions"
    response = merchant_api(
        "POST", event_path, {"campaign_id": campaign_id, "code": code, "order_id": order_id}
    )
    assert response["statusCode"] == 200, response["body"]


# --- codes_available: per-shard counters ----------------------------------------------------


def test_codes_available_stays_exact_through_load_claims_concurrent_claims_release_and_expiry(
    merchant, stack, table, handlers, merchant_api, new_campaign, claim, lambda_context
):
    m = merchant[0]
    campaign_id = new_campaign([f"CNT-{i:04d}" for i in range(40)], offer_lifetime_days=7)

    def available() -> int:
        response = merchant_api("GET", f"/campaigns/{campaign_id}", resource="/campaigns/{campaignId}")
        assert response["statusCode"] == 200, response["body"]
        shown = int(body_of(response)["codes_available"])
        assert shown == codes_in_pool(table, m, campaign_id)  # the counters agree with the pool itself
        return shown

    assert available() == 40
    loaded = merchant_api(
        "POST",
        f"/campaigns/{campaign_id}/codes",
        {"codes": [f"CNT-{i:04d}" for i in range(30, 60)]},
        resource="/campaigns/{campaignId}/codes",
    )
    assert body_of(loaded) == {"imported": 20, "duplicate": 10}
    assert available() == 60

    for i in range(5):
        assert claim(campaign_id, f"seq{i}@example.com")["statusCode"] == 201
    assert claim(campaign_id, "seq0@example.com")["statusCode"] == 200  # a repeat takes nothing
    assert available() == 55

    # Concurrent claims: 12 customers, 3 of them claiming three times at once.
    service = ClaimService(table, stack.physical["ClaimMailQueue"])
    emails = [f"burst{i}@example.com" for i in range(12)] + [f"burst{i}@example.com" for i in range(3)] * 2
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda e: service.claim(m, campaign_id, ClaimIn(email=e))[0], emails))
    assert {a.status for a in answers} == {"claimed"}
    assert available() == 55 - 12

    # Release: a bounced coupon email nobody saw gives its code back.
    bounced = "bounce+count@simulator.amazonses.com"
    assert claim(campaign_id, bounced)["statusCode"] == 201
    assert available() == 42
    bounce(handlers, table, lambda_context, m, campaign_id, bounced)
    assert table.get(keys.claim(m, customer_id(m, bounced), campaign_id))["status"] == "released"  # type: ignore[index]
    assert available() == 43

    # Expiry: every unredeemed offer lapses and its code goes back; a second run changes nothing.
    expire = handlers["HousekeepingFunction"].tasks["expire_offers"]
    later = datetime.now(UTC) + timedelta(days=8)
    expired = expire(later)["expired"]
    assert expired == 5 + 12
    assert expire(later)["expired"] == 0
    assert available() == 60


def bounce(
    handlers: dict[str, ModuleType],
    table: Table,
    context: Any,
    merchant_id: str,
    campaign_id: str,
    email: str,
) -> None:
    """Send the claim's coupon email (mailer) and feed SES's bounce of it to the events handler."""
    held = table.get(keys.claim(merchant_id, customer_id(merchant_id, email), campaign_id))
    assert held is not None
    job = {"merchant_id": merchant_id, "customer_id": held["customer_id"], "message_id": held["message_id"]}
    assert handlers["MailerFunction"].lambda_handler(sqs_event([json.dumps(job)]), context) == {
        "batchItemFailures": []
    }
    message = table.get(keys.message(merchant_id, held["customer_id"], held["message_id"]))
    assert message is not None
    record = load_event("ses/event_bounce")
    record["mail"]["messageId"] = message["ses_message_id"]
    record["mail"]["destination"] = [email]
    record["mail"]["tags"] = {
        "merchant": [merchant_id],
        "customer": [held["customer_id"]],
        "message": [held["message_id"]],
    }
    record["bounce"]["bouncedRecipients"] = [
        {**record["bounce"]["bouncedRecipients"][0], "emailAddress": email}
    ]
    body = json.dumps({"Type": "Notification", "MessageId": "sns-1", "Message": json.dumps(record)})
    assert handlers["SesEventsFunction"].lambda_handler(sqs_event([body]), context) == {
        "batchItemFailures": []
    }


def test_reading_codes_available_is_one_batch_read_of_the_shard_counters_whatever_the_pool_size(
    merchant, table, new_campaign
):
    small = new_campaign(["ONE-0001"])
    large = new_campaign([f"MANY-{i:05d}" for i in range(300)])
    profiles = []
    for campaign_id, expected in ((small, 1), (large, 300)):
        with dynamodb_requests() as requests:
            assert campaigns.count_available(table, merchant[0], campaign_id) == expected
        asked = [len(params["RequestItems"][table.name]["Keys"]) for _, params in requests.calls]
        profiles.append((requests.names, asked))
    assert profiles[0] == profiles[1] == (Counter({"BatchGetItem": 1}), [keys.POOL_SHARDS])


# --- claims skip empty shards ---------------------------------------------------------------


def test_claims_near_the_end_of_a_pool_skip_shards_found_empty_and_cost_three_requests(
    merchant, table, merchant_api, new_campaign, claim
):
    m = merchant[0]
    full = 3
    campaign_id = new_campaign(codes_in(full, 1, "END"))
    # Two claims empty the pool: between them every shard is queried, found empty and marked.
    assert claim(campaign_id, "first@example.com")["statusCode"] == 201
    with dynamodb_requests() as requests:
        assert body_of(claim(campaign_id, "second@example.com"))["reason"] == "pool_empty"
    # no shard queried twice (none at all when the first claim happened to try the code's shard last
    # and marked the whole pool empty with the code it took: the shards are tried in random order)
    assert max(requests.queried_partitions().values(), default=1) == 1
    stored = campaigns.get(table, m, campaign_id)
    assert stored.empty_shards == frozenset(range(keys.POOL_SHARDS)) and stored.pool_known_empty
    with dynamodb_requests() as requests:
        assert body_of(claim(campaign_id, "third@example.com"))["reason"] == "pool_empty"
    assert "Query" not in requests.names  # the marks answer: no shard is read
    shown = merchant_api("GET", f"/campaigns/{campaign_id}", resource="/campaigns/{campaignId}")
    assert shown["statusCode"] == 200 and body_of(shown)["codes_available"] == 0
    assert "empty_shards" not in body_of(shown)

    # Codes loaded into a shard clear its mark only; no mark hides a code.
    merchant_api(
        "POST",
        f"/campaigns/{campaign_id}/codes",
        {"codes": codes_in(full, 4, "MORE")},
        resource="/campaigns/{campaignId}/codes",
    )
    stored = campaigns.get(table, m, campaign_id)
    assert stored.empty_shards == frozenset(range(keys.POOL_SHARDS)) - {full}
    assert not stored.pool_known_empty
    for i in range(4):
        with dynamodb_requests() as requests:
            assert claim(campaign_id, f"late{i}@example.com")["statusCode"] == 201
        # the campaign, one query of the one shard holding codes, the claim's transaction
        assert requests.names == Counter({"GetItem": 1, "Query": 1, "TransactWriteItems": 1})
    with dynamodb_requests() as requests:
        assert body_of(claim(campaign_id, "after@example.com"))["reason"] == "pool_empty"
    # The claim that took the shard's last code saw it was the only one and marked the shard (the
    # pool exhausted) in its own transaction: this one reads the campaign and records the customer.
    assert requests.names == Counter({"GetItem": 1, "TransactWriteItems": 1})
    assert campaigns.count_available(table, m, campaign_id) == 0


def test_an_empty_mark_from_before_a_load_is_refused(merchant, table, new_campaign):
    m = merchant[0]
    campaign_id = new_campaign(codes_in(5, 1, "RACE"))
    seen = campaigns.get(table, m, campaign_id).pool_version
    campaigns.add_codes(table, m, campaign_id, codes_in(7, 1, "RACE2"), "2026-11-23T00:00:00+00:00")
    # A claim that read the campaign before the load and found shard 7 empty cannot mark it.
    assert campaigns.mark_shards_empty(table, m, campaign_id, {7}, seen) is False
    assert 7 not in campaigns.get(table, m, campaign_id).empty_shards


# --- more than one code per customer --------------------------------------------------------


def held(table: Table, merchant_id: str, email: str, campaign_id: str) -> dict[str, Any]:
    item = table.get(keys.claim(merchant_id, customer_id(merchant_id, email), campaign_id))
    assert item is not None
    return item


def test_customer_gets_the_next_code_only_once_the_last_is_redeemed_up_to_the_limit(
    merchant, table, merchant_api, new_campaign, claim
):
    m, email = merchant[0], "regular@example.com"
    campaign_id = new_campaign([f"LIM-{i:03d}" for i in range(6)], per_customer_limit=2)
    shown = merchant_api("GET", f"/campaigns/{campaign_id}", resource="/campaigns/{campaignId}")
    assert body_of(shown)["per_customer_limit"] == 2

    first = claim(campaign_id, email)
    assert first["statusCode"] == 201
    code_1 = held(table, m, email, campaign_id)["code"]
    again = claim(campaign_id, email)  # unredeemed: the same code again, nothing new
    assert again["statusCode"] == 200 and held(table, m, email, campaign_id)["code"] == code_1

    redeem(merchant_api, campaign_id, code_1, "O-1")
    second = claim(campaign_id, email)
    assert second["statusCode"] == 201 and body_of(second)["status"] == "claimed"
    latest = held(table, m, email, campaign_id)
    code_2 = latest["code"]
    assert code_2 != code_1 and latest["claim_number"] == 2
    assert claim(campaign_id, email)["statusCode"] == 200
    assert held(table, m, email, campaign_id)["code"] == code_2

    redeem(merchant_api, campaign_id, code_2, "O-2")
    last = claim(campaign_id, email)  # two codes given: the last claim is the answer
    assert last["statusCode"] == 200 and body_of(last)["status"] == "redeemed"
    assert held(table, m, email, campaign_id)["code"] == code_2
    assert campaigns.count_available(table, m, campaign_id) == 4

    # The customers tab and the campaign's claim listing show both claims.
    tab = merchant_api("GET", f"/customers/{email}", resource="/customers/{customerRef}")
    assert tab["statusCode"] == 200, tab["body"]
    mine = [c for c in body_of(tab)["claims"] if c["campaign_id"] == campaign_id]
    assert sorted((c["claim_number"], c["code"], c["status"]) for c in mine) == [
        (1, code_1, "redeemed"),
        (2, code_2, "redeemed"),
    ]
    assert len(body_of(tab)["messages"]) == 2
    listed = merchant_api(
        "GET", f"/campaigns/{campaign_id}/claims", resource="/campaigns/{campaignId}/claims"
    )
    assert sorted(c["code"] for c in body_of(listed)["items"]) == sorted([code_1, code_2])


def test_an_expired_offer_makes_room_for_the_next_code_and_an_empty_pool_says_so(
    merchant, table, handlers, merchant_api, new_campaign, claim
):
    m, email = merchant[0], "lapsed@example.com"
    campaign_id = new_campaign(["EXPL-001"], per_customer_limit=3, offer_lifetime_days=7)
    assert claim(campaign_id, email)["statusCode"] == 201
    redeem(merchant_api, campaign_id, "EXPL-001", "O-9")
    out = claim(campaign_id, email)  # room for a next code, but none left: say so, keep the claim
    assert body_of(out)["status"] == "out_of_coupons" and body_of(out)["reason"] == "pool_empty"
    assert held(table, m, email, campaign_id)["status"] == "redeemed"

    merchant_api(
        "POST",
        f"/campaigns/{campaign_id}/codes",
        {"codes": ["EXPL-002"]},
        resource="/campaigns/{campaignId}/codes",
    )
    assert claim(campaign_id, email)["statusCode"] == 201
    assert held(table, m, email, campaign_id)["code"] == "EXPL-002"
    expire = handlers["HousekeepingFunction"].tasks["expire_offers"]
    assert expire(datetime.now(UTC) + timedelta(days=8))["expired"] == 1
    assert campaigns.count_available(table, m, campaign_id) == 1
    third = claim(campaign_id, email)  # the expired code came back and is the next one
    assert third["statusCode"] == 201
    latest = held(table, m, email, campaign_id)
    assert (latest["code"], latest["claim_number"], latest["status"]) == ("EXPL-002", 3, "claimed")
    earlier = table.get(keys.earlier_claim(m, latest["customer_id"], campaign_id, 2))
    assert earlier is not None and (earlier["status"], earlier["code"]) == ("expired", "EXPL-002")
    assert "gsi2pk" not in earlier  # kept claims never wait in the expiry sweep


def test_concurrent_claims_of_one_customer_get_one_next_code(
    merchant, stack, table, merchant_api, new_campaign, claim
):
    m, email = merchant[0], "eager@example.com"
    campaign_id = new_campaign([f"CON-{i:03d}" for i in range(10)], per_customer_limit=3)
    assert claim(campaign_id, email)["statusCode"] == 201
    redeem(merchant_api, campaign_id, held(table, m, email, campaign_id)["code"], "O-1")

    service = ClaimService(table, stack.physical["ClaimMailQueue"])
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: service.claim(m, campaign_id, ClaimIn(email=email)), range(8)))
    assert sum(1 for _, new in results if new) == 1
    latest = held(table, m, email, campaign_id)
    assert {answer.claimed_at for answer, _ in results} == {latest["claimed_at"]}
    assert latest["claim_number"] == 2
    assert campaigns.count_available(table, m, campaign_id) == 8
    assignments = [
        c for c in (table.get(keys.code_registry(m, campaign_id, f"CON-{i:03d}")) for i in range(10)) if c
    ]
    assert sum(1 for c in assignments if c["state"] != "available") == 2


def test_per_customer_limit_is_accepted_up_to_the_maximum_and_cleared_back_to_one(merchant_api, new_campaign):
    campaign_id = new_campaign(["PCL-001"])
    path, resource = f"/campaigns/{campaign_id}", "/campaigns/{campaignId}"
    assert (
        body_of(merchant_api("PATCH", path, {"per_customer_limit": 5}, resource=resource))[
            "per_customer_limit"
        ]
        == 5
    )
    cleared = merchant_api("PATCH", path, {"per_customer_limit": None}, resource=resource)
    assert body_of(cleared)["per_customer_limit"] == 1


def test_a_send_chunk_delivered_again_after_its_code_was_used_gives_no_second_code(
    merchant, table, merchant_api, new_campaign
):
    """The send fan-out assigns with a message id made from send and customer; a redelivered chunk
    after the customer redeemed that code must find its claim, not take the next code."""
    m, email = merchant[0], "chunk@example.com"
    campaign_id = new_campaign(["AGAIN-001", "AGAIN-002"], per_customer_limit=2)
    who = claims.Claimant(customer_id(m, email), email, None, False)

    def deliver() -> claims.ClaimRecord:
        campaign = campaigns.get(table, m, campaign_id)
        stamp = datetime.now(UTC).isoformat()
        return claims.assign(table, campaign, who, now=stamp, day="2026-11-23", message_id="msg_send_x")

    first = deliver()
    assert first.new and first.code
    redeem(merchant_api, campaign_id, first.code, "O-1")
    again = deliver()
    assert (again.new, again.message_id, again.code) == (False, "msg_send_x", first.code)
    assert campaigns.count_available(table, m, campaign_id) == 1


def test_a_claim_that_read_the_campaign_before_a_load_claims_without_marking_shards(
    merchant, table, new_campaign
):
    m, email = merchant[0], "stale@example.com"
    campaign_id = new_campaign(codes_in(2, 1, "STALE"))
    stale = campaigns.get(table, m, campaign_id)  # read before the load below
    campaigns.add_codes(table, m, campaign_id, codes_in(9, 1, "FRESH"), datetime.now(UTC).isoformat())
    who = claims.Claimant(customer_id(m, email), email, None, False)
    stamp = datetime.now(UTC).isoformat()
    record = claims.assign(table, stale, who, now=stamp, day="2026-11-23", message_id="msg_stale")
    # Its marks (the shards it found empty, the one whose last code it took) were refused with the
    # stale pool version, and the claim was made without them.
    assert record.new and record.code
    assert campaigns.get(table, m, campaign_id).empty_shards == frozenset()
    assert campaigns.count_available(table, m, campaign_id) == 1


def test_a_returned_code_clears_its_shards_empty_mark_in_the_same_transaction(
    merchant, table, new_campaign, claim, monkeypatch
):
    """The code, its pool counter and the campaign's mark and version move in one transaction:
    no failure between two writes can leave a code behind a mark that makes claims skip it (the
    fault drills found one when the bump was a write of its own)."""

    m = merchant[0]
    shard = 9
    campaign_id = new_campaign(codes_in(shard, 1, "BUMP"))
    assert claim(campaign_id, "holder@example.com")["statusCode"] == 201
    assert body_of(claim(campaign_id, "late@example.com"))["reason"] == "pool_empty"  # all shards marked
    held = claims.get(table, m, customer_id(m, "holder@example.com"), campaign_id)
    assert held is not None
    stored = table.get(keys.claim(m, held.customer_id, campaign_id))
    version = campaigns.get(table, m, campaign_id).pool_version

    def no_separate_write(*_: Any, **__: Any) -> int:
        raise AssertionError("the pool bump is part of the return's transaction")

    monkeypatch.setattr(campaigns, "pool_refilled", no_separate_write)
    assert claim_progress.return_code(
        table, stored, ClaimStatus.EXPIRED, at="2026-11-23T00:00:00+00:00", reason="t"
    )
    after = campaigns.get(table, m, campaign_id)
    assert shard not in after.empty_shards and after.pool_version == version + 1
    assert claim(campaign_id, "next@example.com")["statusCode"] == 201


def _assignments(m: str, emails: list[str], prefix: str) -> list[claims.Assignment]:
    return [
        claims.Assignment(
            claims.Claimant(customer_id(m, e), e, None, False, interacted=False), f"msg_{prefix}_{i:03d}"
        )
        for i, e in enumerate(emails)
    ]


def test_assigning_a_send_chunk_in_bulk_gives_distinct_codes_and_moves_each_counter_once_per_group(
    merchant, table, new_campaign
):
    """Given a pool of 60 codes and a chunk of 45 recipients, when the chunk is assigned in bulk,
    then everyone gets their own code and message, the counters stay exact, and the groups'
    transactions are all the writes (no per-recipient counter updates)."""
    m = merchant[0]
    campaign_id = new_campaign([f"BULK-{i:03d}" for i in range(60)])
    campaign = campaigns.get(table, m, campaign_id)
    wanted = _assignments(m, [f"bulk{i}@example.com" for i in range(45)], "bulk")
    writes: Counter[str] = Counter()
    operations = ("TransactWriteItems", "UpdateItem", "PutItem", "BatchWriteItem", "DeleteItem")

    def count(event_name: str, **_: Any) -> None:
        writes[event_name.rsplit(".", 1)[-1]] += 1

    client = dynamodb.client()
    for operation in operations:
        client.meta.events.register(f"provide-client-params.dynamodb.{operation}", count)
    try:
        records = claims.assign_many(
            table, campaign, wanted, now=datetime.now(UTC).isoformat(), day="2026-11-23", outbox=False
        )
    finally:
        for operation in operations:
            client.meta.events.unregister(f"provide-client-params.dynamodb.{operation}", count)

    assert [r.new for r in records] == [True] * 45
    assert len({r.code for r in records}) == 45
    assert [r.message_id for r in records] == [a.message_id for a in wanted]
    # one transaction per group of 20 (20 + 20 + 5), then each code's registry and each message
    assert writes == {"TransactWriteItems": 3, "UpdateItem": 45, "PutItem": 45}
    for a, r in zip(wanted, records, strict=True):
        registry = table.get(keys.code_registry(m, campaign_id, str(r.code)))
        assert registry is not None and (registry["state"], registry["customer_id"]) == (
            "assigned",
            a.who.customer_id,
        )
    assert campaigns.count_available(table, m, campaign_id) == codes_in_pool(table, m, campaign_id) == 15
    message = table.get(keys.message(m, wanted[0].who.customer_id, wanted[0].message_id))
    assert message is not None and message["code"] == records[0].code and "gsi3pk" not in message


def test_a_bulk_group_with_a_customer_who_holds_a_code_falls_back_to_one_by_one(
    merchant, table, new_campaign
):
    """A redelivered chunk, or a customer who claimed on the storefront before the send: their
    group's transaction is refused as a whole, and one by one gives them their existing claim and
    the others their new codes."""
    m = merchant[0]
    campaign_id = new_campaign([f"BACK-{i:03d}" for i in range(10)])
    emails = [f"back{i}@example.com" for i in range(4)]
    first = claims.assign_many(
        table,
        campaigns.get(table, m, campaign_id),
        _assignments(m, emails[:1], "early"),
        now=datetime.now(UTC).isoformat(),
        day="2026-11-23",
    )
    records = claims.assign_many(
        table,
        campaigns.get(table, m, campaign_id),
        _assignments(m, emails, "send"),
        now=datetime.now(UTC).isoformat(),
        day="2026-11-23",
    )
    assert (records[0].new, records[0].code, records[0].message_id) == (False, first[0].code, "msg_early_000")
    assert [r.new for r in records[1:]] == [True, True, True]
    assert len({r.code for r in records}) == 4
    assert campaigns.count_available(table, m, campaign_id) == codes_in_pool(table, m, campaign_id) == 6


def test_a_bulk_group_the_pool_cannot_fill_gives_what_is_left_and_says_pool_empty(
    merchant, table, new_campaign
):
    m = merchant[0]
    campaign_id = new_campaign(["LAST-1", "LAST-2", "LAST-3"])
    records = claims.assign_many(
        table,
        campaigns.get(table, m, campaign_id),
        _assignments(m, [f"late{i}@example.com" for i in range(5)], "late"),
        now=datetime.now(UTC).isoformat(),
        day="2026-11-23",
    )
    assert Counter(str(r.status) for r in records) == {"claimed": 3, "out_of_coupons": 2}
    assert {str(r.reason) for r in records if r.reason} == {"pool_empty"}
    assert campaigns.count_available(table, m, campaign_id) == codes_in_pool(table, m, campaign_id) == 0


def test_a_bulk_group_whose_transaction_meets_a_conflict_goes_one_by_one(
    merchant, table, new_campaign, monkeypatch
):
    """DynamoDB cancels a transaction that meets another one on an item (a storefront claim on the
    same pool counter); the group is then assigned one by one rather than failing the chunk."""
    m = merchant[0]
    campaign_id = new_campaign([f"CONF-{i:03d}" for i in range(10)])
    real = Table.transact

    def busy(self: Table, actions: list[Any]) -> None:
        if len(actions) > 8:  # the group's transaction, not the one-by-one claims
            raise RetryableError("transaction conflict: ['TransactionConflict']")
        real(self, actions)

    monkeypatch.setattr(Table, "transact", busy)
    records = claims.assign_many(
        table,
        campaigns.get(table, m, campaign_id),
        _assignments(m, [f"conf{i}@example.com" for i in range(4)], "conf"),
        now=datetime.now(UTC).isoformat(),
        day="2026-11-23",
    )
    assert [r.new for r in records] == [True] * 4 and len({r.code for r in records}) == 4
    assert campaigns.count_available(table, m, campaign_id) == codes_in_pool(table, m, campaign_id) == 6


def test_a_late_message_put_of_a_bulk_group_never_resets_a_message_that_moved_on(
    merchant, table, new_campaign
):
    """Two copies of one chunk at once: the other copy put the message back and the mailer sent it;
    this copy's late put must leave it as it is (sent, with SES's id), or it would go out again."""
    m = merchant[0]
    campaign_id = new_campaign(["LATE-1", "LATE-2"])
    (wanted,) = _assignments(m, ["late-put@example.com"], "late")
    key = keys.message(m, wanted.who.customer_id, wanted.message_id)
    table.put({**key, "message_id": wanted.message_id, "status": "sent", "ses_message_id": "ses-1"})
    (record,) = claims.assign_many(
        table,
        campaigns.get(table, m, campaign_id),
        [wanted],
        now=datetime.now(UTC).isoformat(),
        day="2026-11-23",
    )
    assert record.new
    stored = table.get(key)
    assert stored is not None and (stored["status"], stored["ses_message_id"]) == ("sent", "ses-1")


def test_a_retried_group_never_names_the_holder_of_a_code_released_since(merchant, table, new_campaign):
    """A chunk retried after its email bounced and the code went back to the pool: writing the
    group's registry again must not name the old holder of a code anyone may take now."""
    m = merchant[0]
    campaign_id = new_campaign(["BACK-TO-POOL"])
    campaign = campaigns.get(table, m, campaign_id)
    (wanted,) = _assignments(m, ["bounced-later@example.com"], "back")
    (record,) = claims.assign_many(
        table, campaign, [wanted], now=datetime.now(UTC).isoformat(), day="2026-11-23", outbox=False
    )
    claim = table.get(keys.claim(m, wanted.who.customer_id, campaign_id))
    assert claim is not None
    returned = claim_progress.return_code(
        table, claim, ClaimStatus.RELEASED, at=datetime.now(UTC).isoformat(), reason="bounced"
    )
    assert returned

    claims.restore_after_group(table, campaign, wanted.who, record)  # the retry's stale record

    registry = table.get(keys.code_registry(m, campaign_id, "BACK-TO-POOL"))
    assert registry is not None and registry["state"] == "available" and "customer_id" not in registry
    assert campaigns.count_available(table, m, campaign_id) == codes_in_pool(table, m, campaign_id) == 1
