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

A delivery-path event (``TOGETHER``) that moves its message's status skips step 2: the move
holds it on the message (``store/messages.py``), one write instead of two, atomically with the
status; one that does not move it (a late or repeated one) is stored as in step 2, after the
message is read, unless it is the event the message holds (a duplicate).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from couponflow import metrics
from couponflow.adapters.dynamodb import Item, Table, TransactAction, TransactionCanceled, Update
from couponflow.domain.message_status import RANK, MessageStatus
from couponflow.domain.reputation import SoftBounceRule, Thresholds, soft_bounce_burst
from couponflow.errors import RetryableError
from couponflow.services.release import release_if_undelivered
from couponflow.services.reputation import ReputationGuard
from couponflow.ses_notifications import MessageEvent, SesEventType, parse_record_body
from couponflow.store import campaign_stats, keys, messages, suppressions

logger = logging.getLogger(__name__)


# Statuses on the delivery path: nothing to suppress, release or guard; moved together per batch.
TOGETHER = frozenset(
    {
        MessageStatus.SENT,
        MessageStatus.DELAYED,
        MessageStatus.DELIVERED,
        MessageStatus.OPENED,
        MessageStatus.CLICKED,
    }
)


# Message moves per transaction: each may bring its campaign's counter, and a transaction takes 100.
MOVES_PER_TRANSACTION = 45


@dataclass(frozen=True)
class _Stored:
    """An event of a message of ours, and its timeline entry: written (or found written before),
    or for a delivery-path event, still to be held or written (``stored`` None)."""

    merchant_id: str
    customer_id: str
    message_id: str
    occurred: str
    stored: bool | None  # False: the same event was stored before (a duplicate)
    event_sk: str
    entry: Item  # the timeline item

    @property
    def key(self) -> dict[str, str]:
        return keys.message(self.merchant_id, self.customer_id, self.message_id)

    def order(self, event: MessageEvent) -> str:
        """Where ``event`` stands among the message's events: by time, then by content."""
        return f"{self.occurred}#{event.event_key}"


@dataclass(frozen=True)
class _Pending:
    """A delivery-path event whose status move (holding it) or timeline entry waits for the batch."""

    record: int  # index of its SQS record in the batch
    event: MessageEvent
    at: _Stored


def _decides(p: _Pending) -> tuple[int, str]:
    """Which of two events of one message decides its status: the higher rank, then the later."""
    return RANK[cast(MessageStatus, p.event.status)], p.at.order(p.event)


@dataclass
class Applied:
    """What one record did, for logs, metrics and tests."""

    applied: int = 0
    duplicates: int = 0
    orphans: int = 0
    status_changes: int = 0
    ignored_reason: str | None = None
    statuses: list[str] = field(default_factory=list)

    def moved(self, event: MessageEvent) -> None:
        """Count a status move this record's ``event`` made."""
        self.status_changes += 1
        self.statuses.append(str(event.status))
        metrics.message_moved("email", str(event.status))


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
        outcome = self.apply_records([body], now)[0]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def apply_records(self, bodies: list[str], now: datetime | None = None) -> list[Applied | Exception]:
        """Apply a batch of SQS record bodies; per body, what it did or why it failed.

        Events that only move a status up the delivery path (sent, delayed, delivered, opened,
        clicked: nothing to suppress, release or guard) have their status moves written
        together, each holding its event: one transaction for the batch's messages and one
        counter update per campaign (instead of a transaction and a counter write each); those
        that move nothing are stored one by one. Should anything have moved meanwhile, each is
        applied on its own. Every other event takes the one-by-one path of step 3.
        """
        now = now or datetime.now(UTC)
        outcomes: list[Applied | Exception] = []
        together: list[_Pending] = []
        for index, body in enumerate(bodies):
            try:
                parsed = parse_record_body(body, received_at=now)
                result = Applied(ignored_reason=parsed.ignored_reason)
                for event in parsed.events:
                    if event.status in TOGETHER and event.event_type is not SesEventType.SUBSCRIPTION:
                        stored = self._store(event, now, result, later=True)
                        if stored is not None:
                            together.append(_Pending(index, event, stored))
                    else:
                        self._apply(event, now, result)
                outcomes.append(result)
            except Exception as error:  # this record fails alone; its retry is idempotent
                outcomes.append(error)
        if together:
            try:
                self._move_together(together, outcomes)
            except Exception as error:  # e.g. DynamoDB unavailable: these records are retried
                for p in together:
                    outcomes[p.record] = error
        return outcomes

    def _locate(self, event: MessageEvent) -> tuple[str, str, str] | None:
        tags = event.tags
        if tags.get("merchant") and tags.get("customer") and tags.get("message"):
            return tags["merchant"], tags["customer"], tags["message"]
        item = messages.find_by_ses_id(self.table, event.ses_message_id)
        if item is None:
            return None
        return item["merchant_id"], item["customer_id"], item["message_id"]

    def _store(
        self, event: MessageEvent, now: datetime, result: Applied, *, later: bool = False
    ) -> _Stored | None:
        """Steps 1 and 2 for one event; None for an orphan (kept as such). ``later``: step 2 waits
        for the status move, which may hold the event instead (``_move_group``)."""
        located = self._locate(event)
        occurred = event.occurred_at.astimezone(UTC).isoformat()
        if located is None:
            if messages.is_erased(self.events_table, event.ses_message_id):
                return None  # the message's customer was erased: nothing of theirs is kept again
            result.orphans += 1
            logger.info(
                "orphan SES event",
                extra={
                    "ses_message_id": event.ses_message_id,
                    "type": event.event_type,
                    # no tags: a merchant notice's event, or an identity notification (matched only
                    # with SesIdentityNotifications=true)
                    "untagged": not event.tags,
                },
            )
            messages.put_event(
                self.events_table,
                {
                    **keys.orphan_event(event.ses_message_id, occurred, event.event_key),
                    **self._record(event, now, occurred, None),
                    "tags": dict(event.tags),
                },
            )
            return None
        merchant_id, customer_id, message_id = located
        event_key = keys.message_event(merchant_id, message_id, occurred, event.event_key)
        entry = {
            **event_key,
            **self._record(event, now, occurred, merchant_id),
            "merchant_id": merchant_id,
            "customer_id": customer_id,
            "message_id": message_id,
        }
        at = _Stored(merchant_id, customer_id, message_id, occurred, None, event_key["sk"], entry)
        return at if later else self._keep(at, result)

    def _keep(self, at: _Stored, result: Applied) -> _Stored:
        """Step 2: the event's timeline entry written once (a duplicate when it was before)."""
        stored = messages.put_event(self.events_table, at.entry)
        if stored:
            result.applied += 1
        else:
            result.duplicates += 1
        return replace(at, stored=stored)

    def _keep_unless_held(self, at: _Stored, item: Item, result: Applied) -> None:
        """Step 2 for a delivery-path event that moves nothing, ``item`` its message as read: a
        duplicate if it is the event the message holds, else stored."""
        if messages.is_held(item, at.event_sk):
            result.duplicates += 1
        else:
            self._keep(at, result)

    def _move_together(self, together: list[_Pending], outcomes: list[Applied | Exception]) -> None:
        """Step 3 for the batch's delivery-path events: per message the highest status, all in one
        transaction with a netted counter update per campaign; one by one if it is canceled."""
        by_message: dict[tuple[str, str], list[_Pending]] = {}
        for p in together:
            if not isinstance(outcomes[p.record], Exception):
                by_message.setdefault((p.at.key["pk"], p.at.key["sk"]), []).append(p)
        ordered = list(by_message.items())
        for start in range(0, len(ordered), MOVES_PER_TRANSACTION):
            self._move_group(dict(ordered[start : start + MOVES_PER_TRANSACTION]), outcomes)

    def _move_group(
        self, by_message: dict[tuple[str, str], list[_Pending]], outcomes: list[Applied | Exception]
    ) -> None:
        found = self._read_messages([ps[0].at.key for ps in by_message.values()])
        actions: list[TransactAction] = []
        moved: dict[tuple[str, str], list[tuple[str, str, str]]] = {}  # campaign -> (message, old, new)
        held: list[_Pending] = []
        displaced: list[Item] = []
        for k, pending in by_message.items():
            item = found.get(k)
            if item is None:  # erased: nothing of the customer is kept again
                erased = k[1].removeprefix("MESSAGE#")
                logger.info("event of an erased message dropped", extra={"message_id": erased})
                continue
            best = max(pending, key=_decides)
            moves = messages.status_move(
                item,
                cast(MessageStatus, best.event.status),
                at=best.at.occurred,
                details={"event_type": str(best.event.event_type), **best.event.details},
                event_order=best.at.order(best.event),
                held_until=int(best.at.entry["expires_at"]),
                spilled=True,  # below, before the transaction
            )
            for p in pending:
                result = outcomes[p.record]
                if not isinstance(result, Applied) or (moves and p is best):
                    continue
                if moves and p.at.event_sk == best.at.event_sk:  # the held one, twice in the batch
                    result.duplicates += 1
                else:
                    self._keep_unless_held(p.at, item, result)
            if not moves:
                continue
            actions.append(moves[0])
            held.append(best)
            if messages.holds_event(item):
                displaced.append(item)
            if len(moves) > 1:  # an email of a campaign that changed status: its counters move too
                old = str(item.get("status", MessageStatus.QUEUED))
                moved.setdefault((item["merchant_id"], item["campaign_id"]), []).append(
                    (item["message_id"], old, str(best.event.status))
                )
        for (merchant_id, campaign_id), changes in moved.items():
            counter = campaign_stats.net_moves(
                merchant_id, campaign_id, [c[0] for c in changes], [(c[1], c[2]) for c in changes]
            )
            if counter is not None:
                actions.append(counter)
        if not actions:
            return
        for item in displaced:
            messages.spill_held(self.events_table, item)
        try:
            self.table.transact(actions)
        except (TransactionCanceled, RetryableError):  # moved meanwhile, or a conflict: one by one
            for p in held:
                result = outcomes[p.record]
                if isinstance(result, Applied):
                    moved_one, _ = self._move(p.event, p.at, holding=result)
                    if moved_one:
                        result.moved(p.event)
            return
        for p in held:
            result = outcomes[p.record]
            if isinstance(result, Applied):
                result.applied += 1
                result.moved(p.event)

    def _read_messages(self, wanted: list[dict[str, str]]) -> dict[tuple[str, str], Item]:
        """The batch's messages, read eventually consistent (half the price): each move is
        conditioned on the status and held event read, so a stale copy only cancels the
        transaction, and the moves are then made one by one on consistent reads. A message the
        read misses is read again consistently before it counts as erased (one just written)."""
        found = {(i["pk"], i["sk"]): i for i in self.table.batch_get(wanted, consistent=False)}
        missing = [k for k in wanted if (k["pk"], k["sk"]) not in found]
        if missing:
            found.update({(i["pk"], i["sk"]): i for i in self.table.batch_get(missing, consistent=True)})
        return found

    def _record(
        self, event: MessageEvent, now: datetime, occurred: str, merchant_id: str | None
    ) -> dict[str, Any]:
        """The timeline item's fields for ``event``, kept the merchant's retention (an orphan's: ours)."""
        days = self._retention_days(merchant_id) if merchant_id else self.retention_days
        return {
            "type": "message_event",
            "event_type": str(event.event_type),
            "event_key": event.event_key,
            "ses_message_id": event.ses_message_id,
            "recipient": event.recipient,
            "status": str(event.status) if event.status else None,
            "details": dict(event.details),
            "occurred_at": occurred,
            "received_at": now.isoformat(),
            "expires_at": int((now + timedelta(days=days)).timestamp()),
        }

    def _apply(self, event: MessageEvent, now: datetime, result: Applied) -> None:
        """Steps 1 to 4 for one event."""
        at = self._store(event, now, result)
        if at is None or event.status is None or event.event_type is SesEventType.SUBSCRIPTION:
            return
        moved, campaign_id = self._move(event, at)
        if moved:
            result.moved(event)
        m = at.merchant_id
        release_if_undelivered(self.table, m, at.customer_id, at.message_id, event.status, now=now)
        if campaign_id and event.status in (MessageStatus.BOUNCED, MessageStatus.COMPLAINED):
            (self.guard or ReputationGuard(self.table, Thresholds())).check(m, campaign_id, now)

    def _forget(self, at: _Stored) -> None:
        """An event of a message that no longer exists (its customer was erased, see
        ``services/privacy.py``): the timeline entry just written is deleted, so nothing of the
        customer is kept again."""
        self.events_table.delete(
            {"pk": keys.message_events_partition(at.merchant_id, at.message_id), "sk": at.event_sk}
        )
        logger.info("event of an erased message dropped", extra={"message_id": at.message_id})

    def _move(
        self, event: MessageEvent, at: _Stored, *, holding: Applied | None = None
    ) -> tuple[bool, str | None]:
        """One transaction: the status move (conditioned on the rank just read), the campaign
        counter, and the suppression or soft-bounce record; re-read and retried on a lost race.
        ``holding``: a delivery-path event not stored yet, which its move holds (or which is
        stored here if it moves nothing), counted in that record's result."""
        assert event.status is not None
        details = {"event_type": str(event.event_type), **event.details}
        reason = suppression_reason(event)
        soft = is_soft_bounce(event)
        occurred, stored, event_sk, message_key = at.occurred, at.stored, at.event_sk, at.key
        until = int(at.entry["expires_at"]) if holding is not None else None
        for _ in range(messages.MOVE_ATTEMPTS):
            item = self.table.get(message_key)
            if item is None:
                if holding is None:
                    self._forget(at)
                return False, None
            merchant_id = str(item["merchant_id"])
            actions = messages.status_move(
                item,
                event.status,
                at=occurred,
                details=details,
                event_order=at.order(event),
                held_until=until,
                spilled=True,  # below, before the transaction
            )
            moved = bool(actions)
            if holding is not None and not moved:  # a delivery-path event: nothing to suppress
                self._keep_unless_held(at, item, holding)
                return False, item.get("campaign_id")
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
            if moved and messages.holds_event(item):
                messages.spill_held(self.events_table, item)
            try:
                self.table.transact(actions)
            except TransactionCanceled:
                continue
            if holding is not None:
                holding.applied += 1
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
