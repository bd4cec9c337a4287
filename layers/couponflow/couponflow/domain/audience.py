"""Who a merchant may send to: active customers, segment rules, and why a customer is excluded.

Pure: customer profiles (plain mappings) and times in, answers out.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

ACTIVE_DAYS = 365
E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def is_active(last_interaction_at: str | datetime | None, now: datetime, *, days: int = ACTIVE_DAYS) -> bool:
    """Active: an interaction within the last ``days`` days (365 by default)."""
    if not last_interaction_at:
        return False
    when = (
        datetime.fromisoformat(last_interaction_at)
        if isinstance(last_interaction_at, str)
        else last_interaction_at
    )
    return when > now - timedelta(days=days)


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    BOTH = "both"


class Exclusion(StrEnum):
    """Why a segment member gets nothing from a send (a report reason)."""

    UNSUBSCRIBED = "unsubscribed"
    SUPPRESSED = "suppressed"
    INACTIVE = "inactive"
    NO_PHONE = "no_phone"
    NO_EMAIL = "no_email"


def exclusion(
    customer: Mapping[str, Any],
    *,
    channel: Channel,
    now: datetime,
    suppressed: Collection[str],
    include_inactive: bool = False,
) -> Exclusion | None:
    """The first reason (in this order) ``customer`` is not sent to, or None when eligible.

    Channel ``both`` needs at least one reachable address: email unless suppressed, or a phone.
    """
    if customer.get("unsubscribed_at"):
        return Exclusion.UNSUBSCRIBED
    if not include_inactive and not is_active(customer.get("last_interaction_at"), now):
        return Exclusion.INACTIVE
    email = customer.get("email")
    phone = customer.get("phone")
    if channel is Channel.SMS:
        return None if phone else Exclusion.NO_PHONE
    email_ok = bool(email) and email not in suppressed
    if channel is Channel.EMAIL:
        if not email:
            return Exclusion.NO_EMAIL
        return None if email_ok else Exclusion.SUPPRESSED
    if email_ok or phone:
        return None
    return Exclusion.SUPPRESSED if email else Exclusion.NO_PHONE


@dataclass(frozen=True)
class SegmentRule:
    """A rule-based segment: every condition given must hold (AND)."""

    active_within_days: int | None = None
    has_tag: str | None = None
    claimed_campaign_id: str | None = None

    def matches(self, customer: Mapping[str, Any], now: datetime, claimed: Collection[str] = ()) -> bool:
        """``claimed`` holds the customer ids that claimed ``claimed_campaign_id``."""
        if self.active_within_days is not None and not is_active(
            customer.get("last_interaction_at"), now, days=self.active_within_days
        ):
            return False
        if self.has_tag is not None and self.has_tag not in (customer.get("tags") or []):
            return False
        return self.claimed_campaign_id is None or customer.get("customer_id") in claimed
