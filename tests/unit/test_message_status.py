"""Message status precedence: derived from all events seen, never by arrival order."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from couponflow.domain.message_status import (
    FINAL_STATUSES,
    RANK,
    MessageStatus,
    derive_status,
    rank,
    stronger,
)

S = MessageStatus


@dataclass(frozen=True)
class Seen:
    status: MessageStatus | None


def statuses(*values: MessageStatus | None) -> list[Seen]:
    return [Seen(value) for value in values]


def test_rank_orders_statuses_from_queued_to_failed() -> None:
    ordered = [S.QUEUED, S.SENT, S.DELAYED, S.DELIVERED, S.OPENED, S.CLICKED]
    ordered += [S.COMPLAINED, S.BOUNCED, S.DROPPED, S.FAILED]
    assert [rank(s) for s in ordered] == [0, 10, 20, 30, 40, 50, 60, 70, 80, 90]
    assert set(RANK) == set(MessageStatus)


def test_status_values_are_the_lower_case_words_stored_and_shown() -> None:
    assert [s.value for s in MessageStatus] == [
        "queued",
        "unknown",
        "sent",
        "delayed",
        "delivered",
        "opened",
        "clicked",
        "complained",
        "bounced",
        "dropped",
        "failed",
    ]


def test_final_statuses_are_everything_past_delayed_and_unknown() -> None:
    assert frozenset({S.QUEUED, S.SENT, S.DELAYED}) == frozenset(MessageStatus) - FINAL_STATUSES
    assert all(rank(s) >= rank(S.DELIVERED) for s in FINAL_STATUSES - {S.UNKNOWN})


def test_any_event_outranks_unknown_so_an_outcome_learned_late_still_shows() -> None:
    assert all(stronger(S.UNKNOWN, s) is s for s in MessageStatus if s not in (S.QUEUED, S.UNKNOWN))
    assert stronger(S.QUEUED, S.UNKNOWN) is S.UNKNOWN


@pytest.mark.parametrize(
    ("a", "b", "winner"), [(S.SENT, S.DELIVERED, S.DELIVERED), (S.BOUNCED, S.OPENED, S.BOUNCED)]
)
def test_stronger_returns_the_higher_ranked_status_whatever_the_argument_order(
    a: MessageStatus, b: MessageStatus, winner: MessageStatus
) -> None:
    assert stronger(a, b) is winner
    assert stronger(b, a) is winner


def test_open_without_delivery_means_opened() -> None:
    assert derive_status(statuses(S.SENT, S.OPENED)) is S.OPENED


def test_bounce_after_delivery_wins() -> None:
    assert derive_status(statuses(S.SENT, S.DELIVERED, S.BOUNCED)) is S.BOUNCED


def test_late_delivery_never_overwrites_a_bounce() -> None:
    assert derive_status(statuses(S.BOUNCED, S.DELIVERED)) is S.BOUNCED


def test_delivery_delay_after_delivery_changes_nothing() -> None:
    assert derive_status(statuses(S.DELIVERED, S.DELAYED)) is S.DELIVERED


def test_delivery_delay_before_delivery_shows_delayed() -> None:
    assert derive_status(statuses(S.SENT, S.DELAYED)) is S.DELAYED


def test_complaint_after_click_shows_complained() -> None:
    assert derive_status(statuses(S.DELIVERED, S.OPENED, S.CLICKED, S.COMPLAINED)) is S.COMPLAINED


def test_events_without_status_are_skipped() -> None:
    assert derive_status(statuses(None, S.SENT, None)) is S.SENT


def test_no_events_keeps_the_initial_status() -> None:
    assert derive_status([]) is S.QUEUED
    assert derive_status([], initial=S.DELIVERED) is S.DELIVERED


def test_weaker_events_never_lower_the_stored_initial_status() -> None:
    assert derive_status(statuses(S.SENT, S.DELIVERED), initial=S.DROPPED) is S.DROPPED
