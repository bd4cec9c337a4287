"""The mailer use case: turn queued coupon messages into emails handed to SES, at most once each.

The mailer takes a whole SQS batch of mail jobs (a job names one message, or up to 50 messages
of one segment send) and:

1. leases every message (one conditional write that also reads it: ``messages.lease_for_send``),
   so two invocations never hand the same message to SES; a message already sent or no longer
   queued is ``already_handled``;
2. reads the suppressions and customer profiles of the leased recipients in one batch read and
   drops suppressed or unsubscribed addresses before any SES call;
3. groups the rest by campaign (and segment send, whose subject and body win), reads each
   campaign and send once, and sends each group in SES ``SendBulkEmail`` calls: one inline
   template, up to 50 entries (never more than one second of the account's sending rate), each
   entry with its own template data, one-click unsubscribe headers and message tags;
4. paces every call under the account's ``MaxSendRate`` through a budget shared by all
   concurrent mailers (``SendPacer``), and backs off when SES throttles anyway;
5. applies each entry's verdict to its own message: ``sent`` (SES's id, the hand-off and the
   status in one transaction per call), ``failed`` for a permanent refusal, or a retry (the
   record goes back to the queue) for a transient one.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from couponflow.adapters import ses
from couponflow.adapters.dynamodb import Item, Table
from couponflow.domain.campaign import Campaign
from couponflow.domain.coupon_email import bulk_template, bulk_template_data, unsubscribe_headers
from couponflow.domain.message_status import MessageStatus
from couponflow.domain.send_pacing import chunks, throttle_backoff
from couponflow.errors import PermanentSendError, RetryableError
from couponflow.services import release
from couponflow.services.coupon_links import LinkSigner
from couponflow.services.send_pacing import SendPacer
from couponflow.store import campaigns, keys, messages

logger = logging.getLogger(__name__)

# A message's send lease is given back whenever the mailer knows SES did not take the message; it
# only runs out when a mailer died holding it, before or after SES accepted the call, which no
# one can tell. So it lasts long enough for SES's verdict on a message it did accept (Delivery,
# Bounce, DeliveryDelay, Reject: any of them moves the message past `queued`, and SES's Send event
# is not published) to have arrived: 6 hours. A message whose mailer died before calling SES goes
# out that much later (its job waits in the mail DLQ, alarmed, for a redrive), never twice.
SEND_LEASE_SECONDS = 6 * 3600
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

    @model_validator(mode="after")
    def _one_or_many(self) -> Self:
        single = self.customer_id is not None and self.message_id is not None
        if single == bool(self.messages) or (not single and (self.customer_id or self.message_id)):
            raise ValueError("a mail job names customer_id and message_id, or a non-empty messages list")
        return self

    def targets(self) -> list[MailTarget]:
        if self.customer_id is not None and self.message_id is not None:
            return [MailTarget(customer_id=self.customer_id, message_id=self.message_id)]
        return list(self.messages)


@dataclass
class _Pending:
    """One message of the batch on its way through the mailer."""

    job: int  # index of its job in the batch
    merchant_id: str
    target: MailTarget
    item: Item | None = None
    customer: Item | None = None
    outcome: str | None = None
    error: Exception | None = None

    @property
    def key(self) -> dict[str, str]:
        return keys.message(self.merchant_id, self.target.customer_id, self.target.message_id)

    def done(self, outcome: str) -> None:
        self.outcome = outcome

    def fail(self, error: Exception) -> None:
        self.error = error


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
    pacer: SendPacer | None = None
    throttle_retries: int = 3
    backoff: Callable[[int], float] = throttle_backoff
    sleep: Callable[[float], None] = time.sleep
    _pacer: SendPacer = field(init=False)

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
        pending = [_Pending(i, job.merchant_id, t) for i, job in enumerate(jobs) for t in job.targets()]
        for wave in self._waves(pending):
            if time.time() >= deadline:  # out of time: untouched, these go back to the queue
                for p in wave:
                    p.fail(RetryableError("the mailer ran out of time before this message"))
                continue
            self._lease(wave, now)
            self._drop_unwanted([p for p in wave if p.item is not None and p.outcome is None], now)
            self._send([p for p in wave if p.item is not None and p.outcome is None], now, deadline)
        results = []
        for index in range(len(jobs)):
            mine = [p for p in pending if p.job == index]
            error = next((p.error for p in mine if p.error is not None), None)
            results.append(JobResult([p.outcome or "retry" for p in mine], error))
        return results

    # -- steps ----------------------------------------------------------------------------------

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

    def _lease(self, pending: list[_Pending], now: datetime) -> None:
        for p in pending:
            try:
                lease = messages.lease_for_send(
                    self.table, p.key, now_epoch=int(now.timestamp()), lease_seconds=SEND_LEASE_SECONDS
                )
            except RetryableError as error:
                p.fail(error)
                continue
            if lease.state == "leased":
                p.item = lease.item
            elif lease.state == "handled":
                p.done("already_handled")
            elif lease.state == "held":
                # Another invocation holds the lease: look again after the visibility timeout.
                p.fail(RetryableError(f"message {p.target.message_id} is being sent by another invocation"))
            else:
                p.fail(
                    ValueError(
                        f"message {p.target.message_id} of customer {p.target.customer_id} does not exist"
                    )
                )

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
            release.release_if_undelivered(
                self.table, p.merchant_id, p.target.customer_id, p.target.message_id, MessageStatus.DROPPED
            )
            p.done("dropped")

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
                size = self._pacer.bulk_size()
            except Exception as error:  # the group's messages are retried, not lost
                self._give_back(members, error)
                continue
            for start, stop in chunks(len(members), size):
                call = members[start:stop]
                entries = [self._entry(p, campaign, links) for p in call]
                self._send_call(call, template, entries, now, deadline)

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

    def _send_call(
        self,
        call: list[_Pending],
        template: Any,
        entries: list[ses.BulkEntry],
        now: datetime,
        deadline: float,
    ) -> None:
        stamp = now.isoformat()
        attempt = 0
        while True:
            try:
                self._pacer.acquire(len(entries), deadline=deadline)
                results = ses.send_bulk(
                    sender=self.sender,
                    configuration_set=self.configuration_set,
                    template=template,
                    entries=entries,
                )
                break
            except ses.SendThrottled as throttled:
                attempt += 1
                wait = self.backoff(attempt)
                if attempt > self.throttle_retries or time.time() + wait >= deadline:
                    logger.warning("SES kept throttling; back to the queue", extra={"messages": len(call)})
                    self._give_back(call, throttled)
                    return
                self.sleep(wait)
            except PermanentSendError as error:  # the whole call refused for good: each message failed
                for p in call:
                    self._failed(p, str(error), stamp)
                return
            except Exception as error:  # pacing timeout, a transient SES error: retry later
                self._give_back(call, error)
                return
        handed: list[tuple[Item, str]] = []
        for p, result in zip(call, results, strict=True):
            assert p.item is not None
            if result.sent:
                assert result.message_id is not None
                handed.append((p.item, result.message_id))
                p.done("sent")
            elif result.permanent:
                self._failed(p, f"{result.status}: {result.error or ''}".strip(), stamp)
            else:
                self._give_back([p], RetryableError(f"SES {result.status}: {result.error or ''}"))
        if handed:
            try:
                messages.record_sent(self.table, handed, at=stamp)
            except Exception:  # SES has them: never give these back (that would send them twice)
                logger.exception(
                    "SES accepted messages whose hand-off could not be recorded; their leases hold",
                    extra={"ses_message_ids": {item["message_id"]: sid for item, sid in handed}},
                )

    # -- outcomes -------------------------------------------------------------------------------

    def _failed(self, p: _Pending, reason: str, stamp: str) -> None:
        logger.warning("SES refused message", extra={"message_id": p.target.message_id, "error": reason})
        messages.raise_status(self.table, p.key, MessageStatus.FAILED, at=stamp, details={"reason": reason})
        p.done("failed")

    def _give_back(self, call: list[_Pending], error: Exception) -> None:
        """Not handed to SES: release the leases so the queue's retry can send them."""
        for p in call:
            messages.release_lease(self.table, p.key)
            p.fail(error if isinstance(error, RetryableError) else RetryableError(str(error)))
