"""Applying SES events to messages: where a bounce, a delivery or an open changes a status.

For each recipient event in a record:

1. find the message: from the tags the mailer set (merchant, customer, message), or for identity
   notifications (no tags) from SES's message id; events for messages we did not send are kept
   as orphans, not errors;
2. store the event in the message's timeline, keyed on the event's content (so the same SES event
   delivered twice is stored once, whatever SNS or SQS message carried it);
3. in ONE transaction: raise the message status by precedence (``domain.message_status``),
   conditioned on the exact rank read just before (a lost race is re-read and retried), move the
   campaign's counter shard (old status -1, new +1), and put hard bounces and complaints (or the
   third soft bounce within the window) on the merchant's suppression list; so an event costs
   at most two write requests (the timeline put and this transaction);
4. after a bounce or complaint, let the reputation guard look at the campaign's rates.

Step 3 runs for duplicates too: it is idempotent (the rank condition and the soft bounces keyed
by event), and re-running it heals a record whose first processing stopped half-way.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from couponflow.adapters.dynamodb import Table, TransactionCanceled, Update
from couponflow.domain.message_status import MessageStatus
from couponflow.domain.reputation import SoftBounceRule, Thresholds, soft_bounce_burst
from couponflow.errors import RetryableError
from couponflow.services.release import release_if_undelivered
from couponflow.services.reputation import ReputationGuard
from couponflow.ses_notifications import MessageEvent, SesEventType, parse_record_body
from couponflow.store import keys, messages, suppressions

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


def is_soft_bounce(event: MessageEvent) -> bool:
    """A transient bounce (mailbox full, message too large...): suppresses only when repeated."""
    return event.status is MessageStatus.BOUNCED and event.details.get("bounce_type") == "Transient"


RETENTION_CACHE_SECONDS = 300.0


@dataclass(frozen=True)
class SesEventApplier:
    table: Table
    events_table: Table
    retention_days: int = 180  # when the merchant has no retention setting of their own
    guard: ReputationGuard | None = None
    soft_bounce_rule: SoftBounceRule = field(default_factory=SoftBounceRule)
    _retention: dict[str, tuple[int, float]] = field(default_factory=dict, repr=False, compare=False)

    def _retention_days(self, merchant_id: str) -> int:
        """The merchant's ``message_event_retention_days`` (cached a few minutes per warm function)."""
        cached = self._retention.get(merchant_id)
        if cached and time.monotonic() - cached[1] < RETENTION_CACHE_SECONDS:
            return cached[0]
        profile = self.table.get(keys.merchant(merchant_id), consistent=False) or {}
        days = int(profile.get("message_event_retention_days") or self.retention_days)
        self._retention[merchant_id] = (days, time.monotonic())
        return days

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
        record["expires_at"] = int((now + timedelta(days=self._retention_days(merchant_id))).timestamp())
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
        message_key = keys.message(merchant_id, customer_id, message_id)
        moved, campaign_id = self._move(
            event, message_key, occurred=occurred, stored=stored, event_sk=event_key["sk"]
        )
        if moved:
            result.status_changes += 1
            result.statuses.append(str(event.status))
        release_if_undelivered(self.table, merchant_id, customer_id, message_id, event.status, now=now)
        if campaign_id and event.status in (MessageStatus.BOUNCED, MessageStatus.COMPLAINED):
            (self.guard or ReputationGuard(self.table, Thresholds())).check(merchant_id, campaign_id, now)

    def _move(
        self, event: MessageEvent, message_key: dict[str, str], *, occurred: str, stored: bool, event_sk: str
    ) -> tuple[bool, str | None]:
        """One transaction: the status move (conditioned on the rank just read), the campaign
        counter, and the suppression or soft-bounce record; re-read and retried on a lost race."""
        assert event.status is not None
        details = {"event_type": str(event.event_type), **event.details}
        reason = suppression_reason(event)
        soft = is_soft_bounce(event)
        for _ in range(messages.MOVE_ATTEMPTS):
            item = self.table.get(message_key)
            if item is None:
                return False, None
            merchant_id = str(item["merchant_id"])
            actions = messages.status_move(item, event.status, at=occurred, details=details)
            moved = bool(actions)
            source = {
                "message_id": item["message_id"],
                "ses_message_id": event.ses_message_id,
                **event.details,
            }
            if reason is not None and (stored or moved):
                actions.append(
                    suppressions.suppress_action(
                        merchant_id, event.recipient, reason=reason, at=occurred, source=source
                    )
                )
            if soft:
                actions.extend(self._soft_bounce_actions(merchant_id, event, occurred, event_sk, source))
            if not actions:
                return False, item.get("campaign_id")
            try:
                self.table.transact(actions)
            except TransactionCanceled:
                continue
            return moved, item.get("campaign_id")
        raise RetryableError(f"message {message_key} kept changing under event {event.event_key}; retry")

    def _soft_bounce_actions(
        self, merchant_id: str, event: MessageEvent, occurred: str, event_sk: str, source: dict[str, Any]
    ) -> list[Update]:
        seen = suppressions.soft_bounces(self.table, merchant_id, event.recipient)
        bounces: dict[str, Any] = dict((seen or {}).get("bounces", {}))
        if event_sk in bounces:
            return []
        this = {"occurred_at": occurred, **source}
        actions = [suppressions.record_soft_bounce_action(merchant_id, event.recipient, seen, event_sk, this)]
        bounces[event_sk] = this
        times = {k: datetime.fromisoformat(str(v["occurred_at"])) for k, v in bounces.items()}
        burst = soft_bounce_burst(times.values(), self.soft_bounce_rule)
        if burst:
            causes = [
                {"event": k, **bounces[k]}
                for k, t in sorted(times.items(), key=lambda kv: kv[1])
                if t in burst
            ]
            actions.append(
                suppressions.suppress_action(
                    merchant_id,
                    event.recipient,
                    reason="soft_bounce",
                    at=occurred,
                    source={"soft_bounces": causes[: self.soft_bounce_rule.threshold]},
                )
            )
        return actions
