"""The mailer against moto's server: bulk calls, per-recipient headers and tags, pacing under the
account's sending rate shared by concurrent mailers, throttling, and at-most-once on redelivery."""

from __future__ import annotations

import json
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import Parser
from types import ModuleType
from typing import Any

import pytest
from couponflow.adapters import dynamodb, ses
from couponflow.adapters.dynamodb import Table
from couponflow.domain.campaign import Campaign
from couponflow.domain.message_status import RANK, MessageStatus
from couponflow.domain.send_pacing import throttle_backoff
from couponflow.errors import RetryableError
from couponflow.ids import customer_id
from couponflow.services import mailer as mailer_service
from couponflow.services.mailer import Mailer, MailJob
from couponflow.services.send_pacing import PacingTimeout, SendPacer
from couponflow.store import campaign_stats, campaigns, keys, messages, send_budget
from local_stack import moto_patches
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from tests.integration.helpers import answer_lost_then_sent_again, sqs_event

NOW = "2026-11-22T10:00:00+00:00"


@pytest.fixture()
def table(stack: Any) -> Table:
    return Table(stack.physical["CouponflowTable"])


@pytest.fixture()
def send_rate() -> Iterator[Callable[[float], None]]:
    """Set the account's MaxSendRate that moto's GetAccount answers (and forget the cached one)."""
    before = dict(moto_patches.SEND_QUOTA)

    def set_rate(rate: float) -> None:
        moto_patches.SEND_QUOTA["MaxSendRate"] = rate
        ses.forget_send_quota()

    yield set_rate
    moto_patches.SEND_QUOTA.clear()
    moto_patches.SEND_QUOTA.update(before)
    moto_patches.throttle_next_sends(0)
    ses.forget_send_quota()


@pytest.fixture()
def bulk_calls() -> Iterator[list[dict[str, Any]]]:
    """Every SendBulkEmail request the core package makes, as sent."""
    seen: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        seen.append(params)

    events = ses.sending_client().meta.events
    events.register("provide-client-params.sesv2.SendBulkEmail", record)
    yield seen
    events.unregister("provide-client-params.sesv2.SendBulkEmail", record)


@pytest.fixture()
def queued(table: Table, merchant: tuple[str, str]) -> Callable[[int, str], list[dict[str, str]]]:
    """``n`` queued coupon messages of one new campaign, as the claim transaction writes them."""

    def make(n: int, label: str) -> list[dict[str, str]]:
        m = merchant[0]
        campaign = Campaign(
            merchant_id=m,
            campaign_id=f"cmp_{label}",
            name="Winter sale",
            subject="Your {{campaign}} code, {{name}}",
            channel="email",
            store_url="https://shop.example.com/winter",
        )
        campaigns.create(table, campaign, NOW)
        jobs, items = [], []
        for i in range(n):
            email = f"success+{label}{i}@simulator.amazonses.com"
            cus, msg = customer_id(m, email), f"msg_{label}{i}"
            items.append({**keys.customer(m, cus), "type": "customer", "customer_id": cus, "name": f"Ann{i}"})
            items.append(
                {
                    **keys.message(m, cus, msg),
                    "type": "message",
                    "merchant_id": m,
                    "customer_id": cus,
                    "campaign_id": campaign.campaign_id,
                    "message_id": msg,
                    "channel": "email",
                    "recipient": email,
                    "code": f"{label.upper()}-{i:04d}",
                    "status": str(MessageStatus.QUEUED),
                    "status_rank": RANK[MessageStatus.QUEUED],
                    "status_at": NOW,
                    "created_at": NOW,
                    **keys.outbox_index(m, cus, msg, NOW),
                }
            )
            jobs.append({"merchant_id": m, "customer_id": cus, "message_id": msg})
        table.batch_put(items)
        return jobs

    return make


def raw_sent(ses_ids: set[str]) -> dict[str, str]:
    return {
        m.id: m.raw_data
        for m in ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
        if m.id in ses_ids and hasattr(m, "raw_data")
    }


def stored(table: Table, job: dict[str, str]) -> dict[str, Any]:
    item = table.get(keys.message(job["merchant_id"], job["customer_id"], job["message_id"]))
    assert item is not None
    return item


def test_a_batch_of_60_jobs_goes_out_in_two_bulk_calls_each_recipient_with_its_own_unsubscribe_and_tags(
    table, queued, send_rate, bulk_calls, load_handler: Callable[[str], ModuleType], lambda_context
) -> None:
    send_rate(200)  # one second allows more than SES's 50 entries per call
    jobs = queued(60, "bulk")
    mailer = load_handler("MailerFunction")

    result = mailer.lambda_handler(sqs_event([json.dumps(j) for j in jobs]), lambda_context)

    assert result == {"batchItemFailures": []}
    assert [len(c["BulkEmailEntries"]) for c in bulk_calls] == [50, 10]  # ceil(60 / 50) calls
    assert len(bulk_calls) == math.ceil(len(jobs) / 50)
    assert all(c["ConfigurationSetName"].endswith("-coupons") for c in bulk_calls)
    entries = [e for c in bulk_calls for e in c["BulkEmailEntries"]]
    items = [stored(table, j) for j in jobs]
    assert all(i["status"] == "sent" and i["ses_message_id"] for i in items)
    raws = raw_sent({i["ses_message_id"] for i in items})
    assert len(raws) == 60
    for job, item, entry in zip(jobs, items, entries, strict=True):
        tags = {t["Name"]: t["Value"] for t in entry["ReplacementTags"]}
        assert tags == {
            "merchant": job["merchant_id"],
            "campaign": "cmp_bulk",
            "customer": job["customer_id"],
            "message": job["message_id"],
        }
        assert entry["Destination"]["ToAddresses"] == [item["recipient"]]
        email = Parser(policy=policy.default).parsestr(raws[item["ses_message_id"]])
        unsubscribe = str(email["List-Unsubscribe"])
        assert job["customer_id"] in unsubscribe or "unsubscribe" in unsubscribe
        assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert email["To"] == item["recipient"]
        assert str(email["Subject"]).startswith("Your Winter sale code, Ann")
        assert item["code"] in raws[item["ses_message_id"]]
    assert (
        len({str(Parser(policy=policy.default).parsestr(r)["List-Unsubscribe"]) for r in raws.values()}) == 60
    )
    assert campaign_stats.counts(table, jobs[0]["merchant_id"], "cmp_bulk")["sent"] == 60  # each once


def test_a_fan_out_job_of_many_messages_is_one_record_and_its_messages_one_bulk_call(
    table, queued, send_rate, bulk_calls, load_handler, lambda_context
) -> None:
    send_rate(200)
    jobs = queued(30, "multi")
    merchant_id = jobs[0]["merchant_id"]
    bundle = {
        "merchant_id": merchant_id,
        "messages": [{k: j[k] for k in ("customer_id", "message_id")} for j in jobs],
    }
    mailer = load_handler("MailerFunction")
    assert mailer.lambda_handler(sqs_event([json.dumps(bundle)]), lambda_context) == {"batchItemFailures": []}
    assert [len(c["BulkEmailEntries"]) for c in bulk_calls] == [30]
    assert all(stored(table, j)["status"] == "sent" for j in jobs)


def test_the_bulk_size_follows_the_account_rate_when_it_is_below_50(
    table, queued, send_rate, bulk_calls, load_handler, lambda_context
) -> None:
    send_rate(14)  # SES's default sending rate out of the sandbox
    jobs = queued(20, "rate14")
    mailer = load_handler("MailerFunction")
    assert mailer.lambda_handler(sqs_event([json.dumps(j) for j in jobs]), lambda_context) == {
        "batchItemFailures": []
    }
    assert [len(c["BulkEmailEntries"]) for c in bulk_calls] == [14, 6]


def test_throttling_is_retried_with_backoff_then_the_records_go_back_to_the_queue_and_send_later(
    table, queued, send_rate, bulk_calls, load_handler, lambda_context
) -> None:
    send_rate(200)
    jobs = queued(3, "throttle")
    mailer = load_handler("MailerFunction")
    waits: list[float] = []
    mailer.mailer.sleep = waits.append  # record the backoff instead of sleeping it
    event = sqs_event([json.dumps(j) for j in jobs])
    moto_patches.throttle_next_sends(100)  # SES says "Maximum sending rate exceeded" every time

    result = mailer.lambda_handler(event, lambda_context)

    assert result == {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]]}
    assert len(bulk_calls) == 1 + mailer.mailer.throttle_retries  # the call and its retries
    # full jitter under a doubling bound (domain.send_pacing.throttle_backoff)
    assert len(waits) == mailer.mailer.throttle_retries
    assert all(0 <= w <= throttle_backoff(n) for n, w in enumerate(waits, start=1))
    for job in jobs:  # not lost, not failed: still queued, and the lease given back
        item = stored(table, job)
        assert item["status"] == "queued" and "ses_message_id" not in item and "lease_until" not in item
        assert "lease_owner" not in item

    moto_patches.throttle_next_sends(1)  # the queue brings the records back; one more throttle, then room
    again = mailer.lambda_handler(event, lambda_context)
    assert again == {"batchItemFailures": []}
    assert all(stored(table, j)["status"] == "sent" for j in jobs)


def test_a_redelivered_job_is_not_sent_again_and_a_leased_message_waits_for_its_holder(
    table, queued, send_rate, bulk_calls, load_handler, lambda_context
) -> None:
    send_rate(200)
    jobs = queued(2, "once")
    mailer = load_handler("MailerFunction")
    held = jobs[1]
    leased = messages.take_send_lease(
        table,
        keys.message(held["merchant_id"], held["customer_id"], held["message_id"]),
        now_epoch=int(time.time()),
        lease_seconds=60,
        owner="another-invocation",
    )
    assert leased  # another invocation is sending it right now

    event = sqs_event([json.dumps(j) for j in jobs])
    first = mailer.lambda_handler(event, lambda_context)
    assert first == {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["messageId"]}]}
    ses_id = stored(table, jobs[0])["ses_message_id"]
    redelivered = mailer.lambda_handler(sqs_event([json.dumps(jobs[0])] * 2), lambda_context)
    assert redelivered == {"batchItemFailures": []}
    assert stored(table, jobs[0])["ses_message_id"] == ses_id
    assert [len(c["BulkEmailEntries"]) for c in bulk_calls] == [1]  # one email, once
    assert stored(table, held)["status"] == "queued" and "ses_message_id" not in stored(table, held)


def test_a_lease_taken_whose_answer_was_lost_is_still_ours_when_the_sdk_sends_the_write_again(
    table, queued, send_rate, bulk_calls, load_handler, lambda_context
) -> None:
    """Given DynamoDB takes a claim email's send lease but its answer is lost, so botocore sends
    the same conditional write again, when the mailer runs, then the retry finds the lease its own
    and the email goes out now (read as another's, it would wait out the lease and end of unknown
    hand-off, never sent)."""
    send_rate(200)
    [job] = queued(1, "lostlease")
    mailer = load_handler("MailerFunction")

    def takes_a_lease(body: str) -> bool:
        return "lease_owner" in body and "attribute_not_exists(handoff)" in body

    with answer_lost_then_sent_again(dynamodb.client(), "UpdateItem", takes_a_lease) as lost:
        result = mailer.lambda_handler(sqs_event([json.dumps(job)]), lambda_context)

    assert lost == [1]  # the lease write took effect and was sent again
    assert result == {"batchItemFailures": []}
    assert stored(table, job)["status"] == "sent"
    assert [len(c["BulkEmailEntries"]) for c in bulk_calls] == [1]


def test_a_lease_that_lapsed_is_never_taken_over_its_message_is_marked_of_unknown_outcome(
    table, queued, send_rate, bulk_calls, load_handler, lambda_context
) -> None:
    """Given a mailer that leased a message and died (it may have reached SES), when SQS brings
    the job back after the lease lapsed, then the message is not sent again: its hand-off is
    recorded as unknown, on the sweep index that settles it, and the record is acknowledged."""
    send_rate(200)
    [job] = queued(1, "lapsed")
    key = keys.message(job["merchant_id"], job["customer_id"], job["message_id"])
    assert messages.take_send_lease(
        table, key, now_epoch=int(time.time()) - 600, lease_seconds=120, owner="a-mailer-that-died"
    )
    mailer = load_handler("MailerFunction")
    assert mailer.lambda_handler(sqs_event([json.dumps(job)]), lambda_context) == {"batchItemFailures": []}
    assert bulk_calls == []
    item = stored(table, job)
    assert item["status"] == "queued" and item["handoff"] == "unknown" and "lease_until" not in item
    assert "lease_owner" not in item
    assert item["gsi3pk"].startswith("UNKNOWN#")
    assert "ended without recording" in item["handoff_reason"]


def test_messages_ses_accepted_but_not_recorded_are_never_given_back_nor_sent_again(
    table, queued, send_rate, bulk_calls, load_handler, lambda_context, monkeypatch
) -> None:
    send_rate(200)
    jobs = queued(3, "unrecorded")
    mailer = load_handler("MailerFunction")

    def table_unavailable(*_: Any, **__: Any) -> None:
        raise RetryableError("DynamoDB throttled the hand-off")

    recorded = messages.record_sent
    monkeypatch.setattr(messages, "record_sent", table_unavailable)
    event = sqs_event([json.dumps(j) for j in jobs])
    # the hand-off is tried a few times, then the records come back; their leases are kept
    assert len(mailer.lambda_handler(event, lambda_context)["batchItemFailures"]) == 3
    monkeypatch.setattr(messages, "record_sent", recorded)
    redelivered = mailer.lambda_handler(event, lambda_context)  # back within the lease: they wait
    assert len(redelivered["batchItemFailures"]) == 3
    assert all("lease_until" in stored(table, j) for j in jobs)
    later = datetime.now(UTC) + timedelta(seconds=mailer_service.SEND_LEASE_SECONDS + 60)
    outcomes = mailer.mailer.deliver_batch([MailJob.model_validate(j) for j in jobs], now=later)
    assert [o.outcomes for o in outcomes] == [["outcome_unknown"]] * 3  # the lease lapsed: unknown
    assert [len(c["BulkEmailEntries"]) for c in bulk_calls] == [3]  # sent once, never again
    assert all(stored(table, j)["handoff"] == "unknown" for j in jobs)  # until SES's events say


def test_two_concurrent_mailers_never_reserve_more_than_the_shared_per_second_budget(
    stack, table, queued, send_rate, bulk_calls
) -> None:
    send_rate(5)
    batches = [queued(6, "paceA"), queued(6, "paceB")]
    reservations: list[tuple[int, int]] = []
    lock = threading.Lock()

    class CountingPacer(SendPacer):
        def acquire(self, count: int, *, deadline: float, segment_send: bool = False) -> int:
            second = super().acquire(count, deadline=deadline, segment_send=segment_send)
            with lock:
                reservations.append((second, count))
            return second

    def run(jobs: list[dict[str, str]]) -> None:
        mailer = Mailer(
            table=table,
            sender="coupons@example.com",
            configuration_set=stack.physical["SesConfigurationSet"],
            public_base_url="https://api.example.com/v1",
            link_secret="s" * 32,
            pacer=CountingPacer(table),
        )
        results = mailer.deliver_batch([MailJob.model_validate(j) for j in jobs])
        assert all(r.error is None for r in results)

    threads = [threading.Thread(target=run, args=(b,)) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    per_second: Counter[int] = Counter()
    for second, count in reservations:
        per_second[second] += count
    assert sum(per_second.values()) == 12 == sum(len(c["BulkEmailEntries"]) for c in bulk_calls)
    assert max(per_second.values()) <= 5  # never more than one second's budget, across both mailers
    assert len(per_second) >= 3  # 12 sends at 5 a second need at least three seconds
    for second, count in per_second.items():  # the shared counters agree with what was reserved
        assert count <= send_budget.used(table, second) <= 5
    assert all(stored(table, j)["status"] == "sent" for b in batches for j in b)


def test_a_segment_send_filling_every_second_leaves_a_claims_email_room_in_the_same_second(
    table, send_rate
) -> None:
    send_rate(10)
    clock = [1_900_000_000.2]
    pacer = SendPacer(table, clock=lambda: clock[0], sleep=lambda s: clock.__setitem__(0, clock[0] + s))
    second = pacer.acquire(9, deadline=clock[0] + 0.5, segment_send=True)  # the send's share: 9 of 10
    with pytest.raises(PacingTimeout):  # no more for the send this second
        pacer.acquire(1, deadline=clock[0] + 0.5, segment_send=True)
    assert pacer.acquire(1, deadline=clock[0] + 0.5) == second  # a claim's email still goes now
    assert send_budget.used(table, second) == 10  # and the second holds no more than SES allows


def test_an_entry_ses_refuses_for_good_fails_its_own_message_and_the_others_are_sent(
    table, queued, send_rate, bulk_calls, load_handler, lambda_context
) -> None:
    send_rate(200)
    jobs = queued(3, "refused")
    bad = jobs[1]
    table.update(
        keys.message(bad["merchant_id"], bad["customer_id"], bad["message_id"]),
        "SET recipient = :r",
        values={":r": "no-at-sign"},  # SES answers this entry INVALID_PARAMETER
    )
    mailer = load_handler("MailerFunction")
    result = mailer.lambda_handler(sqs_event([json.dumps(j) for j in jobs]), lambda_context)

    assert result == {"batchItemFailures": []}  # a permanent refusal is not retried
    assert [len(c["BulkEmailEntries"]) for c in bulk_calls] == [3]  # one call for the three
    assert [stored(table, j)["status"] for j in jobs] == ["sent", "failed", "sent"]
    assert stored(table, bad)["status_details"]["reason"].startswith("INVALID_PARAMETER")


def test_a_message_named_twice_in_one_batch_is_sent_once_and_both_records_are_done(
    table, queued, send_rate, bulk_calls, load_handler, lambda_context
) -> None:
    send_rate(200)
    [job] = queued(1, "twice")
    mailer = load_handler("MailerFunction")
    result = mailer.lambda_handler(sqs_event([json.dumps(job)] * 2), lambda_context)
    assert result == {"batchItemFailures": []}
    assert [len(c["BulkEmailEntries"]) for c in bulk_calls] == [1]
    assert stored(table, job)["status"] == "sent"


def test_a_mailer_never_gives_back_a_lease_another_invocation_holds(
    table, queued, send_rate, bulk_calls, load_handler, lambda_context, monkeypatch
) -> None:
    """Given a message leased by another invocation (sending it right now), when this mailer meets
    it while its own pacing fails, then the other invocation's lease stays, and a give-back by
    anyone but its owner changes nothing: it would let a third mailer send the message again."""
    from couponflow.services import send_pacing

    send_rate(200)
    [job] = queued(1, "others")
    key = keys.message(job["merchant_id"], job["customer_id"], job["message_id"])
    mailer = load_handler("MailerFunction")
    assert messages.take_send_lease(
        table, key, now_epoch=int(time.time()), lease_seconds=120, owner="another-invocation"
    )

    def no_budget(*_: Any, **__: Any) -> int:
        raise send_pacing.PacingTimeout("no room in the SES budget")

    monkeypatch.setattr(mailer.mailer._pacer, "acquire", no_budget)
    assert mailer.lambda_handler(sqs_event([json.dumps(job)]), lambda_context)["batchItemFailures"]
    assert stored(table, job)["lease_owner"] == "another-invocation"
    messages.release_lease(table, key, owner="this-invocation")  # not its lease: nothing happens
    assert stored(table, job)["lease_owner"] == "another-invocation" and bulk_calls == []
