"""Re-queue provider syncs still ``pending`` after a while, and give up on them in the end.

A consenting claim (with a provider connected) is watched from before it is written: a marker
beside the claim on the sparse gsi2 ``SYNCPENDING#<shard>``, by the time it was last queued.
The provider-sync function deletes the marker once the claim's status is final. So what this
sweep finds after ``after`` (default 15 minutes) is a sync whose job was lost (never queued:
the claim answered 503 and the customer never retried; or dropped), or one the queue is still
retrying. It queues the job again (the sync is idempotent on the claim, so a duplicate does no
harm) and counts it; after ``max_requeues`` re-queues the claim is settled ``failed`` /
``provider_error``, so no claim stays ``pending`` forever. A marker whose claim is not pending
(settled, cleared, never written) is just removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from couponflow.adapters import sqs
from couponflow.adapters.dynamodb import Table
from couponflow.domain.integration_status import IntegrationFailure, IntegrationStatus, SyncOutcome
from couponflow.store import integrations, keys


@dataclass(frozen=True)
class RequeuePendingSyncs:
    table: Table
    integration_queue_url: str
    after: timedelta = timedelta(minutes=15)
    max_requeues: int = 3

    def __call__(self, now: datetime) -> dict[str, int]:
        before = (now - self.after).isoformat()
        stamp = now.isoformat()
        done = {"requeued": 0, "gave_up": 0, "cleared": 0}
        for shard in range(keys.SWEEP_SHARDS):
            for watch in integrations.syncs_waiting_since(self.table, shard, before):
                m, cus, c = watch["merchant_id"], watch["customer_id"], watch["campaign_id"]
                claim = self.table.get(keys.claim(m, cus, c))
                if claim is None or claim.get("integration_status") != IntegrationStatus.PENDING:
                    integrations.unwatch_sync(self.table, m, cus, c)
                    done["cleared"] += 1
                elif int(watch.get("requeues", 0)) >= self.max_requeues:
                    minutes = int(self.after.total_seconds() // 60)
                    outcome = SyncOutcome.failed(
                        IntegrationFailure.PROVIDER_ERROR,
                        f"still pending after {self.max_requeues} re-queues, {minutes} minutes apart",
                    )
                    integrations.settle(self.table, m, cus, c, outcome=outcome, now=stamp)
                    integrations.unwatch_sync(self.table, m, cus, c)
                    done["gave_up"] += 1
                elif integrations.requeued(self.table, watch, at=stamp):
                    job = {"merchant_id": m, "campaign_id": c, "customer_id": cus}
                    sqs.send_json(self.integration_queue_url, job)
                    done["requeued"] += 1
        return done
