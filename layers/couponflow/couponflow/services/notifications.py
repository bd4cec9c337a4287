"""Telling a merchant something happened: an email to their notification address, and a signed
webhook when they set one (``PUT /settings/notice-webhook``: ``services/notice_webhook.py``).

Callers decide *whether* to notify (and make it happen once, with a conditional write);
this module only delivers, each channel at most once. A notice raises only when nothing of it
went out, so a caller that tries it again (the pool alert given back to the next sweep, the SES
event redelivered) never emails the merchant twice: once the email went out, or may have (SES
took it and the answer was lost), a webhook that fails after it is logged, not retried.

A webhook that took a notice and whose answer was lost is posted again when the notice is tried
again: every post of one notice carries the same ``id`` and ``Idempotency-Key`` (from the
notice's business key), so the receiver keeps one. The URL is checked again before each post (https,
a public host): where a name resolves may have changed since it was set.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from couponflow.adapters import ses, webhook
from couponflow.adapters.dynamodb import Table
from couponflow.errors import OutcomeUnknown, PermanentSendError
from couponflow.providers.address_guard import UnsafeProviderUrl, check_url
from couponflow.store import keys

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Notice:
    kind: str  # e.g. "campaign_paused", "pool_low", "pool_empty", "send_finished"
    subject: str
    text: str
    data: Mapping[str, Any] = field(default_factory=dict)
    key: str = field(kw_only=True)  # what it is about, unique per kind: a send id, a campaign's pool version

    def id_for(self, merchant_id: str) -> str:
        """The notice's id, the same however often it is tried: receivers keep one of each."""
        digest = hashlib.sha256(f"{merchant_id}/{self.kind}/{self.key}".encode()).hexdigest()
        return f"ntc_{digest[:24]}"


@dataclass(frozen=True)
class Delivered:
    email_message_id: str | None = None
    webhook_status: int | None = None
    email_unknown: bool = False  # SES may have sent it: its answer was lost (never sent again)

    @property
    def went_out(self) -> bool:
        return bool(self.email_message_id or self.webhook_status or self.email_unknown)


def notify_merchant(
    table: Table,
    merchant_id: str,
    notice: Notice,
    *,
    sender: str,
    configuration_set: str | None = None,
    allow_private_hosts: bool = False,
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
        try:
            status = post_notice(profile, merchant_id, notice, allow_private_hosts=allow_private_hosts)
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


def post_notice(
    profile: Mapping[str, Any], merchant_id: str, notice: Notice, *, allow_private_hosts: bool
) -> int:
    """POST ``notice`` to the merchant's notice webhook; its HTTP status. Raises
    ``PermanentSendError`` for a URL that may not be called or a refusal, ``RetryableError``
    for a failure that may pass."""
    url = str(profile["webhook_url"])
    try:
        check_url(url, allow_private=allow_private_hosts)
    except UnsafeProviderUrl as error:
        raise PermanentSendError(f"notice webhook not called: {error}") from error
    notice_id = notice.id_for(merchant_id)
    payload = {
        "id": notice_id,
        "type": notice.kind,
        "merchant_id": merchant_id,
        "sent_at": datetime.now(UTC).isoformat(),
        "data": dict(notice.data),
    }
    return webhook.post_signed(url, str(profile["webhook_secret"]), payload, idempotency_key=notice_id)
