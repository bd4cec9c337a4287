"""Re-queue coupon messages that were written with their claim but never reached the mail queue.

The claim writes the message in its transaction and then sends the mail job; if the function
died in between, the message would wait forever. Anything still queued after a grace period
is queued again (the mailer sends each message at most once, so a duplicate job is harmless);
anything that has moved on leaves the outbox index.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from couponflow.adapters import sqs
from couponflow.adapters.dynamodb import Table
from couponflow.domain.message_status import MessageStatus
from couponflow.store import keys, messages


@dataclass(frozen=True)
class RequeueOutbox:
    table: Table
    mail_queue_url: str
    grace: timedelta = timedelta(minutes=5)

    def __call__(self, now: datetime) -> dict[str, int]:
        before = (now - self.grace).isoformat()
        requeued = cleared = 0
        jobs = []
        for shard in range(keys.OUTBOX_SHARDS):
            for item in messages.outbox_older_than(self.table, shard, before):
                if item.get("status") == MessageStatus.QUEUED and not item.get("ses_message_id"):
                    jobs.append(
                        {
                            "merchant_id": item["merchant_id"],
                            "customer_id": item["customer_id"],
                            "message_id": item["message_id"],
                        }
                    )
                    requeued += 1
                else:
                    messages.leave_outbox(self.table, {"pk": item["pk"], "sk": item["sk"]})
                    cleared += 1
        sqs.send_json_batch(self.mail_queue_url, jobs)
        return {"requeued": requeued, "cleared": cleared}
