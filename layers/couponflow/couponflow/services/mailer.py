"""The mailer use case: turn a queued coupon message into an email handed to SES, at most once."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field

from couponflow.adapters import ses
from couponflow.adapters.dynamodb import Table
from couponflow.domain.coupon_email import CouponEmail, render
from couponflow.domain.message_status import MessageStatus
from couponflow.errors import PermanentSendError, RetryableError
from couponflow.services import release
from couponflow.services.coupon_links import LinkSigner
from couponflow.store import campaigns, keys, messages

logger = logging.getLogger(__name__)

SEND_LEASE_SECONDS = 120


class MailJob(BaseModel):
    """One SQS record on the mail queue: which message to send."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    merchant_id: str = Field(min_length=1, max_length=64)
    customer_id: str = Field(min_length=1, max_length=64)
    message_id: str = Field(min_length=1, max_length=64)


@dataclass(frozen=True)
class Mailer:
    table: Table
    sender: str
    configuration_set: str
    public_base_url: str
    link_secret: str  # signs the coupon and unsubscribe links (Secrets Manager)

    def deliver(self, job: MailJob, now: datetime | None = None) -> str:
        """Send the message of ``job``; returns what happened (for logs and tests)."""
        now = now or datetime.now(UTC)
        stamp = now.isoformat()
        key = keys.message(job.merchant_id, job.customer_id, job.message_id)
        message = self.table.get(key)
        if message is None:
            raise ValueError(f"message {job.message_id} of customer {job.customer_id} does not exist")
        if message.get("ses_message_id") or message.get("status") != MessageStatus.QUEUED:
            return "already_handled"
        recipient: str = message["recipient"]
        suppression = messages.is_suppressed(self.table, job.merchant_id, recipient)
        if suppression is not None:
            details = {"reason": "suppressed", "suppression_reason": suppression.get("reason")}
            messages.raise_status(self.table, key, MessageStatus.DROPPED, at=stamp, details=details)
            release.release_if_undelivered(
                self.table, job.merchant_id, job.customer_id, job.message_id, MessageStatus.DROPPED
            )
            return "dropped"
        customer = self.table.get(keys.customer(job.merchant_id, job.customer_id)) or {}
        if customer.get("unsubscribed_at"):
            details = {"reason": "unsubscribed", "unsubscribed_at": customer["unsubscribed_at"]}
            messages.raise_status(self.table, key, MessageStatus.DROPPED, at=stamp, details=details)
            release.release_if_undelivered(
                self.table, job.merchant_id, job.customer_id, job.message_id, MessageStatus.DROPPED
            )
            return "dropped"
        if not messages.take_send_lease(
            self.table, key, now_epoch=int(now.timestamp()), lease_seconds=SEND_LEASE_SECONDS
        ):
            # Another invocation holds the lease (or just finished): look again after the visibility timeout.
            raise RetryableError(f"message {job.message_id} is being sent by another invocation")
        campaign = campaigns.get(self.table, job.merchant_id, message["campaign_id"])
        links = LinkSigner(self.link_secret, self.public_base_url)
        subject, text_template = campaign.subject, campaign.text_template
        if message.get("send_id"):  # a segment send's coupon: the send's own subject and body
            send = self.table.get(keys.send(job.merchant_id, message["send_id"]), consistent=False) or {}
            subject, text_template = send.get("subject") or subject, send.get("body") or text_template
        email = CouponEmail(
            sender=self.sender,
            recipient=recipient,
            subject=subject,
            html_template=campaign.html_template,
            text_template=text_template,
            values={
                "code": message["code"],
                "campaign": campaign.name,
                "name": customer.get("name") or "there",
                "email": recipient,
                "coupon_url": links.coupon_url(job.merchant_id, job.customer_id, campaign.campaign_id),
            },
            unsubscribe_url=links.unsubscribe_url(job.merchant_id, job.customer_id, campaign.campaign_id),
        )
        tags = {
            "merchant": job.merchant_id,
            "campaign": campaign.campaign_id,
            "customer": job.customer_id,
            "message": job.message_id,
        }
        try:
            ses_id = ses.send_raw(
                sender=self.sender,
                recipient=recipient,
                raw_message=render(email, now=now),
                configuration_set=self.configuration_set,
                tags=tags,
            )
        except PermanentSendError as error:
            logger.warning("SES refused message", extra={"message_id": job.message_id, "error": str(error)})
            messages.raise_status(
                self.table, key, MessageStatus.FAILED, at=stamp, details={"reason": str(error)}
            )
            return "failed"
        messages.record_handoff(self.table, key, ses_id, at=stamp)
        messages.raise_status(
            self.table, key, MessageStatus.SENT, at=stamp, details={"ses_message_id": ses_id}
        )
        return "sent"
