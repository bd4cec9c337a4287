"""The reputation guard: pause a campaign whose bounce or complaint rate crosses its threshold,
and tell the merchant, once.

Called after a bounce or complaint was applied. The pause is a conditional write that only the
first crossing wins (``reputation_paused_at`` is set once per campaign, so a merchant who resumes
the campaign is not overruled by the next bounce); the notice is sent after the pause and marked
sent, so a record retried after a failed notice sends it then, and never a second time after
it was marked.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime

from couponflow import metrics
from couponflow.adapters.dynamodb import ConditionFailed, Table
from couponflow.domain.reputation import Thresholds, pause_reason, rates
from couponflow.services.notifications import Notice, notify_merchant
from couponflow.store import campaign_stats, keys

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReputationGuard:
    table: Table
    thresholds: Thresholds
    sender: str | None = None
    configuration_set: str | None = None
    allow_private_hosts: bool = False  # notice webhooks on internal hosts (local stack, tests)

    def check(self, merchant_id: str, campaign_id: str, now: datetime) -> str | None:
        """Pause the campaign if its rates crossed a threshold; returns the reason when it paused it."""
        key = keys.campaign(merchant_id, campaign_id)
        campaign = self.table.get(key)
        if campaign is None:
            return None
        if campaign.get("reputation_paused_at"):
            if not campaign.get("reputation_notified_at"):
                self._notify(merchant_id, campaign, now)
            return None
        counts = campaign_stats.counts(self.table, merchant_id, campaign_id)
        current = rates(counts)
        metrics.reputation_rates(campaign_id, current.bounce_rate, current.complaint_rate)
        reason = pause_reason(counts, self.thresholds)
        if reason is None:
            return None
        try:
            paused = self.table.update(
                key,
                "SET paused = :yes, paused_reason = :reason, reputation_paused_at = :at, "
                "reputation_rates = :rates",
                condition="attribute_exists(pk) AND attribute_not_exists(reputation_paused_at)",
                values={
                    ":yes": True,
                    ":reason": reason,
                    ":at": now.isoformat(),
                    ":rates": {
                        "attempted": current.attempted,
                        "bounced": current.bounced,
                        "complained": current.complained,
                        "bounce_rate": str(round(current.bounce_rate, 6)),
                        "complaint_rate": str(round(current.complaint_rate, 6)),
                    },
                },
                return_new=True,
            )
        except ConditionFailed:
            return None  # another invocation paused it first, and notifies
        metrics.reputation_paused()
        logger.warning(
            "campaign paused by the reputation guard",
            extra={"merchant_id": merchant_id, "campaign_id": campaign_id, "reason": reason},
        )
        self._notify(merchant_id, paused or campaign, now)
        return reason

    def _notify(self, merchant_id: str, campaign: dict[str, object], now: datetime) -> None:
        if not self.sender:
            logger.warning("no sender address: campaign pause not notified")
            return
        name = str(campaign.get("name") or campaign.get("campaign_id"))
        reason = str(campaign.get("paused_reason"))
        stats = campaign.get("reputation_rates") or {}
        what = "bounce rate" if reason == "bounce_rate" else "complaint rate"
        notice = Notice(
            kind="campaign_paused",
            subject=f"Campaign '{name}' paused: {what} too high",
            text=(
                f"Sending for campaign '{name}' was paused automatically because its {what} crossed "
                f"the threshold ({stats}). Review the bounced and complained addresses (they are on "
                "your suppression list) before resuming the campaign."
            ),
            data={"campaign_id": campaign.get("campaign_id"), "reason": reason, "rates": stats},
            key=f"{campaign.get('campaign_id')}/{campaign.get('reputation_paused_at')}",
        )
        notify_merchant(
            self.table,
            merchant_id,
            notice,
            sender=self.sender,
            configuration_set=self.configuration_set,
            allow_private_hosts=self.allow_private_hosts,
        )
        with contextlib.suppress(ConditionFailed):  # marked by a concurrent notice
            self.table.update(
                keys.campaign(merchant_id, str(campaign.get("campaign_id"))),
                "SET reputation_notified_at = :at",
                condition="attribute_not_exists(reputation_notified_at)",
                values={":at": now.isoformat()},
            )
