"""The rules of a scheduled segment send, and its status vocabulary. Pure: values in, values out.

- A send is set at least ``MIN_LEAD`` (2 hours) ahead, on the hour, in the merchant's time zone.
- It can be canceled until ``MIN_LEAD`` before its time.
- One send per segment at a time (enforced by the store with a conditional write on the segment).

Every refusal is a :class:`SendRuleBroken` naming the rule it broke.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from couponflow.domain.campaign import Campaign
from couponflow.domain.claim_status import OutOfCouponsReason
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
        earliest = earliest_send_time(timezone, now).isoformat()
        message = f"a send is scheduled at least 2 hours ahead (earliest {earliest})"
        raise SendRuleBroken(Rule.TWO_HOURS_AHEAD, message, "send_at")
    return at


def earliest_send_time(timezone: str, now: datetime) -> datetime:
    """The first time a send may be set for: on the hour in ``timezone``, at least 2 hours ahead
    (in the zone's local time, so a merchant can paste it back)."""
    zone = ZoneInfo(timezone)
    soonest = (now + MIN_LEAD).astimezone(zone)
    on_the_hour = soonest.replace(minute=0, second=0, microsecond=0)
    return on_the_hour if on_the_hour == soonest else on_the_hour + timedelta(hours=1)


def check_cancel(status: SendStatus, send_at: datetime, now: datetime) -> None:
    """A scheduled send can be canceled until 2 hours before its time."""
    if status is not SendStatus.SCHEDULED:
        raise SendRuleBroken(Rule.NOT_SCHEDULED, f"only a scheduled send can be canceled (it is {status})")
    if send_at - now < MIN_LEAD:
        raise SendRuleBroken(
            Rule.CANCEL_WINDOW,
            f"a send can be canceled until 2 hours before its time ({send_at.isoformat()})",
        )


class Inapplicable(StrEnum):
    """Which of the coupon's conditions does not fit the segment at the send time."""

    NOT_STARTED = "not_started"  # the campaign's window opens after the send time
    DAILY_LIMIT = "daily_limit"  # fewer claims left for that local day than recipients
    REQUIRED_TAG = "required_tag"  # some eligible recipients lack the tag the campaign requires


@dataclass(frozen=True)
class CouponCheck:
    """Why the coupon cannot serve the send: the failure, the condition (for ``coupon_inapplicable``)
    and a sentence for the merchant."""

    failure: SendFailure
    message: str
    condition: Inapplicable | None = None


def check_coupon(
    campaign: Campaign | None,
    *,
    now: datetime,
    recipients: int,
    codes_available: int,
    claimed_that_day: int = 0,
    lacking_tag: int = 0,
) -> CouponCheck | None:
    """Why the coupon cannot serve a send of ``recipients`` at ``now`` (the send time), or None.

    In this order:
    - deleted, paused or ended: ``invalid_coupon`` (the coupon is no longer valid at all);
    - ``coupon_inapplicable``, naming the condition: the window has not started at the send time
      (``not_started``); the campaign requires a tag that ``lacking_tag`` eligible recipients do
      not have (``required_tag``); the daily limit left on the send's local day
      (``daily_limit - claimed_that_day``) is below ``recipients`` (``daily_limit``);
    - fewer codes left than recipients: ``insufficient_coupons``.
    """
    if campaign is None:
        return CouponCheck(SendFailure.INVALID_COUPON, "the campaign was deleted")
    closed = campaign.closed_reason(now)
    if closed is OutOfCouponsReason.NOT_STARTED:
        assert campaign.starts_at is not None
        return CouponCheck(
            SendFailure.COUPON_INAPPLICABLE,
            f"the campaign starts at {campaign.starts_at.isoformat()}, after the send time {now.isoformat()}",
            Inapplicable.NOT_STARTED,
        )
    if closed is not None:
        return CouponCheck(SendFailure.INVALID_COUPON, f"the campaign is {closed} at the send time")
    if campaign.required_tag and lacking_tag > 0:
        return CouponCheck(
            SendFailure.COUPON_INAPPLICABLE,
            f"the campaign is only for customers tagged '{campaign.required_tag}'; "
            f"{lacking_tag} of {recipients} recipients are not",
            Inapplicable.REQUIRED_TAG,
        )
    if campaign.daily_limit is not None:
        left = max(campaign.daily_limit - claimed_that_day, 0)
        if left < recipients:
            return CouponCheck(
                SendFailure.COUPON_INAPPLICABLE,
                f"the campaign's daily limit leaves {left} claims on {campaign.local_day(now)} "
                f"for {recipients} recipients",
                Inapplicable.DAILY_LIMIT,
            )
    if codes_available < recipients:
        return CouponCheck(
            SendFailure.INSUFFICIENT_COUPONS,
            f"{codes_available} codes left for {recipients} recipients",
        )
    return None


def coupon_problem(
    campaign: Campaign | None, *, now: datetime, recipients: int, codes_available: int
) -> SendFailure | None:
    """The failure of :func:`check_coupon` (conditions that need no extra data), or None."""
    check = check_coupon(campaign, now=now, recipients=recipients, codes_available=codes_available)
    return check.failure if check else None


def lacks_tag(customer: Mapping[str, object], tag: str | None) -> bool:
    """True when the campaign requires ``tag`` and the customer does not carry it."""
    tags = customer.get("tags") or []
    return tag is not None and tag not in (tags if isinstance(tags, list | set | tuple) else [])
