"""Pool alerts: when a campaign's code pool runs low, and when it runs out, the merchant hears once.

Each alert is armed per *pool version* (the count of loads into the pool): an alert sent at
version v stays quiet until codes are loaded again (version v+1), which re-arms both.
"""

from __future__ import annotations

from enum import StrEnum


class PoolAlert(StrEnum):
    LOW = "pool_low"
    EMPTY = "pool_empty"


def alerts_due(
    available: int,
    threshold: int | None,
    version: int,
    low_alerted_version: int | None,
    empty_alerted_version: int | None,
) -> list[PoolAlert]:
    """The alerts to send now; an empty pool sends only the empty alert (and silences the low one)."""
    if available <= 0:
        return [] if empty_alerted_version == version else [PoolAlert.EMPTY]
    if threshold is not None and available < threshold and low_alerted_version != version:
        return [PoolAlert.LOW]
    return []


def standing(available: int, threshold: int | None, *, loaded: bool) -> list[PoolAlert]:
    """What the campaigns list flags now (whether or not the merchant was emailed): an empty pool
    (once codes were ever loaded), or one below the campaign's alert threshold."""
    if available <= 0:
        return [PoolAlert.EMPTY] if loaded else []
    return [PoolAlert.LOW] if threshold is not None and available < threshold else []


def watch_ends(alerts_sent: list[PoolAlert]) -> bool:
    """After the empty alert nothing more can happen until codes are loaded (which watches again)."""
    return PoolAlert.EMPTY in alerts_sent
