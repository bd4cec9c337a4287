"""Flag messages that SES took but that reached no final status within 72 hours of sending.

The mailer puts a message on the awaiting index (gsi2 ``AWAITING#<shard>``, by sent time) when it
hands it to SES; a final status (``domain.message_status.FINAL_STATUSES``) takes it off. What is
still there after the limit gets ``needs_attention`` (shown in the customer and message views)
and leaves the index, so it is flagged once; a final status arriving later clears the flag.
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
        flagged = cleared = 0
        hours = int(self.limit.total_seconds() // 3600)
        for shard in range(keys.SWEEP_SHARDS):
            for item in messages.awaiting_older_than(self.table, shard, before):
                key = {"pk": item["pk"], "sk": item["sk"]}
                if MessageStatus(item.get("status", MessageStatus.QUEUED)) in FINAL_STATUSES:
                    messages.leave_awaiting(self.table, key)
                    cleared += 1
                elif messages.flag_needs_attention(
                    self.table,
                    key,
                    at=now.isoformat(),
                    reason=f"no final status within {hours} hours of sending (still {item.get('status')})",
                ):
                    flagged += 1
        return {"flagged": flagged, "cleared": cleared}
