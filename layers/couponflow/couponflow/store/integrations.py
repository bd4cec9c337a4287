"""Email-provider connections and the integration status of claims, in DynamoDB.

The connection item (``keys.email_provider``) holds what is not secret (provider type, list,
URL, double opt-in, a masked hint of the credential) and the ARN of the Secrets Manager secret
that holds the credential itself. A claim's sync state lives on the claim item:
``integration_status``, ``integration_reason``, ``integration_detail``, ``integration_pushed_at``.
"""

from __future__ import annotations

import contextlib

from couponflow.adapters.dynamodb import ConditionFailed, Item, Table
from couponflow.domain.integration_status import IntegrationStatus, SyncOutcome
from couponflow.store import keys


def get_connection(table: Table, merchant_id: str, *, consistent: bool = True) -> Item | None:
    return table.get(keys.email_provider(merchant_id), consistent=consistent)


def put_connection(table: Table, merchant_id: str, fields: Item) -> tuple[Item, Item | None]:
    """Write the connection; returns it and the one it replaced (in one write: no race)."""
    item = {
        **keys.email_provider(merchant_id),
        "type": "email_provider",
        "merchant_id": merchant_id,
        **fields,
    }
    return item, table.put(item)


def delete_connection(table: Table, merchant_id: str) -> Item | None:
    """Remove the connection; returns the item that was there (None if there was none)."""
    return table.delete(keys.email_provider(merchant_id))


def mark_pushed(table: Table, merchant_id: str, customer_id: str, campaign_id: str, now: str) -> None:
    """Note that a push to the provider is about to happen (only while the status is pending)."""
    table.update(
        keys.claim(merchant_id, customer_id, campaign_id),
        "SET integration_pushed_at = if_not_exists(integration_pushed_at, :now)",
        condition="integration_status = :pending",
        values={":now": now, ":pending": str(IntegrationStatus.PENDING)},
    )


def settle(
    table: Table, merchant_id: str, customer_id: str, campaign_id: str, *, outcome: SyncOutcome, now: str
) -> bool:
    """Write a final status, only over ``pending`` (a final status never flips). False if it was final."""
    expression = "SET integration_status = :status, integration_detail = :detail, integration_at = :now"
    values = {
        ":status": str(outcome.status),
        ":detail": outcome.detail[:500],
        ":now": now,
        ":pending": str(IntegrationStatus.PENDING),
    }
    if outcome.reason is not None:
        expression += ", integration_reason = :reason"
        values[":reason"] = str(outcome.reason)
    try:
        table.update(
            keys.claim(merchant_id, customer_id, campaign_id),
            expression,
            condition="integration_status = :pending",
            values=values,
        )
    except ConditionFailed:
        return False
    return True


def clear(table: Table, merchant_id: str, customer_id: str, campaign_id: str) -> bool:
    """Back to blank (the provider was disconnected before the job ran); only over ``pending``."""
    try:
        table.update(
            keys.claim(merchant_id, customer_id, campaign_id),
            "REMOVE integration_status, integration_pushed_at",
            condition="integration_status = :pending",
            values={":pending": str(IntegrationStatus.PENDING)},
        )
    except ConditionFailed:
        return False
    return True


# -- watching pending syncs (the sweep in services/housekeeping/pending_syncs.py) -----------------


def watch_sync(table: Table, merchant_id: str, customer_id: str, campaign_id: str, *, since: str) -> None:
    """Put the marker that makes housekeeping look at this claim's sync if still pending a while
    after ``since`` (once: a repeat claim keeps the first marker)."""
    item = {
        **keys.sync_watch(merchant_id, customer_id, campaign_id),
        **keys.sync_pending_index(merchant_id, customer_id, campaign_id, since),
        "type": "sync_watch",
        "merchant_id": merchant_id,
        "customer_id": customer_id,
        "campaign_id": campaign_id,
        "requeues": 0,
    }
    with contextlib.suppress(ConditionFailed):  # watched already (a repeat claim)
        table.put(item, condition="attribute_not_exists(pk)")


def unwatch_sync(table: Table, merchant_id: str, customer_id: str, campaign_id: str) -> None:
    table.delete(keys.sync_watch(merchant_id, customer_id, campaign_id))


def syncs_waiting_since(table: Table, shard: int, before: str) -> list[Item]:
    """Watched syncs of one shard last (re-)queued before ``before`` (ISO time)."""
    return table.query(
        "gsi2pk = :pk AND gsi2sk < :before",
        {":pk": keys.sync_pending_partition(shard), ":before": before},
        index=keys.GSI2,
    )


def requeued(table: Table, watch: Item, *, at: str) -> bool:
    """Count one re-queue made ``at`` (the marker waits from then); False if another run did it first.
    A retry of this count that went in (its answer lost, the SDK sending it again) finds its own
    count there: counted (read as another run's, the claim's sync would wait a round unqueued)."""
    index = keys.sync_pending_index(watch["merchant_id"], watch["customer_id"], watch["campaign_id"], at)
    try:
        table.update(
            {"pk": watch["pk"], "sk": watch["sk"]},
            "SET requeues = requeues + :one, gsi2sk = :due",
            condition="requeues = :seen",
            values={":one": 1, ":due": index["gsi2sk"], ":seen": watch["requeues"]},
        )
    except ConditionFailed as failed:
        found = failed.item or {}
        return found.get("gsi2sk") == index["gsi2sk"] and found.get("requeues") == watch["requeues"] + 1
    return True
