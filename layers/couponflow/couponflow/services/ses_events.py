"""Applying SES events to messages: where a bounce, a delivery or an open changes a status.

For each recipient event in a record:

1. find the message: from the tags the mailer set (merchant, customer, message), or for identity
   notifications (no tags) from SES's message id; events for messages we did not send are kept
   as orphans, not errors;
2. store the event in the message's timeline, keyed on the event's content (so the same SES event
   delivered twice is stored once, whatever SNS or SQS message carried it);
3. raise the message status by precedence (``domain.message_status``), a conditional write that
   makes the stored status the maximum over all events, independent of arrival order;
4. put hard bounces and complaints on the merchant's suppression list.

Steps 3 and 4 run for duplicates too: they are idempotent, and re-running them heals a record
whose first processing stopped half-way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from couponflow.adapters.dynamodb import Table
from couponflow.domain.message_status import MessageStatus
from couponflow.services.release import release_if_undelivered
from couponflow.ses_notifications import MessageEvent, SesEventType, parse_record_body
from couponflow.store import keys, messages

logger = logging.getLogger(__name__)


@dataclass
class Applied:
    """What one record did, for logs, metrics and tests."""

    applied: int = 0
    duplicates: int = 0
    orphans: int = 0
    status_changes: int = 0
    ignored_reason: str | None = None
    statuses: list[str] = field(default_factory=list)


def suppression_reason(event: MessageEvent) -> str | None:
    """Why this event puts the recipient on the merchant's suppression list, if it does."""
    if event.status is MessageStatus.COMPLAINED:
        return "complaint"
    if event.status is MessageStatus.BOUNCED and event.details.get("bounce_type") == "Permanent":
        return "hard_bounce"
    return None


@dataclass(frozen=True)
class SesEventApplier:
    table: Table
    events_table: Table
    retention_days: int = 180

    def apply_record(self, body: str, now: datetime | None = None) -> Applied:
        """Apply every event of one SQS record body; raises SesNotificationError if unparseable."""
        now = now or datetime.now(UTC)
        parsed = parse_record_body(body)
        result = Applied(ignored_reason=parsed.ignored_reason)
        for event in parsed.events:
            self._apply(event, now, result)
        return result

    def _locate(self, event: MessageEvent) -> tuple[str, str, str] | None:
        tags = event.tags
        if tags.get("merchant") and tags.get("customer") and tags.get("message"):
            return tags["merchant"], tags["customer"], tags["message"]
        item = messages.find_by_ses_id(self.table, event.ses_message_id)
        if item is None:
            return None
        return item["merchant_id"], item["customer_id"], item["message_id"]

    def _apply(self, event: MessageEvent, now: datetime, result: Applied) -> None:
        expires_at = int((now + timedelta(days=self.retention_days)).timestamp())
        occurred = event.occurred_at.astimezone(UTC).isoformat()
        record: dict[str, Any] = {
            "type": "message_event",
            "event_type": str(event.event_type),
            "event_key": event.event_key,
            "ses_message_id": event.ses_message_id,
            "recipient": event.recipient,
            "status": str(event.status) if event.status else None,
            "details": dict(event.details),
            "occurred_at": occurred,
            "received_at": now.isoformat(),
            "expires_at": expires_at,
        }
        located = self._locate(event)
        if located is None:
            result.orphans += 1
            logger.info(
                "orphan SES event", extra={"ses_message_id": event.ses_message_id, "type": event.event_type}
            )
            messages.put_event(
                self.events_table,
                {
                    **keys.orphan_event(event.ses_message_id, occurred, event.event_key),
                    **record,
                    "tags": dict(event.tags),
                },
            )
            return
        merchant_id, customer_id, message_id = located
        event_key = keys.message_event(merchant_id, message_id, occurred, event.event_key)
        stored = messages.put_event(
            self.events_table,
            {
                **event_key,
                **record,
                "merchant_id": merchant_id,
                "customer_id": customer_id,
                "message_id": message_id,
            },
        )
        if stored:
            result.applied += 1
        else:
            result.duplicates += 1
        if event.status is None or event.event_type is SesEventType.SUBSCRIPTION:
            return
        changed = messages.raise_status(
            self.table,
            keys.message(merchant_id, customer_id, message_id),
            event.status,
            at=occurred,
            details={"event_type": str(event.event_type), **event.details},
        )
        if changed:
            result.status_changes += 1
            result.statuses.append(str(event.status))
        release_if_undelivered(self.table, merchant_id, customer_id, message_id, event.status, now=now)
        reason = suppression_reason(event)
        if reason is not None and stored:
            messages.suppress(
                self.table,
                merchant_id,
                event.recipient,
                reason=reason,
                at=occurred,
                source={"message_id": message_id, "ses_message_id": event.ses_message_id, **event.details},
            )
