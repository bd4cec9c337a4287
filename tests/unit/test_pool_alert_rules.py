"""Pool alert rules and the pool-exhausted marker: pure functions of counts and versions."""

from __future__ import annotations

from couponflow.domain.campaign import Campaign
from couponflow.domain.pool_alerts import PoolAlert, alerts_due, watch_ends


def test_no_alert_while_the_pool_is_at_or_above_the_threshold():
    assert alerts_due(10, 10, 1, None, None) == []


def test_low_alert_is_due_below_the_threshold_once_per_pool_version():
    assert alerts_due(9, 10, 1, None, None) == [PoolAlert.LOW]
    assert alerts_due(5, 10, 1, 1, None) == []
    assert alerts_due(5, 10, 2, 1, None) == [PoolAlert.LOW]  # codes were loaded since: re-armed


def test_no_low_alert_without_a_threshold():
    assert alerts_due(1, None, 1, None, None) == []


def test_an_empty_pool_sends_only_the_empty_alert_once():
    assert alerts_due(0, 10, 3, None, None) == [PoolAlert.EMPTY]
    assert alerts_due(0, None, 3, None, 3) == []


def test_the_watch_ends_only_after_the_empty_alert():
    assert watch_ends([PoolAlert.EMPTY])
    assert not watch_ends([PoolAlert.LOW])


def test_the_exhausted_marker_holds_only_at_the_version_it_was_set():
    campaign = Campaign("m", "c", "n", "s", "email", pool_version=4, pool_exhausted_version=4)
    assert campaign.pool_known_empty
    assert not Campaign(
        "m", "c", "n", "s", "email", pool_version=5, pool_exhausted_version=4
    ).pool_known_empty
    assert not Campaign("m", "c", "n", "s", "email", pool_version=0).pool_known_empty
