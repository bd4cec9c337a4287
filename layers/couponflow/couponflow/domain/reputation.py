"""Sender reputation rules: a campaign's bounce and complaint rates, when they pause it, and when
repeated soft bounces suppress an address.

SES reviews an account at a 5% bounce rate or a 0.1% complaint rate. The guard pauses a campaign
well before that (defaults 2% and 0.05%), and only once the campaign has handed at least
``min_messages`` messages to SES, so a handful of early bounces cannot pause a fresh campaign.

"Rolling" here means: the rates are recomputed from the campaign's current counts by status every
time a bounce or complaint moves them, over every message the campaign handed to SES so far.
Because each message is counted once, under its current status, a message that bounced after a
delivery is counted as bounced and no longer as delivered.

The denominator (``attempted``) is every message SES accepted: ``sent`` and everything after it,
except ``dropped`` (never attempted) and ``failed`` (rejected or never rendered: SES does not
count those as sends either).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from couponflow.domain.message_status import MessageStatus

ATTEMPTED: frozenset[MessageStatus] = frozenset(
    {
        MessageStatus.SENT,
        MessageStatus.DELAYED,
        MessageStatus.DELIVERED,
        MessageStatus.OPENED,
        MessageStatus.CLICKED,
        MessageStatus.COMPLAINED,
        MessageStatus.BOUNCED,
    }
)


@dataclass(frozen=True)
class Thresholds:
    """When the reputation guard pauses a campaign (rates as fractions: 0.02 is 2%)."""

    bounce_rate: float = 0.02
    complaint_rate: float = 0.0005
    min_messages: int = 100


@dataclass(frozen=True)
class Rates:
    attempted: int
    bounced: int
    complained: int

    @property
    def bounce_rate(self) -> float:
        return self.bounced / self.attempted if self.attempted else 0.0

    @property
    def complaint_rate(self) -> float:
        return self.complained / self.attempted if self.attempted else 0.0


def rates(counts: Mapping[str, int]) -> Rates:
    """Bounce and complaint rates from a campaign's counts of messages by current status."""
    attempted = sum(max(0, int(counts.get(str(s), 0))) for s in ATTEMPTED)
    return Rates(
        attempted=attempted,
        bounced=max(0, int(counts.get(str(MessageStatus.BOUNCED), 0))),
        complained=max(0, int(counts.get(str(MessageStatus.COMPLAINED), 0))),
    )


def pause_reason(counts: Mapping[str, int], thresholds: Thresholds) -> str | None:
    """``"bounce_rate"`` or ``"complaint_rate"`` when the campaign must pause, else None.

    A rate crosses its threshold when it exceeds it (2 bounces in 100 is 2%: not yet).
    """
    current = rates(counts)
    if current.attempted < thresholds.min_messages:
        return None
    if current.complaint_rate > thresholds.complaint_rate:
        return "complaint_rate"
    if current.bounce_rate > thresholds.bounce_rate:
        return "bounce_rate"
    return None


@dataclass(frozen=True)
class SoftBounceRule:
    """Suppress an address after ``threshold`` transient bounces within ``window``."""

    threshold: int = 3
    window: timedelta = timedelta(days=7)


def soft_bounce_burst(times: Iterable[datetime], rule: SoftBounceRule) -> list[datetime]:
    """The first ``threshold`` soft bounces (their times) that fall within one window, or [].

    ``times`` are the distinct soft-bounce events of one address (the caller dedupes them on the
    event). Any window counts, not only the one ending now, so the answer does not depend on
    the order the events arrived in.
    """
    ordered = sorted(times)
    for start in range(len(ordered) - rule.threshold + 1):
        burst = ordered[start : start + rule.threshold]
        if burst[-1] - burst[0] <= rule.window:
            return burst
    return []


def soft_bounce_suppresses(times: Iterable[datetime], rule: SoftBounceRule) -> bool:
    """True when ``threshold`` soft bounces of the address fall within one window."""
    return bool(soft_bounce_burst(times, rule))
