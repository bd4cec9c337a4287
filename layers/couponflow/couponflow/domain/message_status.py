"""Message status: the one place that defines it and its precedence.

A message status belongs to one recipient of one message (email or SMS). It is derived from
every event seen for that recipient, by precedence, never by arrival order: the status is the
strongest status any event implies. Because a maximum does not care about order or repetition,
SES's at-least-once, out-of-order delivery cannot move a status backwards.

======  ===========  =================================  =========================================
rank    ours         the seeds' words                   from
======  ===========  =================================  =========================================
0       queued       Email queued                       accepted by us, not yet handed to SES
5       unknown      (none of the seeds)                handed to SES or SNS, but the answer was
                                                        lost (read timeout, connection reset) and
                                                        no event told what became of it by the
                                                        deadline; never sent again (at most once)
10      sent         Sent, Initiated                    SES accepted it (API response, ``Send``)
20      delayed      (none of the seeds)                ``DeliveryDelay``: SES retries until its
                                                        ``expirationTime``
30      delivered    Email delivered                    ``Delivery``
40      opened       Email opened, Opened               ``Open``
50      clicked      Clicked, Coupon viewed /           ``Click``
                     clicked through
60      complained   marked as spam                     ``Complaint``
70      bounced      Email failed                       ``Bounce`` (Permanent, or Transient once
                                                        SES gave up)
80      dropped      Email dropped                      never attempted: our suppression list, SES
                                                        suppression (``OnAccountSuppressionList``,
                                                        ``Suppressed``), global unsubscribe
90      failed       Email failed, Invalid Email Format ``Reject``, ``Rendering Failure``, invalid
                                                        address, SES API error after retries
======  ===========  =================================  =========================================

What the order buys:

- an ``Open`` without a ``Delivery`` means opened (an open implies delivery);
- a ``Bounce`` after a ``Delivery`` wins, and a late ``Delivery`` never overwrites a bounce;
- a ``DeliveryDelay`` after a ``Delivery`` changes nothing;
- duplicates change nothing;
- any event outranks ``unknown``: an outcome learned late still shows.

``FINAL_STATUSES`` are those after which a message needs no more attention (housekeeping stops
watching it); ``queued``, ``sent`` and ``delayed`` are still in flight. ``unknown`` is final in
that sense (nothing of ours will act on it again) though a late SES event still moves it on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Protocol

__all__ = [
    "FINAL_STATUSES",
    "RANK",
    "MessageStatus",
    "StatusEvent",
    "derive_status",
    "rank",
    "stronger",
]


class MessageStatus(StrEnum):
    """Status of one recipient's message; see the module docstring for the precedence."""

    QUEUED = "queued"
    UNKNOWN = "unknown"
    SENT = "sent"
    DELAYED = "delayed"
    DELIVERED = "delivered"
    OPENED = "opened"
    CLICKED = "clicked"
    COMPLAINED = "complained"
    BOUNCED = "bounced"
    DROPPED = "dropped"
    FAILED = "failed"


RANK: Mapping[MessageStatus, int] = MappingProxyType(
    {
        MessageStatus.QUEUED: 0,
        MessageStatus.UNKNOWN: 5,
        MessageStatus.SENT: 10,
        MessageStatus.DELAYED: 20,
        MessageStatus.DELIVERED: 30,
        MessageStatus.OPENED: 40,
        MessageStatus.CLICKED: 50,
        MessageStatus.COMPLAINED: 60,
        MessageStatus.BOUNCED: 70,
        MessageStatus.DROPPED: 80,
        MessageStatus.FAILED: 90,
    }
)

FINAL_STATUSES: frozenset[MessageStatus] = frozenset(
    {
        MessageStatus.UNKNOWN,
        MessageStatus.DELIVERED,
        MessageStatus.OPENED,
        MessageStatus.CLICKED,
        MessageStatus.COMPLAINED,
        MessageStatus.BOUNCED,
        MessageStatus.DROPPED,
        MessageStatus.FAILED,
    }
)


class StatusEvent(Protocol):
    """Anything that implies a status, or nothing (``None``): ``ses_notifications.MessageEvent``
    is one. A protocol keeps this module free of the inbound event models."""

    @property
    def status(self) -> MessageStatus | None: ...


def rank(status: MessageStatus) -> int:
    """The precedence of ``status``: the higher rank wins."""
    return RANK[status]


def stronger(a: MessageStatus, b: MessageStatus) -> MessageStatus:
    """The status that wins between ``a`` and ``b``."""
    return a if RANK[a] >= RANK[b] else b


def derive_status(
    events: Iterable[StatusEvent], initial: MessageStatus = MessageStatus.QUEUED
) -> MessageStatus:
    """The status that ``events`` (all for one recipient of one message) imply, starting from
    ``initial`` (the status already stored). Events that imply no status are skipped. The
    result does not depend on the order of ``events`` or on duplicates among them."""
    status = initial
    for event in events:
        if event.status is not None:
            status = stronger(status, event.status)
    return status


SMS_ONLY = "sms_only"  # the reason of a send's email its recipient was never meant to get


def never_meant(status: str | None, details: Mapping[str, Any] | None) -> bool:
    """A recipient of an email-and-text send with a phone and no email is texted only; the email
    record their claim wrote with the code is ``dropped`` for ``sms_only``, and is no email of
    theirs: the merchant's views leave it out."""
    return status == MessageStatus.DROPPED and (details or {}).get("reason") == SMS_ONLY
