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
# An email in one of these statuses was not delivered (or cannot be vouched for: ``unknown``); its
# reason in the report is the status (``outcome_unknown`` for ``unknown``).
UNDELIVERED = frozenset(
    {MessageStatus.BOUNCED, MessageStatus.DROPPED, MessageStatus.FAILED, MessageStatus.UNKNOWN}
)
# Still on its way: the send waits for SES's verdict (until the grace period ends).
IN_FLIGHT = frozenset({MessageStatus.QUEUED, MessageStatus.SENT, MessageStatus.DELAYED})
# Not handed to SES yet: the send waits for these even after the grace period (their mail job is
# still being retried, or waits in the mail DLQ for a redrive); they are never counted as sent.
NOT_HANDED_OFF = frozenset({MessageStatus.QUEUED})


def _reason(status: MessageStatus | str) -> str:
    return "outcome_unknown" if status == MessageStatus.UNKNOWN else str(status)


@dataclass(frozen=True)
class Outcome:
    customer_id: str
    email: str | None
    phone: str | None
    reason: str | None  # None: sent

    @property
    def failed(self) -> bool:
        return self.reason is not None


SMS_FAILED = "sms_failed"  # the report's reason for a recipient whose only message, a text, failed


def outcome(recipient: Mapping[str, Any], email_status: str | None, sms_status: str | None = None) -> Outcome:
    """A recipient's final outcome from what the fan-out recorded and their messages' status now.

    Excluded or refused at fan-out: failed with that reason. An email that bounced, was dropped
    or failed makes the recipient failed unless a text message reached them (texted, and neither
    refused by SNS nor failed by a delivery receipt). A recipient with no email whose text failed
    is failed with ``sms_failed``.
    """
    reason = recipient.get("reason")
    if recipient.get("outcome") != "failed":
        tried_text = bool(recipient.get("sms_message_id"))
        texted = tried_text and not recipient.get("sms_error") and sms_status not in UNDELIVERED
        if email_status in UNDELIVERED and not texted:
            reason = _reason(str(email_status))
        elif email_status is None and tried_text and not texted:
            reason = SMS_FAILED
        else:
            reason = None
    return Outcome(recipient["customer_id"], recipient.get("email"), recipient.get("phone"), reason)


# Reasons a member was never tried: the audience rules left them out (``domain/audience.py``).
EXCLUDED = frozenset({"unsubscribed", "suppressed", "inactive", "no_email", "no_phone"})


def counts(outcomes: Iterable[Outcome]) -> dict[str, Any]:
    """A send's counts, defined so they add up: ``recipients`` = ``sent`` + ``failed``;
    ``failed`` = ``excluded`` (never tried: the audience rules) + ``undelivered`` (tried: out of
    coupons, refused, bounced, dropped, unknown...). A complaint is counted as sent (the email
    was delivered); the tracker shows it as the send issue ``complained``."""
    items = list(outcomes)
    failed = Counter(o.reason for o in items if o.reason is not None)
    excluded = {reason: n for reason, n in failed.items() if reason in EXCLUDED}
    return {
        "recipients": len(items),
        "sent": sum(1 for o in items if not o.failed),
        "failed": sum(failed.values()),
        "failed_by_reason": dict(failed),
        "excluded": sum(excluded.values()),
        "undelivered": sum(failed.values()) - sum(excluded.values()),
    }


def add_counts(total: Mapping[str, Any], more: Mapping[str, Any]) -> dict[str, Any]:
    """The counts of two disjoint sets of recipients as one: a large send is counted a page at a
    time, over several housekeeping runs, its counts so far kept on the send between them."""
    by_reason = Counter({k: int(v) for k, v in total.get("failed_by_reason", {}).items()})
    by_reason.update({k: int(v) for k, v in more["failed_by_reason"].items()})
    summed = {k: int(total.get(k, 0)) + int(more[k]) for k in COUNTED}
    return {**summed, "failed_by_reason": dict(by_reason)}


COUNTED = ("recipients", "sent", "failed", "excluded", "undelivered")  # beside ``failed_by_reason``


def report_rows(outcomes: Iterable[Outcome]) -> bytes:
    """The failed recipients among ``outcomes`` as CSV lines without the header: one page's share
    of the report, joined with the others' by ``report_csv``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for o in outcomes:
        if o.failed:
            writer.writerow([o.customer_id, o.email or "", o.phone or "", o.reason])
    return out.getvalue().encode()


def report_csv(pages: Iterable[bytes]) -> bytes:
    """The failure report from its pages' rows (``report_rows``): the header, then one row per
    failed recipient (customer id, email, phone, reason), by customer id."""
    rows: list[list[str]] = [row for page in pages for row in csv.reader(io.StringIO(page.decode()))]
    rows.sort(key=lambda row: row[0])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REPORT_COLUMNS)
    writer.writerows(rows)
    return out.getvalue().encode()
