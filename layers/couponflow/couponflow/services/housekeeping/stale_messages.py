"""Flag messages that SES took but that reached no final status within 72 hours of sending.

The mailer puts a message on the awaiting index (gsi3 ``AWAITING#<shard>``, by sent time) when it
hands it to SES, and the entry stays there (``store/keys.py``). Each sweep reads, shard by
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

from dataclasses import dataclass
from datetime import datetime, timedelta

from couponflow.adapters.dynamodb import Table
from couponflow.domain.message_status import FINAL_STATUSES, MessageStatus
from couponflow.store import keys, messages


@dataclass(frozen=True)
class FlagStaleMessages:
    table: Table
    limit: timedelta = timedelta(hours=72)

    def __call__(self, now: datetime) -> dict[str, int]:
        before = (now - self.limit).isoformat()
        flagged = read = 0
        hours = int(self.limit.total_seconds() // 3600)
        for shard in range(keys.SWEEP_SHARDS):
            found, mark = messages.awaiting_since_mark(self.table, shard, before)
            for item in found:
                read += 1
                status = MessageStatus(item.get("status", MessageStatus.QUEUED))
                if status not in FINAL_STATUSES and messages.flag_needs_attention(
                    self.table,
                    {"pk": item["pk"], "sk": item["sk"]},
                    at=now.isoformat(),
                    reason=f"no final status within {hours} hours of sending (still {status})",
                ):
                    flagged += 1
            if mark is not None:
                messages.move_awaiting_mark(self.table, shard, mark)
        return {"flagged": flagged, "read": read}
