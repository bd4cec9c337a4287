"""Flag messages that SES took but that reached no final status within 72 hours of sending.

The mailer puts a message on the awaiting index (gsi3 ``AWAITING#<shard>``, by sent time) when it
hands it to SES, and the entry stays there (``store/keys.py``); a segment send's emails wait for
their send's finish instead (``watch_in_flight``). Each sweep reads, shard by
shard, the entries older than the limit that it has not read before (past the shard's mark,
moved to the last entry read once they are dealt with), so it reads each message once:
one still without a final status gets ``needs_attention`` (shown in the customer and message
views); a final status arriving later clears the flag.

Why the mark holds: an entry's time is its own hand-off (or, for a message whose hand-off was
unknown, the moment that became so, moved to the awaiting index within the unknown-outcome
deadline of an hour), so no entry is ever written behind a mark 72 hours in the past. A sweep
that dies part-way leaves the mark where it was, and the next one reads those entries again (a
flagged message has left the index, so the second read changes nothing).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from couponflow.adapters.dynamodb import Item, Table
from couponflow.domain.message_status import FINAL_STATUSES, MessageStatus
from couponflow.store import keys, messages

STALE_AFTER = timedelta(hours=72)
# How far ahead of the sweep's mark a finished send's entries must sort (see ``watch_in_flight``):
# five times the longest a housekeeping run can last (the template's timeout, 120 s), so no sweep
# running meanwhile moves its mark past an entry while it is being written.
MARK_MARGIN = timedelta(minutes=10)


def reason(hours: int, status: MessageStatus) -> str:
    """What the message views show beside the ``needs_attention`` flag."""
    return f"no final status within {hours} hours of sending (still {status})"


@dataclass(frozen=True)
class FlagStaleMessages:
    table: Table
    limit: timedelta = STALE_AFTER

    def __call__(self, now: datetime) -> dict[str, int]:
        before = (now - self.limit).isoformat()
        flagged = read = 0
        hours = int(self.limit.total_seconds() // 3600)
        for shard in range(keys.SWEEP_SHARDS):
            found, mark = messages.awaiting_since_mark(self.table, shard, before)
            for item in found:
                read += 1
                status = MessageStatus(item.get("status", MessageStatus.QUEUED))
                key = {"pk": item["pk"], "sk": item["sk"]}
                if status not in FINAL_STATUSES and messages.flag_needs_attention(
                    self.table, key, at=now.isoformat(), reason=reason(hours, status)
                ):
                    flagged += 1
            if mark is not None:
                messages.move_awaiting_mark(self.table, shard, mark)
        return {"flagged": flagged, "read": read}


def watch_in_flight(
    table: Table, emails: Iterable[Item], now: datetime, limit: timedelta = STALE_AFTER
) -> dict[str, int]:
    """Watch a finishing segment send's emails that still have no final status (``emails``: its
    messages as read at ``now``): the send's messages skip the awaiting index at their hand-off
    (``messages.awaits_on_its_own``), because the send reads every one of them before it is done
    and most have their final status by then; this puts those still in flight there.

    Why nothing is missed: each goes on the index by its own hand-off time, so the sweep reads it
    ``limit`` after that hand-off, as it reads a claim's email; one handed off so long ago that
    its entry could sort behind the sweep's mark (the mark never passes ``now - limit``; the
    margin covers a sweep running meanwhile) is flagged here instead, up to ten minutes early.
    Both writes are conditional (no final status; no gsi3 entry) and a flagged message is passed
    over, so a finish that runs again changes nothing; a message on the unknown-outcome index is
    left to that index's deadline, which moves it on.
    """
    flag_before = (now - limit + MARK_MARGIN).isoformat()
    hours = int(limit.total_seconds() // 3600)
    watched = flagged = 0
    for item in emails:
        status = MessageStatus(item.get("status", MessageStatus.QUEUED))
        if status in FINAL_STATUSES or item.get("gsi3pk") or item.get("needs_attention"):
            continue
        key = {"pk": item["pk"], "sk": item["sk"]}
        handed_off_at = str(item.get("sent_at") or item.get("handoff_at") or item["status_at"])
        if handed_off_at < flag_before:
            why = reason(hours, status)
            flagged += messages.flag_needs_attention(table, key, at=now.isoformat(), reason=why)
        else:
            watched += messages.await_verdict(table, key, handed_off_at=handed_off_at)
    return {"watched": watched, "flagged": flagged}
