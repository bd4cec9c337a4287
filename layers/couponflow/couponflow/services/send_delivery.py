"""Sending a segment send: start it at its time, fan its recipients out in chunks, finish it.

1. ``SendStarter.start`` (invoked by the send's one-time schedule) moves the send from
   ``scheduled`` to ``sending`` with one conditional write (a cancel that got there first wins),
   checks the coupon (``invalid_coupon`` / ``insufficient_coupons`` fail the send and tell the
   merchant), snapshots the members (removed or unsubscribed customers are not in it), records
   the excluded ones with their reason, and queues chunks of eligible recipients on the fan-out
   queue.
2. ``SendFanout.process`` (the fan-out queue consumer) assigns each recipient a code with
   ``store.claims.assign`` (idempotent per campaign and customer, with a message id derived from
   send and customer), records the recipient once per send and customer, queues the emails on
   the mail queue, 50 messages to a job (the mailer sends each message at most once, drops
   suppressed addresses, sends each job's messages in one SES bulk call with every recipient's
   own unsubscribe headers, paced under the account's sending rate) and texts through SNS for
   ``sms``/``both``. A redelivered chunk finds its recipients recorded and sends nothing again.
3. ``housekeeping.finish_sends.FinishSends`` (a housekeeping task) finishes each fanned-out
   send once every email has SES's verdict (or the grace period passed): counts by reason,
   the failure report in S3 with a presigned link, ``done``, the segment freed, and the
   merchant notified.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from couponflow import retry
from couponflow.adapters import sns, sqs
from couponflow.adapters.dynamodb import Item, Table
from couponflow.domain.audience import Channel, exclusion
from couponflow.domain.campaign import Campaign
from couponflow.domain.claim_status import ClaimStatus
from couponflow.domain.message_status import SMS_ONLY, MessageStatus
from couponflow.domain.send_message import sms_text, values_for
from couponflow.domain.send_schedule import CouponCheck, SendStatus
from couponflow.errors import NotFoundError, OutcomeUnknown, PermanentSendError, RetryableError
from couponflow.services import coupon_check, segment_members
from couponflow.services.notifications import Notice, notify_merchant
from couponflow.store import audience, campaigns, claim_progress, claims, keys, messages, sends

logger = logging.getLogger(__name__)

CHUNK_SIZE = 100
MESSAGES_PER_MAIL_JOB = 50  # the mailer sends one job's messages in one SES bulk call


def message_id_for(send_id: str, customer_id: str) -> str:
    """The coupon message of a customer in a send: the same on every re-run of a chunk."""
    return "msg_" + hashlib.sha256(f"{send_id}\x00{customer_id}".encode()).hexdigest()[:26]


def sms_message_id_for(send_id: str, customer_id: str) -> str:
    """The text message of a customer in a send (a message of its own beside the email)."""
    return "msg_" + hashlib.sha256(f"{send_id}\x00{customer_id}\x00sms".encode()).hexdigest()[:26]


class StartSend(BaseModel):
    """The input a send's schedule fires with."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    merchant_id: str = Field(min_length=1, max_length=64)
    send_id: str = Field(min_length=1, max_length=64)


class Recipient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    customer_id: str = Field(min_length=1, max_length=64)
    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    name: str | None = None
    marketing_consent: bool = False


class FanoutChunk(BaseModel):
    """One fan-out queue record: a chunk of a send's recipients, snapshotted at the start."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    merchant_id: str = Field(min_length=1, max_length=64)
    send_id: str = Field(min_length=1, max_length=64)
    chunk: int = Field(ge=0)
    recipients: list[Recipient] = Field(max_length=1000)


def _campaign_or_none(table: Table, merchant_id: str, campaign_id: str) -> Campaign | None:
    try:
        return campaigns.get(table, merchant_id, campaign_id)
    except NotFoundError:
        return None


TEXT_ATTEMPTS = 3


def _publish_text(phone: str, text: str) -> str:
    """Publish one text, retrying (with jittered backoff) only what SNS answered with an error:
    a text whose answer was lost (``OutcomeUnknown``) is never published again."""
    return retry.call(
        lambda: sns.send_sms(phone, text, sms_type="Promotional"),
        attempts=TEXT_ATTEMPTS,
        base=0.2,
        never_retry=(OutcomeUnknown,),
    )


def notify_quietly(
    table: Table, merchant_id: str, notice: Notice, sender: str, *, allow_private_hosts: bool = False
) -> None:
    try:
        notify_merchant(table, merchant_id, notice, sender=sender, allow_private_hosts=allow_private_hosts)
    except Exception:  # the send's outcome is recorded; a lost notice must not undo it
        logger.exception("could not notify the merchant", extra={"merchant_id": merchant_id})


@dataclass(frozen=True)
class SendStarter:
    table: Table
    fanout_queue_url: str
    sender: str
    chunk_size: int = CHUNK_SIZE
    allow_private_hosts: bool = False  # notice webhooks on internal hosts (local stack, tests)

    def start(self, merchant_id: str, send_id: str, now: datetime | None = None) -> str:
        now = now or datetime.now(UTC)
        stamp = now.isoformat()
        send = sends.get(self.table, merchant_id, send_id)
        status = SendStatus(send["status"])
        if status is SendStatus.SENDING and send.get("fanned_out_at"):
            return "already_started"
        if status not in (SendStatus.SCHEDULED, SendStatus.SENDING):
            return f"not_started_{status}"  # canceled (the cancel won), or already over
        if status is SendStatus.SCHEDULED and not sends.move(
            self.table,
            merchant_id,
            send_id,
            frm=SendStatus.SCHEDULED,
            to=SendStatus.SENDING,
            at=stamp,
            fields={"started_at": stamp},
        ):
            return "lost_to_cancel"
        campaign = _campaign_or_none(self.table, merchant_id, send["campaign_id"])
        found = segment_members.members(self.table, merchant_id, send["segment_id"], now)
        suppressed = audience.suppressed_emails(self.table, merchant_id)
        channel = Channel(send["channel"])
        eligible: list[Item] = []
        excluded: list[Item] = []
        for customer in found.customers:
            reason = exclusion(
                customer,
                channel=channel,
                now=now,
                suppressed=suppressed,
                include_inactive=bool(send.get("include_inactive")),
            )
            (eligible if reason is None else excluded).append(
                {**customer, "reason": str(reason) if reason else None}
            )
        available = (
            campaigns.count_available(self.table, merchant_id, campaign.campaign_id)
            if campaign is not None
            else 0
        )
        problem = coupon_check.check(self.table, campaign, eligible, at=now, codes_available=available)
        if problem is not None:
            self._fail(send, problem, stamp, eligible=len(eligible), available=available)
            return str(problem.failure)
        self.table.batch_put(
            [
                {
                    **keys.send_recipient(merchant_id, send_id, c["customer_id"]),
                    "type": "send_recipient",
                    "customer_id": c["customer_id"],
                    "email": c.get("email"),
                    "phone": c.get("phone"),
                    "outcome": "failed",
                    "reason": c["reason"],
                    "at": stamp,
                    **sends.refused_entry(merchant_id, send, c["customer_id"]),
                }
                for c in excluded
            ]
        )
        chunks = [eligible[i : i + self.chunk_size] for i in range(0, len(eligible), self.chunk_size)]
        sends.set_fields(
            self.table,
            merchant_id,
            send_id,
            {
                "chunks_total": len(chunks),
                "members": len(found.customers),
                "eligible": len(eligible),
                "excluded": len(excluded),
                **keys.sending_index(merchant_id, send_id, stamp),
            },
        )
        sqs.send_json_batch(
            self.fanout_queue_url,
            [
                FanoutChunk(
                    merchant_id=merchant_id,
                    send_id=send_id,
                    chunk=n,
                    recipients=[Recipient.model_validate(c) for c in chunk],
                ).model_dump(exclude_none=True)
                for n, chunk in enumerate(chunks)
            ],
        )
        sends.set_fields(self.table, merchant_id, send_id, {"fanned_out_at": stamp})
        return "started"

    def _fail(self, send: Item, problem: CouponCheck, stamp: str, *, eligible: int, available: int) -> None:
        m, s = send["merchant_id"], send["send_id"]
        shown = coupon_check.as_warning(problem)
        fields = {"reason": shown["reason"], "reason_detail": shown["message"]}
        if "condition" in shown:
            fields["condition"] = shown["condition"]
        sends.move(
            self.table,
            m,
            s,
            frm=SendStatus.SENDING,
            to=SendStatus.FAILED,
            at=stamp,
            fields={**fields, "eligible": eligible, "codes_available": available},
        )
        sends.release_segment(self.table, m, send["segment_id"], s)
        why = f"{problem.failure} ({problem.condition})" if problem.condition else str(problem.failure)
        text = (
            f"Your send {s} to segment {send['segment_id']} did not go out: {why}.\n"
            f"Why: {problem.message}.\n"
            f"Recipients: {eligible}; codes available: {available}.\n"
        )
        notify_quietly(
            self.table,
            m,
            Notice("send_failed", f"Send {s} failed: {why}", text, {"send_id": s, **shown}, key=s),
            self.sender,
            allow_private_hosts=self.allow_private_hosts,
        )


def mail_job_of(chunk: int, position: int) -> str:
    """The mail job of the recipient at ``position`` in its chunk: ``<chunk>.<block>``, one job per
    ``MESSAGES_PER_MAIL_JOB`` places of the chunk, whoever of them gets an email. A redelivered
    chunk bundles the same jobs, and the job named on each message (``store/mail_jobs.py``) is
    the only one that may send it."""
    return f"{chunk}.{position // MESSAGES_PER_MAIL_JOB}"


def bundle_mail_jobs(merchant_id: str, send_id: str, jobs: list[dict[str, str]]) -> list[dict[str, Any]]:
    """One mail-queue record per mail job (at most ``MESSAGES_PER_MAIL_JOB`` messages, one SES bulk
    call's worth at most), in the order the messages came."""
    bundled: dict[str, list[dict[str, str]]] = {}
    for j in jobs:
        bundled.setdefault(j["mail_job"], []).append(
            {"customer_id": j["customer_id"], "message_id": j["message_id"]}
        )
    return [
        {"merchant_id": merchant_id, "send_id": send_id, "mail_job": tag, "messages": members}
        for tag, members in bundled.items()
    ]


@dataclass(frozen=True)
class SendFanout:
    table: Table
    mail_queue_url: str
    public_base_url: str

    def process_resuming(self, job: FanoutChunk, *, attempts: int = 4) -> dict[str, int]:
        """``process`` the chunk, resuming it in this invocation after a transient failure.

        A chunk makes a few hundred AWS calls; each step is idempotent (codes assigned per
        campaign and customer, recipients recorded once, emails sent at most once, texts never
        twice), so a retry picks up where the failed attempt stopped. Resuming here, with
        jittered backoff, spares a whole redelivery per failed call; after ``attempts`` the
        error goes to the queue, whose redeliveries resume it the same way.
        """
        return retry.call(lambda: self.process(job), attempts=attempts, base=0.2, cap=2.0)

    def process(self, job: FanoutChunk, now: datetime | None = None) -> dict[str, int]:
        now = now or datetime.now(UTC)
        send = sends.get(self.table, job.merchant_id, job.send_id)
        if send["status"] != SendStatus.SENDING:
            return {"skipped": len(job.recipients)}
        campaign = campaigns.get(self.table, job.merchant_id, send["campaign_id"])
        stamp = now.isoformat()
        wanted = [
            claims.Assignment(
                claims.Claimant(
                    r.customer_id,
                    r.email or "",
                    r.first_name or r.name,
                    r.marketing_consent,
                    interacted=False,  # a code we send is not the customer's own interaction
                ),
                message_id_for(job.send_id, r.customer_id),
                {"mail_job": mail_job_of(job.chunk, position)},
            )
            for position, r in enumerate(job.recipients)
        ]
        # The messages and claims name their send: the mailer renders the send's own subject and
        # body (the campaign's where it has none), and they sit in the send's range of the views
        # index (store/keys.py)
        named = {"send_id": job.send_id}
        records = claims.assign_many(
            self.table,
            campaign,
            wanted,
            now=stamp,
            day=campaign.local_day(now),
            outbox=False,  # a redelivered chunk queues the emails again (``_one``)
            message_fields=named,
        )
        for want, record in zip(wanted, records, strict=True):
            if not record.new and record.message_id == want.message_id:
                # a retry of a chunk that died after its claims, before their registry or messages
                claims.restore_after_group(self.table, campaign, want.who, record, fields=want.fields(named))
        mail_jobs: list[dict[str, str]] = []
        tally: Counter[str] = Counter()
        for want, recipient, record in zip(wanted, job.recipients, records, strict=True):
            outcome = self._one(
                send,
                campaign,
                recipient,
                record,
                stamp=stamp,
                mail_jobs=mail_jobs,
                mail_job=want.message_fields["mail_job"],
            )
            tally[outcome] += 1
        sqs.send_json_batch(self.mail_queue_url, bundle_mail_jobs(job.merchant_id, job.send_id, mail_jobs))
        sends.finish_chunk(
            self.table,
            job.merchant_id,
            job.send_id,
            job.chunk,
            counts={"processed": len(job.recipients)},
            at=stamp,
        )
        return dict(tally)

    def _one(
        self,
        send: Item,
        campaign: Campaign,
        r: Recipient,
        record: claims.ClaimRecord,
        *,
        stamp: str,
        mail_jobs: list[dict[str, str]],
        mail_job: str,
    ) -> str:
        m, s = send["merchant_id"], send["send_id"]
        channel = Channel(send["channel"])
        message_id = message_id_for(s, r.customer_id)
        job = {"customer_id": r.customer_id, "message_id": message_id, "mail_job": mail_job}
        base = {"customer_id": r.customer_id, "email": r.email, "phone": r.phone, "at": stamp}
        if not record.new and record.message_id == message_id:
            # A redelivered chunk (or a retry after a crash): the claim is ours already. Queue the
            # email again (the mailer sends each message at most once) but never text twice.
            existing = sends.get_recipient(self.table, m, s, r.customer_id)
            if existing is not None:
                if existing.get("email_queued"):
                    mail_jobs.append(job)
                return "repeat"
        if record.status is ClaimStatus.OUT_OF_COUPONS:
            refused = {**base, "outcome": "failed", "reason": "out_of_coupons"}
            sends.put_recipient(self.table, m, s, {**refused, **sends.refused_entry(m, send, r.customer_id)})
            return "out_of_coupons"
        if record.message_id != message_id:
            refused = {**base, "outcome": "failed", "reason": "already_claimed"}
            sends.put_recipient(self.table, m, s, {**refused, **sends.refused_entry(m, send, r.customer_id)})
            return "already_claimed"
        email = channel in (Channel.EMAIL, Channel.BOTH) and bool(r.email)
        text = channel in (Channel.SMS, Channel.BOTH) and bool(r.phone)
        if not email:  # the claim wrote an email message; this recipient is texted only
            messages.raise_status(
                self.table,
                keys.message(m, r.customer_id, message_id),
                MessageStatus.DROPPED,
                at=stamp,
                details={"reason": SMS_ONLY},
            )
        recorded = {
            **base,
            "outcome": "sent",
            "code": record.code,
            "message_id": message_id,
            "email_queued": email,
        }
        if not sends.put_recipient(self.table, m, s, recorded):
            return "repeat"
        if email:
            mail_jobs.append(job)
        if text:
            self._text(send, campaign, r, record.code or "", listed=not email)
        return "sent"

    def _text(self, send: Item, campaign: Campaign, r: Recipient, code: str, *, listed: bool) -> None:
        """Text the coupon; the SMS is a message of its own (channel ``sms``) in the customer's
        messages: ``sent`` with SNS's id when SNS took it, ``failed`` with the reason when SNS
        refused it. Delivery receipts (``services/sms_receipts.py``) move it on from there.
        ``listed``: the text is what the tracker shows (no email): it goes on the views index."""
        m, s = send["merchant_id"], send["send_id"]
        values = values_for(
            r.model_dump(),
            code=code,
            campaign_name=campaign.name,
            link=campaign.store_url or self.public_base_url,
            send_id=s,
            medium="sms",
        )
        stamp = datetime.now(UTC).isoformat()
        sms_id = sms_message_id_for(s, r.customer_id)
        key = keys.message(m, r.customer_id, sms_id)
        messages.put_sms(
            self.table,
            {
                **key,
                "merchant_id": m,
                "customer_id": r.customer_id,
                "campaign_id": campaign.campaign_id,
                "send_id": s,
                "message_id": sms_id,
                "recipient": r.phone,
                "code": code,
                "created_at": stamp,
            },
            listed=listed,
        )
        sends.update_recipient(self.table, m, s, r.customer_id, {"sms_message_id": sms_id})
        # The code is out from here on (even if SNS's answer is lost): an undelivered email must
        # not release it to the pool (see services/release.py).
        claim_progress.mark_texted(self.table, m, r.customer_id, campaign.campaign_id, at=stamp)
        try:
            sns_id = _publish_text(r.phone or "", sms_text(send["sms_text"], values))
        except PermanentSendError as error:
            messages.raise_status(
                self.table,
                key,
                MessageStatus.FAILED,
                at=stamp,
                details={"reason": "sns_refused", "error": str(error)},
            )
            sends.update_recipient(self.table, m, s, r.customer_id, {"sms_error": str(error)})
            return
        except OutcomeUnknown as error:
            # SNS may have sent it, and its receipts name only SNS's id, which we never got:
            # nothing can settle it, and it is never texted again. Say so.
            messages.raise_status(
                self.table,
                key,
                MessageStatus.UNKNOWN,
                at=stamp,
                details={"reason": "outcome_unknown", "detail": f"SNS's answer was lost ({error})"},
            )
            return
        except RetryableError as error:
            # SNS answered with an error each time: not sent. The chunk is retried for the
            # recipients after this one, but this recipient is on record already and is never
            # texted twice: say so instead of leaving it queued.
            messages.raise_status(
                self.table,
                key,
                MessageStatus.FAILED,
                at=stamp,
                details={"reason": "sns_unavailable", "error": str(error)},
            )
            sends.update_recipient(self.table, m, s, r.customer_id, {"sms_error": str(error)})
            raise
        messages.raise_status(
            self.table,
            key,
            MessageStatus.SENT,
            at=stamp,
            extra={"sns_message_id": sns_id, "sent_at": stamp, **keys.sms_message_index(sns_id)},
        )
        sends.update_recipient(self.table, m, s, r.customer_id, {"sns_message_id": sns_id})
