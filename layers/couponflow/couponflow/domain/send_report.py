"""A finished send's outcome per recipient, its counts, and the failure report rows. Pure."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from couponflow.domain.message_status import MessageStatus

REPORT_COLUMNS = ("customer_id", "email", "phone", "reason")
# An email in one of these statuses was not delivered; its reason in the report is the status.
UNDELIVERED = frozenset({MessageStatus.BOUNCED, MessageStatus.DROPPED, MessageStatus.FAILED})
# Still on its way: the send waits for SES's verdict (until the grace period ends).
IN_FLIGHT = frozenset({MessageStatus.QUEUED, MessageStatus.SENT, MessageStatus.DELAYED})


@dataclass(frozen=True)
class Outcome:
    customer_id: str
    email: str | None
    phone: str | None
    reason: str | None  # None: sent

    @property
    def failed(self) -> bool:
        return self.reason is not None


def outcome(recipient: Mapping[str, Any], email_status: str | None) -> Outcome:
    """A recipient's final outcome from what the fan-out recorded and the email's status now.

    Excluded or refused at fan-out: failed with that reason. An email that bounced, was dropped
    or failed makes the recipient failed unless a text message reached them.
    """
    reason = recipient.get("reason")
    if (
        recipient.get("outcome") != "failed"
        and email_status in UNDELIVERED
        and not recipient.get("sms_message_id")
    ):
        reason = str(email_status)
    elif recipient.get("outcome") != "failed":
        reason = None
    return Outcome(recipient["customer_id"], recipient.get("email"), recipient.get("phone"), reason)


def counts(outcomes: Iterable[Outcome]) -> dict[str, Any]:
    items = list(outcomes)
    failed = Counter(o.reason for o in items if o.reason is not None)
    return {
        "sent": sum(1 for o in items if not o.failed),
        "failed": sum(failed.values()),
        "failed_by_reason": dict(failed),
    }


def report_csv(outcomes: Iterable[Outcome]) -> bytes:
    """The failed recipients, one row each: customer id, email, phone, reason."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REPORT_COLUMNS)
    for o in sorted((o for o in outcomes if o.failed), key=lambda o: o.customer_id):
        writer.writerow([o.customer_id, o.email or "", o.phone or "", o.reason])
    return out.getvalue().encode()
