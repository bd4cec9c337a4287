"""The mailer use case: turn queued coupon messages into emails handed to SES, at most once each.

The mailer takes a whole SQS batch of mail jobs (a job names one message, or up to 50 messages
of one segment send) and, a wave of about one bulk call's worth of jobs at a time:

1. reads the messages, then the suppressions and customer profiles of their recipients (two
   consistent batch reads): a message already sent or no longer queued is ``already_handled``;
2. drops suppressed or unsubscribed addresses before any SES call;
3. groups the rest by campaign (and segment send, whose subject and body win) and sends each
   group in SES ``SendBulkEmail`` calls of up to 50 entries (never more than one second of the
   account's sending rate), paced under ``MaxSendRate`` through a budget shared by every
   concurrent mailer (``SendPacer``), backing off when SES throttles anyway. Storefront claims'
   emails come on a queue of their own and a segment send leaves them a share of every second
   (``domain.send_pacing.lane_budget``), so they never wait behind a send;
4. applies each entry's verdict to its own message: ``sent`` (SES's id, the hand-off and the
   status in one transaction per call), ``failed`` for a permanent refusal, or a retry (the
   record goes back to the queue) for a transient one.

At most once, and why it holds (the send lease)
-----------------------------------------------
Right before a bulk call (after pacing) each of its messages is leased with a conditional
write: only a queued message with no SES id, no lease and no unknown hand-off can be leased.
A segment send's messages are leased by their job instead, one write per call rather than one
per message (``store/mail_jobs.py``; the fan-out names each message's job, and only that job
sends it): the invocation takes the job's lease *before* it reads the messages (so it sees all
a previous holder recorded), and writes each call's message ids on it before the call; a
previous holder that died leaves the ids of its last call there, and those still queued are
treated as below. From then on exactly one of these happens to the message:

- SES answers: the accepted ones are recorded ``sent`` (the lease goes with it); the ones SES
  refused, or a call SES answered with an error (throttling, a 5xx), give their leases back so
  the queue's retry can send them;
- SES's answer is lost (read timeout, connection reset: ``OutcomeUnknown``): the message is
  marked ``handoff: unknown`` and is never sent again;
- the mailer dies in between (a crash, Lambda's timeout): the lease stays (a job's lease naming
  the call's ids; it is freed only once every message of its last call is recorded). It lasts
  ``SEND_LEASE_SECONDS`` (2 minutes, more than the SES call's timeouts and the writes after
  it, less than the mail queue's 3-minute visibility timeout), so when SQS brings the job back
  the lease has lapsed, and the mailer marks the message ``handoff: unknown`` instead of
  sending it: the holder may have reached SES.

A message of unknown hand-off is settled by SES's own events, which find it by the message tags
the mailer set (merchant, customer, message), not by SES's id; if none comes within the
deadline (``UNKNOWN_OUTCOME_MINUTES``, 60 by default), housekeeping gives it the status
``unknown`` with the reason (``services/housekeeping/unknown_outcomes.py``). A late event still
moves it on. No path resends it: being ``unknown`` costs a merchant one email they cannot
vouch for; sending twice would cost a customer a duplicate coupon, and the promise.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from couponflow import retry
from couponflow.adapters import ses
from couponflow.adapters.dynamodb import Item, Table
from couponflow.domain.campaign import Campaign
from couponflow.domain.coupon_email import bulk_template, bulk_template_data, unsubscribe_headers
from couponflow.domain.message_status import MessageStatus
from couponflow.domain.send_pacing import chunks, throttle_backoff
from couponflow.errors import OutcomeUnknown, PermanentSendError, RetryableError
from couponflow.services.link_signer import LinkSigner
from couponflow.services.send_pacing import SendPacer
from couponflow.store import campaigns, keys, mail_jobs, messages

logger = logging.getLogger(__name__)

# See "At most once" above: longer than a bulk call can take (SES's connect and read timeouts and
# the writes that follow), shorter than the mail queue's visibility timeout (180 s).
SEND_LEASE_SECONDS = 120
# How often a write that settles a message (give a lease back, mark it unknown) is tried.
SETTLE_ATTEMPTS = 4
MAX_MESSAGES_PER_JOB = 50


class MailTarget(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    customer_id: str = Field(min_length=1, max_length=64)
    message_id: str = Field(min_length=1, max_length=64)


class MailJob(BaseModel):
    """One SQS record on the mail queue: one message, or up to 50 messages of one merchant."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    merchant_id: str = Field(min_length=1, max_length=64)
    customer_id: str | None = Field(default=None, min_length=1, max_length=64)
    message_id: str | None = Field(default=None, min_length=1, max_length=64)
    messages: list[MailTarget] = Field(default_factory=list, max_length=MAX_MESSAGES_PER_JOB)
    # a segment send's job: its send and its name there (``send_delivery.mail_job_of``), whose
    # lease covers the messages named with it (``store/mail_jobs.py``)
    send_id: str | None = Field(default=None, min_length=1, max_length=64)
    mail_job: str | None = Field(default=None, pattern=r"^\d{1,6}\.\d{1,3}$")

    @model_validator(mode="after")
    def _one_or_many(self) -> Self:
        single = self.customer_id is not None and self.message_id is not None
        if single == bool(self.messages) or (not single and (self.customer_id or self.message_id)):
            raise ValueError("a mail job names customer_id and message_id, or a non-empty messages list")
        if (self.send_id is None) != (self.mail_job is None) or (single and self.mail_job is not None):
            raise ValueError("a send's mail job names both send_id and mail_job, and a messages list")
        return self

    def lease_key(self) -> dict[str, str] | None:
        """The key of the job's own send lease; None for a job leased message by message."""
        if self.send_id is None or self.mail_job is None:
            return None
        return keys.mail_job(self.merchant_id, self.send_id, self.mail_job)

    def targets(self) -> list[MailTarget]:
        if self.customer_id is not None and self.message_id is not None:
            return [MailTarget(customer_id=self.customer_id, message_id=self.message_id)]
        return list(self.messages)


@dataclass
class _JobLease:
    """The send lease of one of a send's mail jobs in the batch (``store/mail_jobs.py``)."""

    key: dict[str, str]
    send_id: str
    mail_job: str
    held: bool = False
    in_doubt: frozenset[str] = frozenset()  # what its last holder was handing to SES, unrecorded
    unsettled: bool = False  # it names ids whose outcome is not all recorded (ours or a dead holder's)

    def covers(self, item: Item) -> bool:
        """Whether ``item`` is a message of this job (a message is only sent by its own job)."""
        return self.held and item.get("send_id") == self.send_id and item.get("mail_job") == self.mail_job


@dataclass
class _Pending:
    """One message of the batch on its way through the mailer."""

    job: int  # index of its job in the batch
    merchant_id: str
    target: MailTarget
    job_lease: _JobLease | None = None  # its job's lease, for a send's job
    item: Item | None = None
    customer: Item | None = None
    outcome: str | None = None
    error: Exception | None = None

    @property
    def key(self) -> dict[str, str]:
        return keys.message(self.merchant_id, self.target.customer_id, self.target.message_id)

    @property
    def by_job(self) -> bool:
        """Whether it goes out under its job's lease rather than a lease of its own."""
        return self.job_lease is not None and self.item is not None and bool(self.item.get("mail_job"))

    def done(self, outcome: str) -> None:
        self.outcome = outcome

    def fail(self, error: Exception) -> None:
        self.error = error


def _job_leases(jobs: Sequence[MailJob]) -> list[_JobLease | None]:
    """Each job's lease (a job named twice in the batch shares one); None for a job leased message
    by message."""
    shared: dict[tuple[str, str], _JobLease] = {}
    found: list[_JobLease | None] = []
    for job in jobs:
        key = job.lease_key()
        if key is None or job.send_id is None or job.mail_job is None:
            found.append(None)
        else:
            found.append(shared.setdefault((key["pk"], key["sk"]), _JobLease(key, job.send_id, job.mail_job)))
    return found


def _leases_of(pending: list[_Pending]) -> list[_JobLease]:
    """The job leases of ``pending``, each once."""
    return list({id(p.job_lease): p.job_lease for p in pending if p.job_lease is not None}.values())


def _by_job_lease(pending: list[_Pending]) -> list[tuple[_JobLease, list[_Pending]]]:
    """Those of ``pending`` that go out under their job's lease, grouped by it, in order."""
    groups: dict[int, tuple[_JobLease, list[_Pending]]] = {}
    for p in pending:
        if p.by_job and p.job_lease is not None:
            groups.setdefault(id(p.job_lease), (p.job_lease, []))[1].append(p)
    return list(groups.values())


def _retryable(error: Exception) -> RetryableError:
    return error if isinstance(error, RetryableError) else RetryableError(str(error))


@dataclass(frozen=True)
class JobResult:
    """What became of each message of one job; ``error`` set when the job must be retried."""

    outcomes: list[str]
    error: Exception | None = None


@dataclass
class Mailer:
    table: Table
    sender: str
    configuration_set: str
    public_base_url: str
    link_secret: str  # signs the coupon and unsubscribe links (Secrets Manager)
    ses_id_lookups: bool = False  # index SES's ids for identity notifications (``handoff_fields``)
    pacer: SendPacer | None = None
    throttle_retries: int = 3
    backoff: Callable[[int], float] = field(default=lambda attempt: retry.jitter(throttle_backoff(attempt)))
    sleep: Callable[[float], None] = time.sleep
    _pacer: SendPacer = field(init=False)
    _owner: str = field(init=False, default="")

    def __post_init__(self) -> None:
        self._pacer = self.pacer or SendPacer(self.table)

    # -- entry points ---------------------------------------------------------------------------

    def deliver(self, job: MailJob, now: datetime | None = None) -> str:
        """Send the message(s) of one job; returns what happened (for logs and tests)."""
        result = self.deliver_batch([job], now=now)[0]
        if result.error is not None:
            raise result.error
        return ",".join(result.outcomes)

    def deliver_batch(
        self, jobs: Sequence[MailJob], now: datetime | None = None, deadline: float | None = None
    ) -> list[JobResult]:
        """Send every message of ``jobs``; one result per job, in order.

        ``deadline`` (a ``time.time()`` value) is when pacing must give up waiting for budget;
        messages not sent by then are left for the queue to bring back.
        """
        now = now or datetime.now(UTC)
        deadline = deadline if deadline is not None else time.time() + 20
        self._owner = uuid.uuid4().hex  # this batch's leases: only it gives them back
        leases = _job_leases(jobs)
        pending = [
            _Pending(i, job.merchant_id, t, leases[i]) for i, job in enumerate(jobs) for t in job.targets()
        ]
        seen: set[tuple[str, str]] = set()
        for p in pending:  # a message named twice in one batch (a redelivered job) is sent once
            key = (p.key["pk"], p.key["sk"])
            if key in seen:
                p.done("duplicate")
            seen.add(key)
        for wave in self._waves(pending):
            if time.time() >= deadline:  # out of time: untouched, these go back to the queue
                for p in wave:
                    p.fail(RetryableError("the mailer ran out of time before this message"))
                continue
            try:
                self._take_job_leases(wave, now)
                self._read(wave, now)
                self._drop_unwanted(self._open(wave), now)
            except Exception as failure:  # nothing of this wave reached SES: all of it is retried
                for p in wave:
                    if p.outcome is None and p.error is None:
                        p.fail(_retryable(failure))
                continue
            self._send(self._open(wave), now, deadline)
        self._release_job_leases(pending)
        results = []
        for index in range(len(jobs)):
            mine = [p for p in pending if p.job == index]
            error = next((p.error for p in mine if p.error is not None), None)
            results.append(JobResult([p.outcome or "retry" for p in mine], error))
        return results

    # -- steps ----------------------------------------------------------------------------------

    @staticmethod
    def _open(pending: list[_Pending]) -> list[_Pending]:
        """The messages still to be sent: read, queued, not settled or failed yet."""
        return [p for p in pending if p.item is not None and p.outcome is None and p.error is None]

    @staticmethod
    def _waves(pending: list[_Pending]) -> list[list[_Pending]]:
        """Whole jobs in groups of about one bulk call's worth of messages, handled one after another
        (so a batch that runs out of time leaves whole jobs untouched for the queue to retry)."""
        waves: list[list[_Pending]] = []
        current: list[_Pending] = []
        for job in dict.fromkeys(p.job for p in pending):
            mine = [p for p in pending if p.job == job]
            if current and len(current) + len(mine) > MAX_MESSAGES_PER_JOB:
                waves.append(current)
                current = []
            current += mine
        if current:
            waves.append(current)
        return waves

    def _take_job_leases(self, wave: list[_Pending], now: datetime) -> None:
        """Take the lease of each send's mail job in the wave, before its messages are read (so the
        read sees all its last holder recorded); a job another invocation holds is retried."""
        for lease in _leases_of([p for p in wave if p.outcome is None]):
            if lease.held:  # a job named twice in the batch, taken in an earlier wave: never again,
                continue  # or the ids of our own call would come back as a dead holder's
            failure: Exception = RetryableError(f"mail job {lease.mail_job} is being sent elsewhere")
            try:
                previous = mail_jobs.take(
                    self.table,
                    lease.key,
                    now_epoch=int(now.timestamp()),
                    lease_seconds=SEND_LEASE_SECONDS,
                    owner=self._owner,
                )
            except RetryableError as error:  # taken or not, it lapses before the retry comes
                previous, failure = None, error
            if previous is None:
                for p in wave:
                    if p.job_lease is lease and p.outcome is None:
                        p.fail(failure)
                continue
            # ids in doubt stay named on the lease (no call, no release) until each is settled
            lease.held, lease.in_doubt, lease.unsettled = True, frozenset(previous), bool(previous)

    def _release_job_leases(self, pending: list[_Pending]) -> None:
        """Free the leases of jobs with nothing in doubt, for the job's retry or a duplicate of it; a
        lease naming a call whose outcome is not all recorded is kept until it lapses (the retry
        comes after that, and marks that call's messages unknown)."""
        for lease in _leases_of(pending):
            if lease.held and not lease.unsettled:
                with contextlib.suppress(RetryableError):
                    mail_jobs.release(self.table, lease.key, owner=self._owner)

    def _read(self, pending: list[_Pending], now: datetime) -> None:
        """Read the wave's messages; settle those that must not be sent (see "At most once")."""
        found = {
            (i["pk"], i["sk"]): i
            # (a message named twice in the batch was settled as a duplicate before the waves)
            for i in self.table.batch_get(
                [p.key for p in pending if p.outcome is None and p.error is None], consistent=True
            )
        }
        now_epoch = int(now.timestamp())
        for p in pending:
            if p.outcome is not None or p.error is not None:
                continue
            item = found.get((p.key["pk"], p.key["sk"]))
            if item is None:  # the customer was erased (services/privacy.py): nothing to send
                logger.warning(
                    "mail job for a message that no longer exists", extra={"message_id": p.target.message_id}
                )
                p.done("message_gone")
            elif (
                item.get("ses_message_id") or item.get("status", MessageStatus.QUEUED) != MessageStatus.QUEUED
            ):
                if item.get("status") == MessageStatus.DROPPED:  # finish a release a failure cut short
                    self._release(p, MessageStatus.DROPPED)
                p.done("already_handled")
            elif item.get("handoff") == "unknown":
                p.done("outcome_unknown")
            elif item.get("mail_job") and not (p.job_lease and p.job_lease.covers(item)):
                p.done("another_job")  # a send's message goes out with its own job only
            elif item.get("mail_job") and p.target.message_id in (
                p.job_lease.in_doubt if p.job_lease else ()
            ):
                why = "the invocation that held its mail job ended without recording SES's answer"
                self._unknown([p], now, why)
            elif "lease_until" in item and int(item["lease_until"]) >= now_epoch:
                p.fail(RetryableError(f"message {p.target.message_id} is being sent by another invocation"))
            elif "lease_until" in item:
                self._unknown(
                    [p], now, "the invocation that leased it for SES ended without recording SES's answer"
                )
            else:
                p.item = item
        for lease in _leases_of(pending):
            settled = {
                p.target.message_id
                for p in pending
                if p.job_lease is lease and p.outcome not in (None, "duplicate")  # a copy's is the first's
            }
            if lease.in_doubt and lease.in_doubt <= settled:
                lease.unsettled = False  # every id in doubt is sent, failed or marked unknown

    def _drop_unwanted(self, pending: list[_Pending], now: datetime) -> None:
        if not pending:
            return
        wanted: list[Item] = []
        for p in pending:
            assert p.item is not None
            wanted.append(keys.suppression(p.merchant_id, p.item["recipient"]))
            wanted.append(keys.customer(p.merchant_id, p.target.customer_id))
        unique = list({(k["pk"], k["sk"]): k for k in wanted}.values())
        found = {(i["pk"], i["sk"]): i for i in self.table.batch_get(unique)}
        stamp = now.isoformat()
        for p in pending:
            assert p.item is not None
            suppression_key = keys.suppression(p.merchant_id, p.item["recipient"])
            suppression = found.get((suppression_key["pk"], suppression_key["sk"]))
            customer_key = keys.customer(p.merchant_id, p.target.customer_id)
            p.customer = found.get((customer_key["pk"], customer_key["sk"])) or {}
            if suppression is not None:
                details = {"reason": "suppressed", "suppression_reason": suppression.get("reason")}
            elif p.customer.get("unsubscribed_at"):
                details = {"reason": "unsubscribed", "unsubscribed_at": p.customer["unsubscribed_at"]}
            else:
                continue
            messages.raise_status(self.table, p.key, MessageStatus.DROPPED, at=stamp, details=details)
            self._release(p, MessageStatus.DROPPED)
            p.done("dropped")

    def _release(self, p: _Pending, status: MessageStatus) -> None:
        # Only a dropped email gives its code back: the claims store (a third of the mailer's own
        # import) loads on that path alone, not at every cold start.
        from couponflow.services import release  # noqa: PLC0415

        release.release_if_undelivered(
            self.table, p.merchant_id, p.target.customer_id, p.target.message_id, status
        )

    def _send(self, pending: list[_Pending], now: datetime, deadline: float) -> None:
        groups: dict[tuple[str, str, str], list[_Pending]] = defaultdict(list)
        for p in pending:
            assert p.item is not None
            groups[(p.merchant_id, p.item["campaign_id"], p.item.get("send_id") or "")].append(p)
        links = LinkSigner(self.link_secret, self.public_base_url)
        for (merchant_id, campaign_id, send_id), members in groups.items():
            try:
                campaign = campaigns.get(self.table, merchant_id, campaign_id)
                subject, text_template = campaign.subject, campaign.text_template
                if send_id:  # a segment send's coupons: the send's own subject and body
                    send = self.table.get(keys.send(merchant_id, send_id), consistent=False) or {}
                    subject, text_template = send.get("subject") or subject, send.get("body") or text_template
                template = bulk_template(subject, campaign.html_template, text_template)
                size = self._pacer.bulk_size(segment_send=bool(send_id))
            except Exception as error:  # nothing leased yet: the group's messages are retried
                for p in members:
                    p.fail(_retryable(error))
                continue
            for start, stop in chunks(len(members), size):
                call = members[start:stop]
                entries = {id(p): self._entry(p, campaign, links) for p in call}
                self._send_call(call, template, entries, now, deadline, segment_send=bool(send_id))

    def _entry(self, p: _Pending, campaign: Campaign, links: LinkSigner) -> ses.BulkEntry:
        assert p.item is not None
        customer = p.customer or {}
        m, c = p.merchant_id, p.target.customer_id
        unsubscribe_url = links.unsubscribe_url(m, c, campaign.campaign_id)
        values = {
            "code": p.item["code"],
            "campaign": campaign.name,
            "name": customer.get("name") or "there",
            "email": p.item["recipient"],
            "coupon_url": links.coupon_url(m, c, campaign.campaign_id),
        }
        return ses.BulkEntry(
            recipient=p.item["recipient"],
            template_data=bulk_template_data(values, unsubscribe_url),
            headers=unsubscribe_headers(unsubscribe_url),
            tags={
                "merchant": m,
                "campaign": campaign.campaign_id,
                "customer": c,
                "message": p.target.message_id,
            },
        )

    def _lease(self, call: list[_Pending], now: datetime) -> list[_Pending]:
        """Lease the call's messages (see "At most once"); the ones leased, in order."""
        leased = set(map(id, self._lease_by_job(call, now)))
        for p in call:
            if p.by_job:
                continue
            try:
                taken = messages.take_send_lease(
                    self.table,
                    p.key,
                    now_epoch=int(now.timestamp()),
                    lease_seconds=SEND_LEASE_SECONDS,
                    owner=self._owner,
                )
            except RetryableError as error:  # the lease may have been written (a lost answer)
                self._give_back([p], error)
                continue
            if taken:
                leased.add(id(p))
            else:  # leased or settled meanwhile: the retry reads what it became
                p.fail(RetryableError(f"message {p.target.message_id} changed before its send"))
        return [p for p in call if id(p) in leased]

    def _lease_by_job(self, call: list[_Pending], now: datetime) -> list[_Pending]:
        """Write the call's messages on their job's lease, one write per job; the ones so leased."""
        leased: list[_Pending] = []
        for lease, members in _by_job_lease(call):
            if lease.unsettled:  # an earlier call of the job is in doubt: its ids must stay named
                for p in members:
                    p.fail(RetryableError(f"an earlier call of mail job {lease.mail_job} is in doubt"))
                continue
            lease.unsettled = True  # until SES's answer to the call is recorded, or the call forgotten
            try:
                held = mail_jobs.record_call(
                    self.table,
                    lease.key,
                    [p.target.message_id for p in members],
                    now_epoch=int(now.timestamp()),
                    lease_seconds=SEND_LEASE_SECONDS,
                    owner=self._owner,
                )
            except RetryableError as error:  # the ids may have been written: clear them again
                self._give_back(members, error)
                continue
            if held:
                leased += members
            else:  # never while the batch runs (the lease outlasts it): the retry takes it again
                for p in members:
                    p.fail(RetryableError(f"mail job {lease.mail_job} lost its lease before the call"))
        return leased

    def _send_call(
        self,
        call: list[_Pending],
        template: Any,
        entries: dict[int, ses.BulkEntry],
        now: datetime,
        deadline: float,
        *,
        segment_send: bool,
    ) -> None:
        stamp = now.isoformat()
        attempt = 0
        leased: list[_Pending] = []
        while True:
            try:
                self._pacer.acquire(len(call), deadline=deadline, segment_send=segment_send)
                if not leased:
                    leased = self._lease(call, now)
                    if not leased:
                        return
            except Exception as error:  # pacing or leasing failed: SES was not called
                self._give_back(leased, error)
                for p in call:
                    if p.outcome is None and p.error is None:
                        p.fail(_retryable(error))
                return
            try:
                results = ses.send_bulk(
                    sender=self.sender,
                    configuration_set=self.configuration_set,
                    template=template,
                    entries=[entries[id(p)] for p in leased],
                )
                break
            except ses.SendThrottled as throttled:
                attempt += 1
                wait = self.backoff(attempt)
                if attempt > self.throttle_retries or time.time() + wait >= deadline:
                    logger.warning("SES kept throttling; back to the queue", extra={"messages": len(call)})
                    self._give_back(leased, throttled)
                    return
                self.sleep(wait)
            except OutcomeUnknown as lost:  # SES may have taken them: never again (see "At most once")
                logger.warning("SES's answer to a bulk call was lost", extra={"messages": len(leased)})
                self._unknown(leased, now, f"SES's answer to the hand-off was lost ({lost})")
                self._settled(leased)
                return
            except PermanentSendError as error:  # the whole call refused for good: each message failed
                for p in leased:
                    self._failed(p, str(error), stamp)
                self._settled(leased)
                return
            except Exception as error:  # an error SES answered: nothing was sent
                self._give_back(leased, error)
                return
        handed: list[tuple[Item, str]] = []
        refused: list[tuple[_Pending, RetryableError]] = []
        for p, result in zip(leased, results, strict=True):
            assert p.item is not None
            if result.sent:
                assert result.message_id is not None
                handed.append((p.item, result.message_id))
                p.done("sent")
            elif result.permanent:
                self._failed(p, f"{result.status}: {result.error or ''}".strip(), stamp)
            else:
                refused.append((p, RetryableError(f"SES {result.status}: {result.error or ''}")))
        if handed:
            self._record_sent(handed, stamp, [p for p in leased if p.outcome == "sent"])
        # after the record: a job's lease forgets the call only if nothing of it is left in doubt
        in_doubt = any(p.error is not None for p in leased)
        self._settled(leased)
        for p, why in refused:
            self._give_back([p], why, forget_call=not in_doubt)

    @staticmethod
    def _settled(call: list[_Pending]) -> None:
        """After SES's answer: a job's lease has nothing in doubt once every message of the call
        it names is recorded (sent, failed or unknown); one that is not keeps the lease until it
        lapses, and the job's retry marks it unknown."""
        for lease, members in _by_job_lease(call):
            if all(p.error is None for p in members):
                lease.unsettled = False

    def _record_sent(self, handed: list[tuple[Item, str]], stamp: str, sent: list[_Pending]) -> None:
        """Record what SES took. Never given back: if it cannot be recorded, the job is retried and
        finds the lease lapsed (``handoff: unknown``), and SES's events settle each message."""
        try:
            retry.call(
                lambda: messages.record_sent(self.table, handed, at=stamp, lookup=self.ses_id_lookups),
                attempts=SETTLE_ATTEMPTS,
            )
        except RetryableError as failure:
            logger.error(
                "SES accepted messages whose hand-off could not be recorded",
                extra={"ses_message_ids": {item["message_id"]: sid for item, sid in handed}},
            )
            for p in sent:
                p.fail(failure)

    # -- outcomes -------------------------------------------------------------------------------

    def _failed(self, p: _Pending, reason: str, stamp: str) -> None:
        logger.warning("SES refused message", extra={"message_id": p.target.message_id, "error": reason})
        try:
            messages.raise_status(
                self.table, p.key, MessageStatus.FAILED, at=stamp, details={"reason": reason}
            )
        except RetryableError as error:  # the lease holds: the retry marks it unknown, never resends
            p.fail(error)
            return
        p.done("failed")

    def _unknown(self, call: list[_Pending], now: datetime, why: str) -> None:
        """Mark messages whose hand-off may have happened: never sent again, settled by events."""
        for p in call:
            mark = partial(messages.mark_outcome_unknown, self.table, p.key, at=now.isoformat(), reason=why)
            if self._settle(mark, p):
                p.done("outcome_unknown")

    def _give_back(self, call: list[_Pending], error: Exception, *, forget_call: bool = True) -> None:
        """Not handed to SES: give the leases back so the queue's retry can send them (a job's
        lease forgets the call, unless ``forget_call`` is False: something else of the call is in
        doubt, and its retry marks them all unknown rather than send one of them twice)."""
        for lease, members in _by_job_lease(call):
            if forget_call:
                forget = partial(mail_jobs.clear_call, self.table, lease.key, owner=self._owner)
                lease.unsettled = not self._settle(forget, members[0])
            for p in members:
                p.fail(_retryable(error))
        for p in call:
            if not p.by_job:
                self._settle(partial(messages.release_lease, self.table, p.key, owner=self._owner), p)
                p.fail(_retryable(error))

    def _settle(self, write: Callable[[], Any], p: _Pending) -> bool:
        """Run one settling write with bounded, jittered retries; False (and the job retried) if it
        never got through: the lease then lapses, and the retry treats the message as unknown."""
        try:
            retry.call(write, attempts=SETTLE_ATTEMPTS)
        except RetryableError as failure:
            p.fail(failure)
            return False
        return True
