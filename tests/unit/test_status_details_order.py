"""The status details follow the event that decides the status, whatever the arrival order; the
event held on the message is written out before a move replaces it."""

from __future__ import annotations

import itertools

import pytest
from couponflow.adapters.dynamodb import Update
from couponflow.domain.message_status import RANK, MessageStatus
from couponflow.store import messages

BOUNCED = MessageStatus.BOUNCED


def _message(status: MessageStatus = MessageStatus.SENT, event: str | None = None) -> dict[str, object]:
    item: dict[str, object] = {
        "pk": "M#m#CUSTOMER#c",
        "sk": "MESSAGE#msg",
        "merchant_id": "m",
        "customer_id": "c",
        "campaign_id": "cmp",
        "message_id": "msg",
        "status": str(status),
        "status_rank": RANK[status],
    }
    if event:
        item["status_event"] = event
    return item


def _apply(order: tuple[tuple[str, str], ...]) -> dict[str, object]:
    """Apply (event order, diagnostic) pairs to one message as the store would; its final state."""
    item = _message()
    for event_order, diagnostic in order:
        [update, *_] = messages.status_move(
            item,
            BOUNCED,
            at=event_order[:24],
            details={"diagnostic_code": diagnostic},
            event_order=event_order,
        ) or [None]
        if update is not None:
            item = {
                **item,
                "status": str(BOUNCED),
                "status_rank": RANK[BOUNCED],
                "status_event": event_order,
                "status_details": {"diagnostic_code": diagnostic},
            }
    return item


def test_two_bounces_end_with_the_later_ones_words_in_either_arrival_order() -> None:
    early = ("2026-11-20T10:00:00+00:00#aaaa", "smtp; 452 4.2.2 mailbox full")
    late = ("2026-11-20T10:05:00+00:00#bbbb", "smtp; 550 5.1.1 user unknown")
    finals = {repr(_apply(order)["status_details"]) for order in itertools.permutations((early, late))}
    assert finals == {repr({"diagnostic_code": "smtp; 550 5.1.1 user unknown"})}


def test_a_same_rank_event_rewrites_only_the_details_and_moves_no_counter() -> None:
    stored = _message(BOUNCED, "2026-11-20T10:00:00+00:00#aaaa")
    actions = messages.status_move(
        stored, BOUNCED, at="2026-11-20T10:05:00+00:00", details={}, event_order="2026-11-20T10:05:00+00:00#b"
    )
    assert len(actions) == 1  # the message only: its campaign's counters already count it bounced
    assert "status_event < :event" in str(actions[0].condition)
    older = messages.status_move(
        stored, BOUNCED, at="x", details={}, event_order="2026-11-20T09:00:00+00:00#c"
    )
    assert older == []


def _holding() -> dict[str, object]:
    """A delivered message holding its Delivery (``store/messages.py``)."""
    return {
        **_message(MessageStatus.DELIVERED, "2026-11-20T10:00:00+00:00#dddd"),
        "status_at": "2026-11-20T10:00:00+00:00",
        "status_details": {"event_type": "delivery", "smtp_response": "250 ok"},
        "recipient": "a@example.com",
        "held_until": 1_900_000_000,
    }


def test_the_held_event_reads_as_the_timeline_item_it_replaces() -> None:
    held = messages.held_event(_holding())
    assert held is not None
    assert (held["sk"], held["event_type"], held["details"], held["expires_at"]) == (
        "EVENT#2026-11-20T10:00:00+00:00#dddd",
        "delivery",
        {"smtp_response": "250 ok"},
        1_900_000_000,
    )
    assert messages.is_held(_holding(), "EVENT#2026-11-20T10:00:00+00:00#dddd")
    assert messages.held_event(_message()) is None


def test_a_move_of_a_message_holding_its_event_needs_it_written_out_first() -> None:
    """Moving on would replace the held event's words: the caller must have spilled it, and the
    write holds only while the held event is still the one read."""
    at, opened = "2026-11-20T10:05:00+00:00", {"event_type": "open"}
    with pytest.raises(RuntimeError, match="spill_held first"):
        messages.status_move(_holding(), MessageStatus.OPENED, at=at, details=opened)

    update = messages.status_move(
        _holding(),
        MessageStatus.OPENED,
        at=at,
        details=opened,
        event_order=f"{at}#oooo",
        held_until=1_900_000_500,
        spilled=True,
    )[0]
    assert isinstance(update, Update) and update.values is not None
    assert "status_event = :held" in str(update.condition)
    assert update.values[":held"] == "2026-11-20T10:00:00+00:00#dddd"
    assert "held_until = :held_until" in update.expression

    bounce = messages.status_move(_holding(), BOUNCED, at=at, details={}, spilled=True)[0]
    assert isinstance(bounce, Update) and "held_until" in bounce.expression.split("REMOVE", 1)[1]


def test_a_move_of_a_message_read_as_holding_nothing_holds_only_while_nothing_is_held() -> None:
    """A copy read before an event was held on the message (an eventually consistent read, or a
    race) would replace that event without writing it out: the write says none is held still."""
    at = "2026-11-20T10:05:00+00:00"
    update = messages.status_move(
        _message(), MessageStatus.DELIVERED, at=at, details={}, event_order=f"{at}#dddd", held_until=1
    )[0]
    assert isinstance(update, Update) and "attribute_not_exists(held_until)" in str(update.condition)
    held = messages.status_move(
        _holding(), MessageStatus.OPENED, at=at, details={}, event_order=f"{at}#oooo", spilled=True
    )[0]
    assert isinstance(held, Update) and "attribute_not_exists(held_until)" not in str(held.condition)
