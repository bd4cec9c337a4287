"""Telling a merchant something happened: an email to their notification address, and a signed
webhook when they configured one (``webhook_url`` and ``webhook_secret`` on the merchant profile).

Callers decide *whether* to notify (and make it happen once, with a conditional write);
this module only delivers, each channel at most once. A notice raises only when nothing of it
went out, so a caller that tries it again (the pool alert given back to the next sweep, the SES
event redelivered) never emails the merchant twice: once the email went out, or may have (SES
took it and the answer was lost), a webhook that fails after it is logged, not retried.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from couponflow.adapters import ses, webhook
from couponflow.adapters.dynamodb import Table
from couponflow.errors import OutcomeUnknown
from couponflow.store import keys

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Notice:
    kind: str  # e.g. "campaign_paused", "pool_low", "pool_empty", "send_finished"
    subject: str
    text: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Delivered:
    email_message_id: str | None = None
    webhook_status: int | None = None
    email_unknown: bool = False  # SES may have sent it: its answer was lost (never sent again)

    @property
    def went_out(self) -> bool:
        return bool(self.email_message_id or self.webhook_status or self.email_unknown)


def notify_merchant(
    table: Table, merchant_id: str, notice: Notice, *, sender: str, configuration_set: str | None = None
) -> Delivered:
    """Email the merchant (if they have a notification address) and call their webhook (if set).

    Raises the first channel's error only when nothing went out; otherwise a failed channel is
    logged and the notice counts as delivered (trying it again would repeat what went out)."""
    profile = table.get(keys.merchant(merchant_id), consistent=False) or {}
    delivered = Delivered()
    failures: list[Exception] = []
    if profile.get("notification_email"):
        try:
            email_id = ses.send_text(
                sender=sender,
                recipient=profile["notification_email"],
                subject=notice.subject,
                text=notice.text,
                configuration_set=configuration_set,
            )
            delivered = Delivered(email_message_id=email_id)
        except OutcomeUnknown:
            delivered = Delivered(email_unknown=True)
        except Exception as error:  # kept: raised below if nothing went out
            failures.append(error)
    if profile.get("webhook_url") and profile.get("webhook_secret"):
        payload = {
            "type": notice.kind,
            "merchant_id": merchant_id,
            "sent_at": datetime.now(UTC).isoformat(),
            "data": dict(notice.data),
        }
        try:
            status = webhook.post_signed(profile["webhook_url"], profile["webhook_secret"], payload)
            delivered = Delivered(delivered.email_message_id, status, delivered.email_unknown)
        except Exception as error:  # kept: raised below if nothing went out
            failures.append(error)
    if failures and not delivered.went_out:
        raise failures[0]
    for failure in failures:
        logger.warning(
            "a notice's channel failed after another went out: not tried again",
            extra={"merchant_id": merchant_id, "kind": notice.kind, "reason": str(failure)},
        )
    logger.info("merchant notified", extra={"merchant_id": merchant_id, "kind": notice.kind})
    return delivered
