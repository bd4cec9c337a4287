"""Integration status of a claim (email-provider list sync): the one place that defines it.

| status    | reason                   | meaning                                                        |
|-----------|--------------------------|----------------------------------------------------------------|
| (blank)   |                          | no provider connected, or no marketing consent                 |
| pending   |                          | a sync job is queued; the provider has not answered yet        |
| received  |                          | the provider took the contact: subscribed, or ``pending`` when |
|           |                          | the list uses double opt-in (confirmation email sent, not yet  |
|           |                          | confirmed by the customer)                                     |
| failed    | double_opt_in_declined   | the contact is on the list but declined: ``unsubscribed`` or   |
|           |                          | ``cleaned``, or asked to be forgotten (Mailchimp's "Forgotten  |
|           |                          | Email Not Subscribed")                                         |
| failed    | already_subscribed       | the contact was on the list before this claim pushed it        |
| failed    | provider_error           | the provider refused the request (bad key, unknown list,       |
|           |                          | invalid contact) or kept failing after the retries             |

Transitions: blank -> pending -> received | failed. ``received`` and ``failed`` are final: a
redelivered job never changes them. Everything here is pure: it maps the provider's answer
(HTTP status and body) to an outcome, or to "retry later".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class IntegrationStatus(StrEnum):
    PENDING = "pending"
    RECEIVED = "received"
    FAILED = "failed"


class IntegrationFailure(StrEnum):
    DOUBLE_OPT_IN_DECLINED = "double_opt_in_declined"
    ALREADY_SUBSCRIBED = "already_subscribed"
    PROVIDER_ERROR = "provider_error"


FINAL = frozenset({IntegrationStatus.RECEIVED, IntegrationStatus.FAILED})


@dataclass(frozen=True)
class SyncOutcome:
    """A final answer for the claim's integration status."""

    status: IntegrationStatus
    reason: IntegrationFailure | None = None
    detail: str = ""

    @classmethod
    def received(cls, detail: str = "") -> SyncOutcome:
        return cls(IntegrationStatus.RECEIVED, None, detail)

    @classmethod
    def failed(cls, reason: IntegrationFailure, detail: str = "") -> SyncOutcome:
        return cls(IntegrationStatus.FAILED, reason, detail)


@dataclass(frozen=True)
class RetryLater:
    """A transient answer (throttled, provider down): try again, within the attempt budget."""

    detail: str


Answer = SyncOutcome | RetryLater


def is_transient(http_status: int) -> bool:
    """429, 5xx and "no answer at all" (0) are worth retrying; anything else will not change."""
    return http_status in {0, 429} or http_status >= 500


# ----------------------------------------------------------------------------------------------
# Mailchimp Marketing API v3 (lists/{list_id}/members/{subscriber_hash})
# ----------------------------------------------------------------------------------------------

SUBSCRIBED_STATES = frozenset({"subscribed", "pending"})
DECLINED_STATES = frozenset({"unsubscribed", "cleaned"})
# Members we may (re)subscribe with an explicit status: archived contacts and transactional-only ones.
RESUBSCRIBABLE_STATES = frozenset({"archived", "transactional"})


@dataclass(frozen=True)
class Push:
    """No decision yet: push the contact; ``set_status`` when an existing member must be moved."""

    set_status: bool = False


def mailchimp_lookup(http_status: int, body: Mapping[str, Any], *, pushed_before: bool) -> Answer | Push:
    """What the member lookup (``GET .../members/{hash}``) decides before anything is written.

    ``pushed_before`` says an earlier delivery of this job may already have pushed the contact:
    then a member we find is ours (``received``), not someone who was on the list before.
    """
    if http_status == 404:
        return Push()
    if http_status == 200:
        state = str(body.get("status", ""))
        if state in SUBSCRIBED_STATES:
            if pushed_before:
                return SyncOutcome.received(f"member is {state}")
            return SyncOutcome.failed(IntegrationFailure.ALREADY_SUBSCRIBED, f"member was already {state}")
        if state in DECLINED_STATES:
            return SyncOutcome.failed(IntegrationFailure.DOUBLE_OPT_IN_DECLINED, f"member is {state}")
        if state in RESUBSCRIBABLE_STATES:
            return Push(set_status=True)
        return SyncOutcome.failed(IntegrationFailure.PROVIDER_ERROR, f"member has unknown status {state!r}")
    return _mailchimp_error(http_status, body)


def mailchimp_upsert(
    http_status: int, body: Mapping[str, Any], *, double_opt_in: bool, pushed_before: bool
) -> Answer:
    """The answer to ``PUT .../members/{hash}`` (or a ``POST .../members`` add)."""
    if 200 <= http_status < 300:
        state = str(body.get("status", ""))
        if state == "subscribed":
            return SyncOutcome.received("subscribed")
        if state == "pending":
            # Double opt-in: the provider sent its confirmation email; the customer has not confirmed yet.
            return SyncOutcome.received("pending confirmation" if double_opt_in else "pending")
        if state in DECLINED_STATES:
            return SyncOutcome.failed(IntegrationFailure.DOUBLE_OPT_IN_DECLINED, f"member is {state}")
        return SyncOutcome.failed(IntegrationFailure.PROVIDER_ERROR, f"member has status {state!r}")
    if http_status == 400:
        title = str(body.get("title", ""))
        if title == "Member Exists":
            if pushed_before:
                return SyncOutcome.received("member exists (pushed by an earlier attempt)")
            return SyncOutcome.failed(IntegrationFailure.ALREADY_SUBSCRIBED, "member exists")
        if title == "Forgotten Email Not Subscribed":
            return SyncOutcome.failed(
                IntegrationFailure.DOUBLE_OPT_IN_DECLINED, "contact asked to be forgotten"
            )
    return _mailchimp_error(http_status, body)


def _mailchimp_error(http_status: int, body: Mapping[str, Any]) -> Answer:
    detail = f"{http_status} {body.get('title', '')}: {body.get('detail', '')}".strip(": ")
    if is_transient(http_status):
        return RetryLater(detail)
    return SyncOutcome.failed(IntegrationFailure.PROVIDER_ERROR, detail)


# ----------------------------------------------------------------------------------------------
# Generic signed webhook
# ----------------------------------------------------------------------------------------------


def webhook_answer(http_status: int, *, pushed_before: bool) -> Answer:
    """2xx received, 409 already subscribed (ours if an earlier attempt pushed), 429/5xx retry."""
    if 200 <= http_status < 300:
        return SyncOutcome.received(f"webhook answered {http_status}")
    if http_status == 409:
        if pushed_before:
            return SyncOutcome.received("webhook answered 409 after an earlier attempt")
        return SyncOutcome.failed(IntegrationFailure.ALREADY_SUBSCRIBED, "webhook answered 409")
    if is_transient(http_status):
        return RetryLater(f"webhook answered {http_status}")
    return SyncOutcome.failed(IntegrationFailure.PROVIDER_ERROR, f"webhook answered {http_status}")


def after_attempts(answer: Answer, attempt: int, max_attempts: int) -> Answer:
    """A transient answer on the last allowed attempt becomes ``failed`` / ``provider_error``."""
    if isinstance(answer, RetryLater) and attempt >= max_attempts:
        return SyncOutcome.failed(
            IntegrationFailure.PROVIDER_ERROR, f"{answer.detail} (gave up after {attempt} attempts)"
        )
    return answer
