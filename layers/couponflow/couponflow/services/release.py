"""Releasing a code whose message never reached anyone.

When the coupon email is dropped (suppressed, unsubscribed, on SES's suppression list) or
bounces before the customer ever opened the coupon link, nobody can have seen the code: with the
campaign's ``release_undelivered_codes`` on (the default) the claim becomes ``released`` and the
code goes back to the pool for the next customer.

Only the message that carried the code can release it, only while the claim is still just
``claimed`` (a viewed coupon has been seen, so it is kept), never for a page campaign (the claim
answer showed the code), and returning the code is one
conditional transaction (``store.claim_progress.return_code``): calling this again for the same
message, or for a duplicate SES event, changes nothing.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from couponflow.adapters.dynamodb import Table
from couponflow.domain.claim_status import ClaimStatus
from couponflow.domain.message_status import MessageStatus
from couponflow.errors import NotFoundError
from couponflow.store import campaigns, claim_progress, keys

logger = logging.getLogger(__name__)

UNDELIVERED = frozenset({MessageStatus.DROPPED, MessageStatus.BOUNCED})


def release_if_undelivered(
    table: Table,
    merchant_id: str,
    customer_id: str,
    message_id: str,
    status: MessageStatus | None,
    *,
    now: datetime | None = None,
) -> bool:
    """Release the code of ``message_id`` if the message reached ``status`` dropped or bounced
    before the coupon was viewed and the campaign releases undelivered codes; True if it did."""
    if status not in UNDELIVERED:
        return False
    message = table.get(keys.message(merchant_id, customer_id, message_id), consistent=False)
    if message is None or not message.get("campaign_id"):
        return False
    claim = table.get(keys.claim(merchant_id, customer_id, message["campaign_id"]))
    if claim is None or claim.get("message_id") != message_id or claim.get("status") != ClaimStatus.CLAIMED:
        return False
    if claim.get("texted_at"):  # the code also went out by SMS: the customer has it
        return False
    try:
        campaign = campaigns.get(table, merchant_id, message["campaign_id"])
    except NotFoundError:
        return False
    if not campaign.release_undelivered_codes or campaign.channel == "page":
        return False  # switched off, or a page campaign showed the code in the claim answer already
    released = claim_progress.return_code(
        table,
        claim,
        ClaimStatus.RELEASED,
        at=(now or datetime.now(UTC)).isoformat(),
        reason=f"message_{status}",
    )
    if released:
        logger.info(
            "code released",
            extra={"merchant_id": merchant_id, "campaign_id": campaign.campaign_id, "message_id": message_id},
        )
    return released
