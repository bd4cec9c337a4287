"""The pure reputation rules: campaign rates, the pause thresholds, and the soft-bounce window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from couponflow.domain.reputation import (
    SoftBounceRule,
    Thresholds,
    pause_reason,
    rates,
    soft_bounce_burst,
    soft_bounce_suppresses,
)
from hypothesis import given
from hypothesis import strategies as st

DEFAULTS = Thresholds()


def counts(**by_status: int) -> dict[str, int]:
    return by_status


def test_rates_count_every_message_ses_accepted_but_not_dropped_or_failed_ones():
    current = rates(counts(delivered=90, opened=5, bounced=3, complained=2, dropped=50, failed=7))
    assert current.attempted == 100
    assert current.bounce_rate == 0.03 and current.complaint_rate == 0.02


def test_rates_of_a_campaign_without_messages_are_zero():
    assert rates({}).bounce_rate == 0.0 and rates({}).complaint_rate == 0.0


def test_defaults_are_two_percent_bounces_and_five_hundredths_percent_complaints_over_100():
    assert (DEFAULTS.bounce_rate, DEFAULTS.complaint_rate, DEFAULTS.min_messages) == (0.02, 0.0005, 100)


@pytest.mark.parametrize(
    ("by_status", "expected"),
    [
        (counts(delivered=98, bounced=2), None),  # exactly 2%: not over
        (counts(delivered=97, bounced=3), "bounce_rate"),
        (counts(delivered=99, complained=1), "complaint_rate"),  # 1% > 0.05%
        (counts(delivered=2000, complained=1), None),  # 0.05% exactly
        (counts(delivered=2000, complained=2), "complaint_rate"),
        (counts(delivered=90, bounced=9), None),  # 99 messages: too few to judge
        (counts(delivered=90, bounced=5, complained=5), "complaint_rate"),  # complaints named first
    ],
)
def test_pause_reason_crosses_only_above_the_threshold_and_over_enough_messages(by_status, expected):
    assert pause_reason(by_status, DEFAULTS) == expected


def test_thresholds_come_from_settings():
    strict = Thresholds(bounce_rate=0.001, complaint_rate=0.5, min_messages=10)
    assert pause_reason(counts(delivered=9, bounced=1), strict) == "bounce_rate"


T0 = datetime(2026, 11, 1, tzinfo=UTC)
RULE = SoftBounceRule()


def test_three_soft_bounces_within_seven_days_suppress_and_two_do_not():
    assert soft_bounce_suppresses([T0, T0 + timedelta(days=3), T0 + timedelta(days=7)], RULE)
    assert not soft_bounce_suppresses([T0, T0 + timedelta(days=3)], RULE)


def test_soft_bounces_spread_over_more_than_the_window_do_not_suppress():
    spread = [T0, T0 + timedelta(days=5), T0 + timedelta(days=7, seconds=1)]
    assert not soft_bounce_suppresses(spread, RULE)


def test_the_burst_is_the_earliest_window_that_reaches_the_threshold():
    times = [
        T0,
        T0 + timedelta(days=20),
        T0 + timedelta(days=21),
        T0 + timedelta(days=22),
        T0 + timedelta(days=23),
    ]
    assert soft_bounce_burst(times, RULE) == times[1:4]


def test_the_soft_bounce_threshold_and_window_are_configurable():
    rule = SoftBounceRule(threshold=2, window=timedelta(hours=1))
    assert soft_bounce_suppresses([T0, T0 + timedelta(minutes=59)], rule)
    assert not soft_bounce_suppresses([T0, T0 + timedelta(minutes=61)], rule)


@given(st.lists(st.integers(min_value=0, max_value=60 * 24 * 30), max_size=12), st.randoms())
def test_the_soft_bounce_decision_does_not_depend_on_arrival_order(minutes, rnd):
    times = [T0 + timedelta(minutes=m) for m in minutes]
    shuffled = list(times)
    rnd.shuffle(shuffled)
    assert soft_bounce_burst(shuffled, RULE) == soft_bounce_burst(times, RULE)
