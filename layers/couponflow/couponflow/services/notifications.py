"""Telling a merchant something happened: an email to their notification address, and a signed
webhook when they configured one (``webhook_url`` and ``webhook_secret`` on the merchant profile).

Callers decide *whether* to notify (and make it happen once, with a conditional write);
this module only delivers.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from couponflow.adapters import ses, webhook
from couponflow.adapters.dynamodb import Table
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


def notify_merchant(
    table: Table, merchant_id: str, notice: Notice, *, sender: str, configuration_set: str | None = None
) -> Delivered:
    """Email the merchant (if they have a notification address) and call their webhook (if set)."""
    profile = table.get(keys.merchant(merchant_id), consistent=False) or {}
    email_id = None
    status = None
    if profile.get("notification_email"):
        email_id = ses.send_text(
            sender=sender,
            recipient=profile["notification_email"],
            subject=notice.subject,
            text=notice.text,
            configuration_set=configuration_set,
        )
    if profile.get("webhook_url") and profile.get("webhook_secret"):
        payload = {
            "type": notice.kind,
            "merchant_id": merchant_id,
            "sent_at": datetime.now(UTC).isoformat(),
            "data": dict(notice.data),
        }
        status = webhook.post_signed(profile["webhook_url"], profile["webhook_secret"], payload)
    logger.info("merchant notified", extra={"merchant_id": merchant_id, "kind": notice.kind})
    return Delivered(email_message_id=email_id, webhook_status=status)
