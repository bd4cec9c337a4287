"""Settle messages whose hand-off to SES had no answer: ``unknown`` once the deadline passes.

The mailer marks a message ``handoff: unknown`` when SES's answer to its bulk call was lost, or
when a mailer died holding its send lease (``services/mailer.py``, "At most once"); such a message
is never sent again and sits on the sparse gsi3 ``UNKNOWN#<shard>`` by the time it was marked.
SES's events find it by its message tags and move it on like any other message. What is still
``queued`` there after ``deadline`` (60 minutes by default: SES publishes a delivery, bounce or
delay within minutes of accepting an email) gets the status ``unknown``, with the reason the
mailer recorded, so the merchant sees it instead of an email forever "queued". A message an event
moved meanwhile just changes index: the awaiting one while still in flight, none once final.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from couponflow.adapters.dynamodb import Table
from couponflow.domain.message_status import MessageStatus
from couponflow.store import keys, messages


@dataclass(frozen=True)
class SettleUnknownOutcomes:
    table: Table
    deadline: timedelta = timedelta(minutes=60)

    def __call__(self, now: datetime) -> dict[str, int]:
        before = (now - self.deadline).isoformat()
        minutes = f"{self.deadline.total_seconds() / 60:g}"
        settled = moved_on = 0
        for shard in range(keys.SWEEP_SHARDS):
            for item in messages.outcome_unknown_older_than(self.table, shard, before):
                key = {"pk": item["pk"], "sk": item["sk"]}
                if item.get("status", MessageStatus.QUEUED) == MessageStatus.QUEUED:
                    details = {
                        "reason": "outcome_unknown",
                        "detail": f"{item.get('handoff_reason', 'the hand-off had no answer')}; "
                        f"no SES event came within {minutes} minutes, and it is never sent again",
                        "handed_off_at": item.get("handoff_at"),
                    }
                    if messages.raise_status(
                        self.table, key, MessageStatus.UNKNOWN, at=now.isoformat(), details=details
                    ):
                        settled += 1
                        continue
                messages.leave_unknown(self.table, key)
                moved_on += 1
        return {"settled_unknown": settled, "moved_on": moved_on}
