"""A segment send's recipient as the send tracker shows them (Sendoso's vocabulary), and what a
campaign's customer list shows (LandingCube's "Status"). Pure: values in, values out.

Tracker status, from the recipient's record, their message's status and their claim's status,
the furthest along winning:

| tracker | when | Sendoso's word |
|---|---|---|
| ``failed`` | excluded or refused at fan-out; bounced, dropped, failed, unknown (no text got in) | Failed |
| ``initiated`` | the message is queued | Initiated |
| ``sent`` | SES took it (``sent``, ``delayed``, ``delivered``, ``complained``) | Sent / Delivered |
| ``opened`` | ``opened`` | Opened |
| ``clicked`` | ``clicked``, or the coupon was viewed or followed to the store | Clicked |
| ``redeemed`` | the store reported the code used | Redeemed |
| ``expired`` | the offer lapsed unused | Expired |
| ``released`` | the code went back to the pool (undelivered, canceled) | Refunded |

The send issue is the report's reason (``domain/send_report.py``) in the tracker's words:
``invalid_email`` (no or a refused address), ``suppressed`` (Sendoso's "suspicious": our list or
SES's), ``unsubscribed``, ``inactive``, ``out_of_coupons`` ("insufficient"), ``sms_failed``, and
``bounced``, ``complained``, ``already_claimed``, ``outcome_unknown`` as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from couponflow.domain.claim_status import ClaimStatus
from couponflow.domain.message_status import MessageStatus
from couponflow.domain.send_report import outcome


class TrackerStatus(StrEnum):
    INITIATED = "initiated"
    SENT = "sent"
    OPENED = "opened"
    CLICKED = "clicked"
    REDEEMED = "redeemed"
    EXPIRED = "expired"
    RELEASED = "released"
    FAILED = "failed"


_BY_MESSAGE = {
    MessageStatus.QUEUED: TrackerStatus.INITIATED,
    MessageStatus.SENT: TrackerStatus.SENT,
    MessageStatus.DELAYED: TrackerStatus.SENT,
    MessageStatus.DELIVERED: TrackerStatus.SENT,
    MessageStatus.COMPLAINED: TrackerStatus.SENT,
    MessageStatus.OPENED: TrackerStatus.OPENED,
    MessageStatus.CLICKED: TrackerStatus.CLICKED,
}
_BY_CLAIM = {
    ClaimStatus.REDEEMED: TrackerStatus.REDEEMED,
    ClaimStatus.EXPIRED: TrackerStatus.EXPIRED,
    ClaimStatus.RELEASED: TrackerStatus.RELEASED,
    ClaimStatus.COUPON_VIEWED: TrackerStatus.CLICKED,
    ClaimStatus.CLICKED_THROUGH: TrackerStatus.CLICKED,
}
_ISSUES = {
    "no_email": "invalid_email",
    "no_phone": "invalid_email",
    "failed": "invalid_email",  # SES refused the address (Reject, invalid) or an API error
    "dropped": "suppressed",
    "suppressed": "suppressed",
}


def send_issue(reason: str | None) -> str | None:
    return None if reason is None else _ISSUES.get(reason, reason)


def tracker_row(
    recipient: Mapping[str, Any],
    email_status: str | None,
    sms_status: str | None,
    claim_status: str | None,
) -> tuple[TrackerStatus, str | None]:
    """The recipient's tracker status and send issue (None when there is none)."""
    reason = outcome(recipient, email_status, sms_status).reason
    if email_status == MessageStatus.COMPLAINED:
        reason = reason or "complained"
    if reason is not None and reason != "complained":
        return TrackerStatus.FAILED, send_issue(reason)
    if claim_status in _BY_CLAIM:
        return _BY_CLAIM[ClaimStatus(claim_status)], send_issue(reason)
    shown = email_status or sms_status
    status = _BY_MESSAGE.get(MessageStatus(shown), TrackerStatus.SENT) if shown else TrackerStatus.INITIATED
    return status, send_issue(reason)


def campaign_status(claim: Mapping[str, Any], email_status: str | None) -> str:
    """A campaign's customer as LandingCube's list shows them: the coupon's progress once the
    customer acted on it, else the coupon email's status (``email_<status>``), else the claim's."""
    status = str(claim.get("status") or "")
    if status in (ClaimStatus.OUT_OF_COUPONS, ClaimStatus.PAGE_VIEWED) or status in _BY_CLAIM:
        return status
    if email_status:
        named = "failed" if email_status in (MessageStatus.BOUNCED, MessageStatus.UNKNOWN) else email_status
        return f"email_{named}"
    return status
