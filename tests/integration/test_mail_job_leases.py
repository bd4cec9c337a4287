"""At most once for a segment send's mail jobs, leased as a whole (``store/mail_jobs.py``): one
write per bulk call instead of one per message, with the same promise as a message's own lease:
a call whose outcome is unknown is never sent again, and nothing else is held back."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest
from couponflow.adapters import dynamodb, ses
from couponflow.adapters.dynamodb import Table
from couponflow.domain.campaign import Campaign
from couponflow.domain.message_status import RANK, MessageStatus
from couponflow.errors import RetryableError
from couponflow.ids import customer_id
from couponflow.services import mailer as mailer_service
from couponflow.services.mailer import MailJob
from couponflow.store import campaigns, keys, mail_jobs, messages
from local_stack import moto_patches
from pydantic import ValidationError

from tests.integration.helpers import answer_lost_then_sent_again, sqs_event

NOW = "2026-11-22T10:00:00+00:00"
SEND = "snd_leasetest"


@pytest.fixture()
def table(stack: Any) -> Table:
    return Table(stack.physical["CouponflowTable"])


@pytest.fixture(autouse=True)
def fast_account() -> Iterator[None]:
    before = dict(moto_patches.SEND_QUOTA)
    moto_patches.SEND_QUOTA["MaxSendRate"] = 200
    ses.forget_send_quota()
    yield
    moto_patches.SEND_QUOTA.clear()
    moto_patches.SEND_QUOTA.update(before)
    ses.forget_send_quota()


@pytest.fixture()
def bulk_calls() -> Iterator[list[dict[str, Any]]]:
    seen: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        seen.append(params)

    events = ses.sending_client().meta.events
    events.register("provide-client-params.sesv2.SendBulkEmail", record)
    yield seen
    events.unregister("provide-client-params.sesv2.SendBulkEmail", record)


@pytest.fixture()
def send_job(table: Table, merchant: tuple[str, str]) -> Callable[..., dict[str, Any]]:
    """A send's mail job of ``n`` queued messages, each named with the job as the fan-out does."""

    def make(n: int, label: str, mail_job: str = "0.0", named: str | None = None) -> dict[str, Any]:
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
        targets, items = [], []
        for i in range(n):
            email = f"success+{label}{i}@simulator.amazonses.com"
            cus, msg = customer_id(m, email), f"msg_{label}{i}"
            items.append(
                {
                    **keys.message(m, cus, msg),
                    "type": "message",
                    "merchant_id": m,
                    "customer_id": cus,
                    "campaign_id": campaign.campaign_id,
                    "send_id": SEND,
                    "mail_job": named or mail_job,
                    "message_id": msg,
                    "channel": "email",
                    "recipient": email,
                    "code": f"{label.upper()}-{i:04d}",
                    "status": str(MessageStatus.QUEUED),
                    "status_rank": RANK[MessageStatus.QUEUED],
                    "status_at": NOW,
                    "created_at": NOW,
                }
            )
            targets.append({"customer_id": cus, "message_id": msg})
        table.batch_put(items)
        return {"merchant_id": m, "send_id": SEND, "mail_job": mail_job, "messages": targets}

    return make


def message(table: Table, job: dict[str, Any], i: int) -> dict[str, Any]:
    t = job["messages"][i]
    item = table.get(keys.message(job["merchant_id"], t["customer_id"], t["message_id"]))
    assert item is not None
    return item


def lease(table: Table, job: dict[str, Any]) -> dict[str, Any]:
    item = table.get(keys.mail_job(job["merchant_id"], job["send_id"], job["mail_job"]))
    assert item is not None
    return item


def test_a_send_job_goes_out_under_one_lease_no_message_is_leased_on_its_own_and_the_lease_is_freed(
    table, send_job, bulk_calls, load_handler: Callable[[str], ModuleType], lambda_context, monkeypatch
) -> None:
    job = send_job(5, "whole")
    own_leases: list[Any] = []
    take = messages.take_send_lease
    monkeypatch.setattr(messages, "take_send_lease", lambda *a, **k: own_leases.append(a) or take(*a, **k))
    mailer = load_handler("MailerFunction")
    assert mailer.lambda_handler(sqs_event([json.dumps(job)]), lambda_context) == {"batchItemFailures": []}
    assert [len(c["BulkEmailEntries"]) for c in bulk_calls] == [5]
    assert all(message(table, job, i)["status"] == "sent" for i in range(5))
    assert own_leases == []
    held = lease(table, job)
    assert "lease_owner" not in held and held["in_call"] == []  # free for a duplicate of the job
    # the duplicate finds every message sent, and sends nothing
    assert mailer.lambda_handler(sqs_event([json.dumps(job)]), lambda_context) == {"batchItemFailures": []}
    assert len(bulk_calls) == 1


def test_a_job_whose_mailer_died_in_a_call_marks_that_call_unknown_and_sends_the_rest_once(
    table, send_job, bulk_calls, load_handler, lambda_context
) -> None:
    """Given a mailer that wrote a call of two messages on the job's lease and died (it may have
    reached SES), when the job comes back after the lease lapsed, then those two are of unknown
    hand-off, never sent, and the other three go out."""
    job = send_job(5, "died")
    key = keys.mail_job(job["merchant_id"], SEND, "0.0")
    past = int(time.time()) - 600
    assert mail_jobs.take(table, key, now_epoch=past, lease_seconds=120, owner="a-mailer-that-died") == []
    called = [t["message_id"] for t in job["messages"][:2]]
    assert mail_jobs.record_call(
        table, key, called, now_epoch=past, lease_seconds=120, owner="a-mailer-that-died"
    )
    mailer = load_handler("MailerFunction")
    assert mailer.lambda_handler(sqs_event([json.dumps(job)]), lambda_context) == {"batchItemFailures": []}
    assert [len(c["BulkEmailEntries"]) for c in bulk_calls] == [3]
    sent_to = {e["Destination"]["ToAddresses"][0] for e in bulk_calls[0]["BulkEmailEntries"]}
    assert sent_to == {message(table, job, i)["recipient"] for i in (2, 3, 4)}
    for i in (0, 1):
        item = message(table, job, i)
        assert item["status"] == "queued" and item["handoff"] == "unknown"
        assert "ended without recording" in item["handoff_reason"]
    assert "lease_owner" not in lease(table, job)


def test_a_job_lease_taken_whose_answer_was_lost_is_still_ours_and_keeps_what_the_last_holder_left(
    table, send_job, bulk_calls, load_handler, lambda_context
) -> None:
    """Given a job whose last holder died in a call, and a take of its lease that DynamoDB applied
    but whose answer was lost, so botocore sends it again, when the mailer runs, then the retry
    takes the lease, the dead holder's call comes back with it (marked unknown, never sent) and
    the rest goes out now rather than after the lease and the queue's timeout."""
    job = send_job(4, "lostjob")
    key = keys.mail_job(job["merchant_id"], SEND, "0.0")
    past = int(time.time()) - 600
    assert mail_jobs.take(table, key, now_epoch=past, lease_seconds=120, owner="a-mailer-that-died") == []
    called = [job["messages"][0]["message_id"]]
    assert mail_jobs.record_call(
        table, key, called, now_epoch=past, lease_seconds=120, owner="a-mailer-that-died"
    )
    mailer = load_handler("MailerFunction")

    def takes_the_job(body: str) -> bool:
        return "lease_owner" in body and "if_not_exists(expires_at" in body

    with answer_lost_then_sent_again(dynamodb.client(), "UpdateItem", takes_the_job) as lost:
        result = mailer.lambda_handler(sqs_event([json.dumps(job)]), lambda_context)

    assert lost == [1]
    assert result == {"batchItemFailures": []}
    assert [len(c["BulkEmailEntries"]) for c in bulk_calls] == [3]
    assert message(table, job, 0)["handoff"] == "unknown"
    assert all(message(table, job, i)["status"] == "sent" for i in (1, 2, 3))
    assert "lease_owner" not in lease(table, job)


def test_a_job_another_invocation_holds_comes_back_untouched(
    table, send_job, bulk_calls, load_handler, lambda_context
) -> None:
    job = send_job(3, "held")
    key = keys.mail_job(job["merchant_id"], SEND, "0.0")
    assert mail_jobs.take(table, key, now_epoch=int(time.time()), lease_seconds=120, owner="another") == []
    mailer = load_handler("MailerFunction")
    failures = mailer.lambda_handler(sqs_event([json.dumps(job)]), lambda_context)["batchItemFailures"]
    assert len(failures) == 1 and bulk_calls == []
    assert lease(table, job)["lease_owner"] == "another"
    assert all("handoff" not in message(table, job, i) for i in range(3))
    assert mail_jobs.take(table, key, now_epoch=int(time.time()), lease_seconds=120, owner="a-third") is None


def test_a_send_message_goes_out_with_its_own_job_only(
    table, send_job, bulk_calls, load_handler, lambda_context
) -> None:
    """Given a message the fan-out named with job 0.0 (a starter redelivered with other chunks
    could name it in another job too), when another job names it, then that job leaves it."""
    job = send_job(2, "other", mail_job="3.1", named="0.0")
    mailer = load_handler("MailerFunction")
    [result] = mailer.mailer.deliver_batch([MailJob.model_validate(job)])
    assert result.outcomes == ["another_job", "another_job"] and result.error is None
    assert bulk_calls == [] and message(table, job, 0)["status"] == "queued"


def test_a_call_ses_answered_with_an_error_is_forgotten_and_the_retry_sends_it(
    table, send_job, bulk_calls, load_handler, lambda_context, monkeypatch
) -> None:
    job = send_job(3, "refused")
    mailer = load_handler("MailerFunction")
    real = mailer_service.ses.send_bulk

    def unavailable(**_: Any) -> Any:
        raise RuntimeError("SES answered 500")

    monkeypatch.setattr(mailer_service.ses, "send_bulk", unavailable)
    assert len(mailer.lambda_handler(sqs_event([json.dumps(job)]), lambda_context)["batchItemFailures"]) == 1
    held = lease(table, job)
    assert held["in_call"] == [] and "lease_owner" not in held  # nothing in doubt: freed
    monkeypatch.setattr(mailer_service.ses, "send_bulk", real)
    assert mailer.lambda_handler(sqs_event([json.dumps(job)]), lambda_context) == {"batchItemFailures": []}
    assert [len(c["BulkEmailEntries"]) for c in bulk_calls] == [3]
    assert all(message(table, job, i)["status"] == "sent" for i in range(3))


def test_a_call_ses_took_but_that_was_not_recorded_keeps_the_lease_and_is_never_sent_again(
    table, send_job, bulk_calls, load_handler, lambda_context, monkeypatch
) -> None:
    job = send_job(3, "unrecorded")
    mailer = load_handler("MailerFunction")

    def table_unavailable(*_: Any, **__: Any) -> None:
        raise RetryableError("DynamoDB throttled the hand-off")

    recorded = messages.record_sent
    monkeypatch.setattr(messages, "record_sent", table_unavailable)
    event = sqs_event([json.dumps(job)])
    assert len(mailer.lambda_handler(event, lambda_context)["batchItemFailures"]) == 1
    monkeypatch.setattr(messages, "record_sent", recorded)
    held = lease(table, job)
    assert held["lease_owner"] and sorted(held["in_call"]) == sorted(t["message_id"] for t in job["messages"])
    assert len(mailer.lambda_handler(event, lambda_context)["batchItemFailures"]) == 1  # it waits
    later = datetime.now(UTC) + timedelta(seconds=mailer_service.SEND_LEASE_SECONDS + 60)
    [result] = mailer.mailer.deliver_batch([MailJob.model_validate(job)], now=later)
    assert result.outcomes == ["outcome_unknown"] * 3
    assert [len(c["BulkEmailEntries"]) for c in bulk_calls] == [3]  # sent once, never again


def test_a_mail_job_names_its_send_and_its_job_together_and_only_with_a_messages_list() -> None:
    base = {"merchant_id": "m1", "messages": [{"customer_id": "c", "message_id": "msg"}]}
    assert MailJob.model_validate({**base, "send_id": "snd_1", "mail_job": "12.1"}).lease_key() == {
        "pk": "M#m1#SEND#snd_1",
        "sk": "MAILJOB#12.1",
    }
    for wrong in (
        {**base, "send_id": "snd_1"},
        {**base, "mail_job": "0.0"},
        {**base, "send_id": "snd_1", "mail_job": "0-0"},
        {"merchant_id": "m1", "customer_id": "c", "message_id": "msg", "send_id": "snd_1", "mail_job": "0.0"},
    ):
        with pytest.raises(ValidationError):
            MailJob.model_validate(wrong)


def test_after_a_call_left_in_doubt_the_job_makes_no_other_call_so_the_lease_keeps_naming_it(
    table, send_job, bulk_calls, load_handler, lambda_context, monkeypatch
) -> None:
    """Given a job sent in calls of one (a slow account) whose first call SES took but that could
    not be recorded, then no other call is made in that run (a call's ids written on the lease
    would replace the ones in doubt), and once the lease lapses the first is of unknown
    hand-off and the other two go out."""
    moto_patches.SEND_QUOTA["MaxSendRate"] = 2  # a segment send's lane: one email a second
    ses.forget_send_quota()
    job = send_job(3, "doubt")
    mailer = load_handler("MailerFunction")
    recorded, first_id = messages.record_sent, job["messages"][0]["message_id"]

    def first_call_unrecorded(table: Table, handed: list[tuple[dict[str, Any], str]], **kwargs: Any) -> None:
        if any(item["message_id"] == first_id for item, _ in handed):
            raise RetryableError("DynamoDB throttled the hand-off")
        recorded(table, handed, **kwargs)

    monkeypatch.setattr(messages, "record_sent", first_call_unrecorded)
    [first] = mailer.mailer.deliver_batch([MailJob.model_validate(job)])
    assert first.error is not None and [len(c["BulkEmailEntries"]) for c in bulk_calls] == [1]
    assert lease(table, job)["in_call"] == [job["messages"][0]["message_id"]]
    later = datetime.now(UTC) + timedelta(seconds=mailer_service.SEND_LEASE_SECONDS + 60)
    [again] = mailer.mailer.deliver_batch([MailJob.model_validate(job)], now=later, deadline=time.time() + 60)
    monkeypatch.setattr(messages, "record_sent", recorded)
    assert again.outcomes == ["outcome_unknown", "sent", "sent"] and again.error is None
    assert [len(c["BulkEmailEntries"]) for c in bulk_calls] == [1, 1, 1]


def test_ids_in_doubt_that_cannot_be_marked_unknown_stay_named_and_the_job_makes_no_call(
    table, send_job, bulk_calls, load_handler, lambda_context, monkeypatch
) -> None:
    """Given a dead holder's call on the lease, when this run cannot mark those messages unknown
    (DynamoDB throttles), then it sends nothing of the job and leaves the ids named: a call of its
    own, or freeing the lease, would forget them, and a later run could send them twice."""
    job = send_job(3, "unmarked")
    key = keys.mail_job(job["merchant_id"], SEND, "0.0")
    past, doubt = int(time.time()) - 600, [job["messages"][0]["message_id"]]
    assert mail_jobs.take(table, key, now_epoch=past, lease_seconds=120, owner="dead") == []
    assert mail_jobs.record_call(table, key, doubt, now_epoch=past, lease_seconds=120, owner="dead")

    def throttled(*_: Any, **__: Any) -> bool:
        raise RetryableError("DynamoDB throttled the mark")

    marked = messages.mark_outcome_unknown
    monkeypatch.setattr(messages, "mark_outcome_unknown", throttled)
    mailer = load_handler("MailerFunction")
    [result] = mailer.mailer.deliver_batch([MailJob.model_validate(job)])
    assert result.error is not None and bulk_calls == []
    held = lease(table, job)
    assert held["in_call"] == doubt and held["lease_owner"] != "dead"  # kept, until it lapses
    monkeypatch.setattr(messages, "mark_outcome_unknown", marked)
    later = datetime.now(UTC) + timedelta(seconds=mailer_service.SEND_LEASE_SECONDS + 60)
    [again] = mailer.mailer.deliver_batch([MailJob.model_validate(job)], now=later)
    assert again.outcomes == ["outcome_unknown", "sent", "sent"]
    assert [len(c["BulkEmailEntries"]) for c in bulk_calls] == [2]
