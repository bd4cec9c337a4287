"""Tell merchants when a campaign's code pool runs low and when it runs out, once each.

Housekeeping sweeps the campaigns on the pool watch index (put there when codes are loaded),
counts each one's available codes with a COUNT query per pool shard (so the claim path gains no
counter, no hot key), and sends the alerts that ``domain.pool_alerts`` says are due. Each alert
is taken with a conditional write on the campaign before it is delivered (at most one sweep
sends it); a transient delivery failure gives it back (the next sweep tries again) without
holding up the other merchants' alerts; an endpoint that refuses it for good is not retried.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from couponflow import metrics
from couponflow.adapters.dynamodb import Item, Table
from couponflow.domain.pool_alerts import PoolAlert, alerts_due, watch_ends
from couponflow.errors import PermanentSendError, RetryableError
from couponflow.services.notifications import Notice, notify_merchant
from couponflow.store import campaigns, keys

logger = logging.getLogger(__name__)


def notice_for(alert: PoolAlert, campaign: Item, available: int) -> Notice:
    name = campaign.get("name", campaign["campaign_id"])
    key = f"{campaign['campaign_id']}/{int(campaign.get('pool_version', 0))}"  # once per pool version
    data = {
        "campaign_id": campaign["campaign_id"],
        "campaign_name": name,
        "codes_available": available,
        "threshold": campaign.get("pool_alert_threshold"),
    }
    if alert is PoolAlert.EMPTY:
        text = (
            f"Campaign '{name}' has no coupon codes left. "
            "Customers who claim now are told it is out of coupons."
        )
        return Notice(str(alert), f"Out of coupon codes: {name}", text, data, key=key)
    text = (
        f"Campaign '{name}' has {available} coupon codes left, below your alert threshold of "
        f"{campaign.get('pool_alert_threshold')}. Load more codes to keep it running."
    )
    return Notice(str(alert), f"Coupon codes running low: {name}", text, data, key=key)


@dataclass(frozen=True)
class PoolAlerts:
    table: Table
    sender: str
    configuration_set: str | None = None
    allow_private_hosts: bool = False  # notice webhooks on internal hosts (local stack, tests)

    def __call__(self, now: datetime) -> dict[str, int]:
        checked = sent = failed = 0
        for shard in range(keys.POOL_WATCH_SHARDS):
            for campaign in campaigns.watched_for_pool_alerts(self.table, shard):
                checked += 1
                done, undelivered = self._check(campaign)
                sent, failed = sent + done, failed + undelivered
        return {"checked": checked, "alerts_sent": sent, "alerts_failed": failed}

    def _check(self, campaign: Item) -> tuple[int, int]:
        m, c = campaign["merchant_id"], campaign["campaign_id"]
        version = int(campaign.get("pool_version", 0))
        threshold = campaign.get("pool_alert_threshold")
        available = campaigns.count_available(self.table, m, c)  # 16 counters, whatever the pool size
        metrics.codes_left(c, available)
        due = alerts_due(
            available,
            threshold,
            version,
            campaign.get("pool_low_alerted_version"),
            campaign.get("pool_empty_alerted_version"),
        )
        sent: list[PoolAlert] = []
        failed = 0
        for alert in due:
            if not campaigns.take_pool_alert(self.table, m, c, str(alert), version):
                continue
            try:
                notify_merchant(
                    self.table,
                    m,
                    notice_for(alert, campaign, available),
                    sender=self.sender,
                    configuration_set=self.configuration_set,
                    allow_private_hosts=self.allow_private_hosts,
                )
            except PermanentSendError:  # the merchant's endpoint refuses it: retrying will not help
                logger.warning(
                    "pool alert refused", extra={"merchant_id": m, "campaign_id": c, "alert": alert}
                )
            except (RetryableError, OSError):  # give it back: the next sweep tries again
                campaigns.give_back_pool_alert(self.table, m, c, str(alert), version)
                logger.warning("pool alert not delivered", extra={"merchant_id": m, "campaign_id": c})
                failed += 1
                continue
            sent.append(alert)
        if watch_ends(sent) or (available <= 0 and not due):
            campaigns.stop_watching_pool(self.table, m, c, version)
        return len(sent), failed
