"""Property-based: status and timeline do not depend on arrival order or duplicates."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from couponflow.domain.message_status import RANK, MessageStatus, derive_status, stronger
from couponflow.ses_notifications import MessageEvent, SesEventType, parse_record_body
from hypothesis import given
from hypothesis import strategies as st

IMPLIED: dict[SesEventType, list[MessageStatus | None]] = {
    SesEventType.SEND: [MessageStatus.SENT],
    SesEventType.DELIVERY: [MessageStatus.DELIVERED],
    SesEventType.BOUNCE: [MessageStatus.BOUNCED, MessageStatus.DROPPED],
    SesEventType.COMPLAINT: [MessageStatus.COMPLAINED],
    SesEventType.REJECT: [MessageStatus.FAILED],
    SesEventType.OPEN: [MessageStatus.OPENED],
    SesEventType.CLICK: [MessageStatus.CLICKED],
    SesEventType.RENDERING_FAILURE: [MessageStatus.FAILED],
    SesEventType.DELIVERY_DELAY: [MessageStatus.DELAYED],
    SesEventType.SUBSCRIPTION: [None],
}

START = datetime(2024, 1, 1, tzinfo=UTC)
statuses = st.sampled_from(list(MessageStatus))
details = st.dictionaries(
    st.sampled_from(["status", "diagnostic_code", "smtp_response", "link", "user_agent"]),
    st.text(alphabet="abc 5.1", max_size=6),
    max_size=3,
)


@st.composite
def message_events(draw: st.DrawFn) -> MessageEvent:
    """One SES event for the one recipient of one message."""
    event_type = draw(st.sampled_from(list(SesEventType)))
    return MessageEvent(
        ses_message_id="EXAMPLE-msg-1",
        recipient="jane@example.com",
        event_type=event_type,
        occurred_at=START + timedelta(seconds=draw(st.integers(0, 86_400))),
        status=draw(st.sampled_from(IMPLIED[event_type])),
        tags={"merchant": "m1"},
        details=draw(details),
    )


def process(events: Iterable[MessageEvent]) -> tuple[MessageStatus, list[str]]:
    """What the SES-events consumer does: skip an event whose key it has seen, fold the status
    one event at a time, keep the timeline sorted by occurred_at then key."""
    status = MessageStatus.QUEUED
    seen: dict[str, MessageEvent] = {}
    for event in events:
        if event.event_key in seen:
            continue
        seen[event.event_key] = event
        status = derive_status([event], initial=status)
    timeline = sorted(seen.values(), key=lambda e: (e.occurred_at, e.event_key))
    return status, [e.event_key for e in timeline]


@given(events=st.lists(message_events(), max_size=8), data=st.data())
def test_status_and_timeline_ignore_arrival_order_and_duplicates(
    events: list[MessageEvent], data: st.DataObject
) -> None:
    repeats = data.draw(st.lists(st.integers(1, 3), min_size=len(events), max_size=len(events)))
    delivered = [event for event, times in zip(events, repeats, strict=True) for _ in range(times)]
    arrival = data.draw(st.permutations(delivered))

    once_in_order = process(events)

    assert process(arrival) == once_in_order
    assert derive_status(arrival) == derive_status(events) == once_in_order[0]


@given(events=st.lists(message_events(), max_size=8), initial=statuses)
def test_derived_status_is_the_highest_ranked_status_seen(
    events: list[MessageEvent], initial: MessageStatus
) -> None:
    seen = [initial] + [e.status for e in events if e.status is not None]
    assert derive_status(events, initial=initial) == max(seen, key=RANK.__getitem__)


@given(a=statuses, b=statuses, c=statuses)
def test_stronger_is_commutative_associative_and_idempotent(
    a: MessageStatus, b: MessageStatus, c: MessageStatus
) -> None:
    assert stronger(a, b) == stronger(b, a)
    assert stronger(stronger(a, b), c) == stronger(a, stronger(b, c))
    assert stronger(a, a) == a


SAMPLES = Path(__file__).resolve().parents[2] / "events" / "ses"


@given(
    name=st.sampled_from(
        ["event_bounce", "event_delivery", "event_open", "notification_bounce_multi_recipient"]
    ),
    sns_message_id=st.uuids(),
    sns_timestamp=st.datetimes(timezones=st.just(UTC)),
)
def test_event_keys_do_not_depend_on_the_sns_envelope(
    name: str, sns_message_id: object, sns_timestamp: datetime
) -> None:
    record = json.loads((SAMPLES / f"{name}.json").read_text())
    envelope = {
        "Type": "Notification",
        "MessageId": str(sns_message_id),
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:couponflow-ses-events",
        "Message": json.dumps(record),
        "Timestamp": sns_timestamp.isoformat(),
    }

    raw = parse_record_body(json.dumps(record))
    wrapped = parse_record_body(json.dumps(envelope))

    assert [e.event_key for e in wrapped.events] == [e.event_key for e in raw.events]
