"""The rules of a scheduled segment send, and its status vocabulary. Pure: values in, values out.

- A send is set at least ``MIN_LEAD`` (2 hours) ahead, on the hour, in the merchant's time zone.
- It can be canceled until ``MIN_LEAD`` before its time.
- One send per segment at a time (enforced by the store with a conditional write on the segment).

Every refusal is a :class:`SendRuleBroken` naming the rule it broke.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from couponflow.domain.campaign import Campaign
from couponflow.errors import InvalidInputError

MIN_LEAD = timedelta(hours=2)


class Rule(StrEnum):
    TWO_HOURS_AHEAD = "two_hours_ahead"
    ON_THE_HOUR = "on_the_hour"
    CANCEL_WINDOW = "cancel_window"
    ONE_SEND_PER_SEGMENT = "one_send_per_segment"
    NOT_SCHEDULED = "not_scheduled"


class SendRuleBroken(InvalidInputError):
    """A request broke a scheduling rule; ``rule`` says which."""

    def __init__(self, rule: Rule, message: str, field: str | None = None) -> None:
        super().__init__(f"{rule}: {message}", field)
        self.rule = rule


class SendStatus(StrEnum):
    SCHEDULED = "scheduled"
    SENDING = "sending"
    DONE = "done"
    FAILED = "failed"
    CANCELED = "canceled"


FINAL = frozenset({SendStatus.DONE, SendStatus.FAILED, SendStatus.CANCELED})

# Which status may follow which; the store makes each move with a condition on the current one.
TRANSITIONS: Mapping[SendStatus, frozenset[SendStatus]] = {
    SendStatus.SCHEDULED: frozenset({SendStatus.SENDING, SendStatus.FAILED, SendStatus.CANCELED}),
    SendStatus.SENDING: frozenset({SendStatus.DONE, SendStatus.FAILED}),
    SendStatus.DONE: frozenset(),
    SendStatus.FAILED: frozenset(),
    SendStatus.CANCELED: frozenset(),
}


class SendFailure(StrEnum):
    """Why a whole send failed at its time."""

    INVALID_COUPON = "invalid_coupon"
    COUPON_INAPPLICABLE = "coupon_inapplicable"
    INSUFFICIENT_COUPONS = "insufficient_coupons"
    SYSTEM_ERROR = "system_error"


def send_time(requested: datetime, timezone: str, now: datetime) -> datetime:
    """The send's instant (UTC) for ``requested``, read in ``timezone`` when it has no offset.

    Refuses a time that is not on the hour in ``timezone`` or is less than 2 hours after ``now``.
    """
    zone = ZoneInfo(timezone)
    local = requested.replace(tzinfo=zone) if requested.tzinfo is None else requested.astimezone(zone)
    if (local.minute, local.second, local.microsecond) != (0, 0, 0):
        raise SendRuleBroken(
            Rule.ON_THE_HOUR, f"a send starts on the hour in {timezone} (got {local:%H:%M:%S})", "send_at"
        )
    at = local.astimezone(UTC)
    if at - now < MIN_LEAD:
        raise SendRuleBroken(
            Rule.TWO_HOURS_AHEAD,
            f"a send is scheduled at least 2 hours ahead (earliest {(now + MIN_LEAD).isoformat()})",
            "send_at",
        )
    return at


def check_cancel(status: SendStatus, send_at: datetime, now: datetime) -> None:
    """A scheduled send can be canceled until 2 hours before its time."""
    if status is not SendStatus.SCHEDULED:
        raise SendRuleBroken(Rule.NOT_SCHEDULED, f"only a scheduled send can be canceled (it is {status})")
    if send_at - now < MIN_LEAD:
        raise SendRuleBroken(
            Rule.CANCEL_WINDOW,
            f"a send can be canceled until 2 hours before its time ({send_at.isoformat()})",
        )


def coupon_problem(
    campaign: Campaign | None, *, now: datetime, recipients: int, codes_available: int
) -> SendFailure | None:
    """Why the coupon cannot serve the send at ``now``, or None when it can.

    Deleted, paused, not started or ended: ``invalid_coupon``; fewer codes left than
    recipients: ``insufficient_coupons``.
    """
    if campaign is None or campaign.closed_reason(now) is not None:
        return SendFailure.INVALID_COUPON
    if codes_available < recipients:
        return SendFailure.INSUFFICIENT_COUPONS
    return None
