"""The claim use case: a storefront asks for a coupon for a customer of a campaign."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from couponflow import metrics
from couponflow.adapters import sqs
from couponflow.adapters.dynamodb import Put, Table
from couponflow.domain.campaign import Campaign
from couponflow.domain.claim_status import ClaimStatus
from couponflow.domain.disposable_emails import is_disposable
from couponflow.domain.integration_status import IntegrationStatus
from couponflow.domain.message_status import MessageStatus
from couponflow.errors import CouponflowError, InvalidInputError
from couponflow.ids import claim_id, customer_id, new_id
from couponflow.models.claims import Channel, ClaimIn, ClaimOut
from couponflow.services.provider_directory import ProviderDirectory
from couponflow.store import campaigns, claim_receipts, claims, integrations, keys
from couponflow.store.claim_receipts import Receipt, ReceiptFound, fingerprint

_PAGE_MESSAGE = "Here is your coupon code."  # a `page` campaign shows the code instead of emailing it
_MESSAGES = {
    ClaimStatus.CLAIMED: "Your coupon is on its way to your inbox.",
    ClaimStatus.OUT_OF_COUPONS: "Sorry, there are no coupons available right now.",
}


@dataclass(frozen=True)
class ClaimService:
    table: Table
    mail_queue_url: str
    integration_queue_url: str | None = None  # provider sync off when None
    providers: ProviderDirectory | None = field(default=None, compare=False)

    def claim(
        self,
        merchant_id: str,
        campaign_id: str,
        request: ClaimIn,
        now: datetime | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> tuple[ClaimOut, bool]:
        """The claim's outcome, and whether this call assigned the code (False for a repeat).

        With an ``idempotency_key`` the answer is kept (``store.claim_receipts``, in the claim's
        own transaction): the same key again gets the same answer, whatever changed since, and
        the same key with another body is refused (``IdempotencyKeyReused``).
        """
        now = now or datetime.now(UTC)
        campaign = campaigns.get(self.table, merchant_id, campaign_id)
        if campaign.block_disposable_emails and is_disposable(request.email):
            raise InvalidInputError("this campaign does not accept disposable email addresses", "email")
        who = claims.Claimant(
            customer_id=customer_id(merchant_id, request.email),
            email=request.email,
            name=request.name,
            marketing_consent=request.marketing_consent,
            integration_status=self._integration_status(merchant_id, request),
        )
        stamp = now.isoformat()
        receipt = None
        if idempotency_key is not None:
            body = fingerprint(request.model_dump(mode="json"))
            receipt = _Receipt(
                Receipt(merchant_id, campaign_id, idempotency_key, body, int(now.timestamp())), campaign
            )
        if who.integration_status == IntegrationStatus.PENDING:
            # Watched before the claim is written, so a claim whose job is never queued (a crash,
            # a customer who never retries) is still found by housekeeping's pending-sync sweep.
            integrations.watch_sync(self.table, merchant_id, who.customer_id, campaign_id, since=stamp)
        try:
            record = self._record(campaign, who, now, receipt)
        except ReceiptFound as found:
            return self._answered_before(campaign, who, receipt, found)
        self._follow_up(campaign, who, record)
        metrics.claim_answered(str(record.reason) if record.reason else "claimed" if record.new else "repeat")
        return answer_of(campaign, record), record.new

    def _record(
        self, campaign: Campaign, who: claims.Claimant, now: datetime, receipt: _Receipt | None
    ) -> claims.ClaimRecord:
        """The claim made (or refused, or the customer's existing one), its receipt kept."""
        stamp = now.isoformat()
        closed = campaign.closed_reason(now)
        if closed is not None:
            record = claims.record_out_of_coupons(
                self.table, campaign, who, closed, now=stamp, receipt=receipt
            )
        else:
            record = claims.assign(
                self.table,
                campaign,
                who,
                now=stamp,
                day=campaign.local_day(now),
                message_id=new_id("msg"),
                receipt=receipt,
            )
        if receipt is not None and not record.receipted:  # nothing written: the customer's claim stood
            try:
                claim_receipts.keep(self.table, receipt.of(record))
            except ReceiptFound as found:
                raise ReceiptFound(found.receipt, None, record) from found
        return record

    def _answered_before(
        self, campaign: Campaign, who: claims.Claimant, receipt: _Receipt | None, found: ReceiptFound
    ) -> tuple[ClaimOut, bool]:
        """A repeat of a request with this key: its first answer (422 for another body). What the
        first may not have finished (its email queued, its provider sync) is done again, as for
        any repeated claim: each is idempotent."""
        assert receipt is not None
        if found.receipt.get("body_hash") != receipt.receipt.body_hash:
            raise IdempotencyKeyReused(
                f"Idempotency-Key '{receipt.receipt.key}' was already used with a different request body"
            )
        record = found.record or (claims.ClaimRecord.from_item(found.claim) if found.claim else None)
        if record is not None and record.customer_id == who.customer_id:
            self._follow_up(campaign, who, replace(record, new=False))
        metrics.claim_answered("repeat")
        return ClaimOut.model_validate(found.receipt["answer"]), int(found.receipt["status_code"]) == 201

    def _follow_up(self, campaign: Campaign, who: claims.Claimant, record: claims.ClaimRecord) -> None:
        """Queue the coupon email (again only if it never left) and the provider sync."""
        merchant_id = campaign.merchant_id
        if record.status is not ClaimStatus.OUT_OF_COUPONS and record.message_id:
            self._queue_coupon_email(merchant_id, record, repeat=not record.new)
        if self.integration_queue_url and self._needs_sync(record, who):
            sqs.send_json(
                self.integration_queue_url,
                {
                    "merchant_id": merchant_id,
                    "campaign_id": campaign.campaign_id,
                    "customer_id": record.customer_id,
                },
            )

    def _integration_status(self, merchant_id: str, request: ClaimIn) -> str | None:
        """``pending`` when this claim will be pushed to the merchant's provider list, else blank."""
        if not (request.marketing_consent and self.integration_queue_url and self.providers):
            return None
        return str(IntegrationStatus.PENDING) if self.providers.connected(merchant_id) else None

    @staticmethod
    def _needs_sync(record: claims.ClaimRecord, who: claims.Claimant) -> bool:
        """A new claim marked pending; or a repeat of one still pending, whose job may never have
        been queued (the send failed after the claim was written): queue it (again). The sync is
        idempotent on the claim, so a duplicate job does no harm."""
        if record.new:
            return who.integration_status == IntegrationStatus.PENDING
        return record.integration_status == IntegrationStatus.PENDING

    def _queue_coupon_email(self, merchant_id: str, record: claims.ClaimRecord, *, repeat: bool) -> None:
        """Queue the coupon email; on a repeat claim, queue it again only if it never left.

        The message item was written in the claim's transaction, so a crash between the write
        and this send loses nothing: the customer's retry (or housekeeping) queues it again, and
        the mailer sends each message at most once.
        """
        assert record.message_id is not None
        if repeat:
            item = self.table.get(keys.message(merchant_id, record.customer_id, record.message_id))
            if item is None or item.get("status") != MessageStatus.QUEUED or item.get("ses_message_id"):
                return
        sqs.send_json(
            self.mail_queue_url,
            {"merchant_id": merchant_id, "customer_id": record.customer_id, "message_id": record.message_id},
        )


def answer_of(campaign: Campaign, record: claims.ClaimRecord) -> ClaimOut:
    """What the storefront is answered for ``record`` (and what a receipt keeps)."""
    show_code = campaign.channel == Channel.PAGE
    return ClaimOut(
        claim_id=claim_id(record.campaign_id, record.customer_id, record.claim_number),
        status=str(record.status),
        reason=str(record.reason) if record.reason else None,
        customer_id=record.customer_id,
        campaign_id=record.campaign_id,
        claimed_at=record.claimed_at,
        code=record.code if show_code else None,
        message=_PAGE_MESSAGE
        if show_code and record.status is ClaimStatus.CLAIMED
        else _MESSAGES.get(record.status, "Your coupon has been claimed."),
    )


@dataclass(frozen=True)
class _Receipt:
    """``store.claims.ReceiptWriter`` for this request: the receipt of the answer a record gets."""

    receipt: Receipt
    campaign: Campaign

    def of(self, record: claims.ClaimRecord) -> Put:
        status_code = 201 if record.new else 200
        return self.receipt.put(status_code, answer_of(self.campaign, record).model_dump(mode="json"))


class IdempotencyKeyReused(CouponflowError):
    """The key was used before with a different request body."""
