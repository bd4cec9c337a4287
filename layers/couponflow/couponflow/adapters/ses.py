"""The one module that talks to SES (v2 API).

Coupon emails go out in bulk through ``SendBulkEmail``: one inline template (subject, text,
HTML) per call, up to 50 entries, each with its own recipient, template data, one-click
unsubscribe headers (``ReplacementHeaders``) and message tags, and the configuration set that
ties SES's events back to merchant, campaign, customer and message. ``send_text`` remains for
single operational messages. ``max_send_rate`` reads the account's sending quota
(``GetAccount``), cached for a few minutes.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from couponflow import retry
from couponflow.adapters.client_errors import no_answer, send_failure
from couponflow.domain.coupon_email import BulkTemplate
from couponflow.domain.send_pacing import MAX_BULK_ENTRIES, QUOTA_CACHE_SECONDS
from couponflow.errors import OutcomeUnknown, RetryableError

if TYPE_CHECKING:
    from mypy_boto3_sesv2.client import SESV2Client

# Tries of an operational email (``send_text``) that SES answered with an error.
TEXT_ATTEMPTS = 5
# SES refuses these for good: retrying the same message cannot succeed.
_PERMANENT = frozenset({"MessageRejected", "BadRequestException", "InvalidParameterValue"})
# SES's answers when the account sends faster than its maximum send rate.
_THROTTLING = frozenset({"Throttling", "ThrottlingException", "TooManyRequestsException"})
# A bulk entry's status that no retry of the same entry can change.
PERMANENT_ENTRY_STATUSES = frozenset(
    {"MESSAGE_REJECTED", "INVALID_PARAMETER", "MAIL_FROM_DOMAIN_NOT_VERIFIED", "TEMPLATE_NOT_FOUND"}
)


class SendThrottled(RetryableError):
    """SES refused the call because the account is over its maximum send rate: wait, then retry."""


@cache
def client() -> SESV2Client:
    return boto3.client("sesv2", config=Config(retries={"max_attempts": 5, "mode": "adaptive"}))


@cache
def sending_client() -> SESV2Client:
    """The client of every call that sends an email. No retries inside botocore: a call whose
    answer was lost must never be sent again blindly (botocore would resend it after a read
    timeout); the mailer paces bulk calls and backs off from throttling itself, ``send_text``
    retries only what SES answered with an error. The read timeout bounds how long a hand-off can
    stay undecided (the mailer's send lease)."""
    return boto3.client(
        "sesv2",
        config=Config(
            retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=20
        ),
    )


def _is_throttling(error: ClientError) -> bool:
    details = error.response.get("Error", {})
    code = str(details.get("Code", ""))
    return code in _THROTTLING or "maximum sending rate exceeded" in str(details.get("Message", "")).lower()


# ---------------------------------------------------------------------------------------------
# The account's sending quota
# ---------------------------------------------------------------------------------------------

_quota_lock = threading.Lock()
_quota: dict[str, float] = {}


def max_send_rate(*, now: float | None = None) -> float:
    """The account's ``SendQuota.MaxSendRate`` (messages per second), read at most every 5 minutes."""
    moment = time.monotonic() if now is None else now
    with _quota_lock:
        if _quota and moment - _quota["read_at"] < QUOTA_CACHE_SECONDS:
            return _quota["rate"]
    try:
        response = client().get_account()
    except ClientError as error:
        raise RetryableError(f"SES GetAccount: {error}") from error
    rate = float(response.get("SendQuota", {}).get("MaxSendRate", 1.0))
    with _quota_lock:
        _quota.update(rate=rate, read_at=moment)
    return rate


def forget_send_quota() -> None:
    """Read the quota from SES again on the next call (tests, or after a quota raise)."""
    with _quota_lock:
        _quota.clear()


# ---------------------------------------------------------------------------------------------
# Bulk sending
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BulkEntry:
    """One recipient of a bulk call: their address, template data, headers and message tags."""

    recipient: str
    template_data: Mapping[str, str]
    headers: Sequence[tuple[str, str]] = ()
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BulkResult:
    """SES's verdict on one entry: ``SUCCESS`` with a message id, or a status and error."""

    status: str
    message_id: str | None = None
    error: str | None = None

    @property
    def sent(self) -> bool:
        return self.status == "SUCCESS" and bool(self.message_id)

    @property
    def permanent(self) -> bool:
        return self.status in PERMANENT_ENTRY_STATUSES


def bulk_request(
    *,
    sender: str,
    configuration_set: str,
    template: BulkTemplate,
    entries: Sequence[BulkEntry],
) -> dict[str, Any]:
    """The ``SendBulkEmail`` parameters for ``entries`` (at most 50) sharing one inline template."""
    if not 1 <= len(entries) <= MAX_BULK_ENTRIES:
        raise ValueError(f"a bulk call takes 1 to {MAX_BULK_ENTRIES} entries, not {len(entries)}")
    return {
        "FromEmailAddress": sender,
        "ConfigurationSetName": configuration_set,
        "DefaultContent": {
            "Template": {
                "TemplateContent": {
                    "Subject": template.subject,
                    "Text": template.text,
                    "Html": template.html,
                },
                "TemplateData": "{}",
            }
        },
        "BulkEmailEntries": [
            {
                "Destination": {"ToAddresses": [entry.recipient]},
                "ReplacementEmailContent": {
                    "ReplacementTemplate": {
                        "ReplacementTemplateData": json.dumps(
                            dict(entry.template_data), separators=(",", ":")
                        )
                    }
                },
                **(
                    {"ReplacementHeaders": [{"Name": n, "Value": v} for n, v in entry.headers]}
                    if entry.headers
                    else {}
                ),
                "ReplacementTags": [{"Name": k, "Value": v} for k, v in entry.tags.items()],
            }
            for entry in entries
        ],
    }


def send_bulk(
    *,
    sender: str,
    configuration_set: str,
    template: BulkTemplate,
    entries: Sequence[BulkEntry],
) -> list[BulkResult]:
    """Hand up to 50 messages to SES in one call; one :class:`BulkResult` per entry, in order.

    Raises :class:`SendThrottled` when SES throttles the call, :class:`PermanentSendError` when it
    rejects the whole call for good, :class:`~couponflow.errors.OutcomeUnknown` when its answer
    was lost (SES may have sent the emails) and :class:`RetryableError` for any other transient
    failure (SES answered with an error: nothing was sent).
    """
    request = bulk_request(
        sender=sender, configuration_set=configuration_set, template=template, entries=entries
    )
    try:
        response = sending_client().send_bulk_email(**request)
    except ClientError as error:
        if _is_throttling(error):
            raise SendThrottled(f"SES throttled a bulk call: {error}") from error
        raise send_failure(error, "SES", _PERMANENT) from error
    except BotoCoreError as error:
        raise no_answer(error, "SES") from error
    results = [
        BulkResult(status=r.get("Status", "FAILED"), message_id=r.get("MessageId"), error=r.get("Error"))
        for r in response.get("BulkEmailEntryResults", [])
    ]
    if len(results) != len(entries):
        raise RetryableError(f"SES answered {len(results)} results for {len(entries)} bulk entries")
    return results


def send_text(
    *, sender: str, recipient: str, subject: str, text: str, configuration_set: str | None = None
) -> str:
    """A plain-text operational email (merchant notifications); returns SES's message id.

    Sent at most once: an error SES answered (throttling, a bad moment) sent nothing and is tried
    again, up to ``TEXT_ATTEMPTS`` times; a lost answer (:class:`OutcomeUnknown`) is never sent
    again, since SES may have sent it."""
    kwargs: dict[str, Any] = {}
    if configuration_set:
        kwargs["ConfigurationSetName"] = configuration_set
    return retry.call(
        lambda: _send_text_once(sender, recipient, subject, text, kwargs),
        attempts=TEXT_ATTEMPTS,
        never_retry=(OutcomeUnknown,),
    )


def _send_text_once(sender: str, recipient: str, subject: str, text: str, kwargs: dict[str, Any]) -> str:
    try:
        response = sending_client().send_email(
            FromEmailAddress=sender,
            Destination={"ToAddresses": [recipient]},
            Content={"Simple": {"Subject": {"Data": subject}, "Body": {"Text": {"Data": text}}}},
            **kwargs,
        )
    except ClientError as error:
        raise send_failure(error, "SES", _PERMANENT) from error
    except BotoCoreError as error:
        raise no_answer(error, "SES") from error
    return response["MessageId"]
