"""Provider sync: push a consenting claimant to the merchant's email-provider list, once.

Idempotent on the business key (merchant, campaign, customer), not on the SQS message: the
claim item's ``integration_status`` is the record. A job for a claim whose status is already
final does nothing (no second push); a final status is written only over ``pending``; before
the first write to the provider the claim notes ``integration_pushed_at``, so a redelivery
after a crash recognises the member it finds as its own (``received``, not
``already_subscribed``). Transient answers (429, 5xx, unreachable) are retried through the
queue up to ``max_attempts`` receives, then the claim is ``failed`` / ``provider_error``.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from couponflow.adapters import secrets
from couponflow.adapters.dynamodb import Item, Table
from couponflow.domain.integration_status import (
    FINAL,
    IntegrationFailure,
    IntegrationStatus,
    RetryLater,
    SyncOutcome,
    after_attempts,
)
from couponflow.errors import NotFoundError, RetryableError
from couponflow.providers import Contact, EmailProvider
from couponflow.providers.address_guard import UnsafeProviderUrl, check_url
from couponflow.providers.mailchimp import MailchimpList, api_root
from couponflow.providers.webhook import SignedWebhook
from couponflow.store import integrations, keys


class SyncJob(BaseModel):
    """The integration queue's message: which claim to sync (no personal data on the queue)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    merchant_id: str = Field(min_length=1, max_length=64)
    campaign_id: str = Field(min_length=1, max_length=64)
    customer_id: str = Field(min_length=1, max_length=64)


def idempotency_key(job: SyncJob) -> str:
    return hashlib.sha256(f"{job.merchant_id}:{job.campaign_id}:{job.customer_id}".encode()).hexdigest()


@dataclass
class ProviderSync:
    table: Table
    max_attempts: int = 5
    allow_private_hosts: bool = False  # merchant-set URLs may reach internal hosts (local stack, tests)
    credential_ttl_seconds: float = 300.0
    clock: Callable[[], float] = time.monotonic
    _credentials: dict[str, tuple[float, dict[str, Any]]] = field(default_factory=dict)

    def sync(self, job: SyncJob, *, attempt: int = 1, now: datetime | None = None) -> str:
        """Sync one claim; returns what happened. Raises RetryableError to be retried by the queue."""
        stamp = (now or datetime.now(UTC)).isoformat()
        m, c, cus = job.merchant_id, job.campaign_id, job.customer_id
        claim = self.table.get(keys.claim(m, cus, c))
        if claim is None:
            raise NotFoundError(f"claim {m}/{c}/{cus} does not exist")
        status = claim.get("integration_status")
        if status in FINAL:
            integrations.unwatch_sync(self.table, m, cus, c)
            return f"already {status}"
        if status != IntegrationStatus.PENDING:
            integrations.unwatch_sync(self.table, m, cus, c)
            return "nothing to sync"
        connection = integrations.get_connection(self.table, m)
        if connection is None:
            integrations.clear(self.table, m, cus, c)
            integrations.unwatch_sync(self.table, m, cus, c)
            return "no provider connected"
        profile = self.table.get(keys.customer(m, cus), consistent=False) or {}
        contact = Contact(
            email=claim["email"],
            name=profile.get("name"),
            idempotency_key=idempotency_key(job),
            merchant_id=m,
            campaign_id=c,
            customer_id=cus,
            claimed_at=claim.get("claimed_at"),
        )
        pushed_before = bool(claim.get("integration_pushed_at"))

        def on_push() -> None:
            if not pushed_before:
                integrations.mark_pushed(self.table, m, cus, c, stamp)

        try:
            provider = self.provider(connection)
        except UnsafeProviderUrl as error:  # set before the check existed, or resolves inward now
            answer: SyncOutcome | RetryLater = SyncOutcome.failed(
                IntegrationFailure.PROVIDER_ERROR, f"provider URL refused: {error}"
            )
        else:
            answer = provider.subscribe(contact, pushed_before=pushed_before, on_push=on_push)
        answer = after_attempts(answer, attempt, self.max_attempts)
        if isinstance(answer, RetryLater):
            raise RetryableError(f"provider answered: {answer.detail} (attempt {attempt})")
        settled = integrations.settle(self.table, m, cus, c, outcome=answer, now=stamp)
        integrations.unwatch_sync(self.table, m, cus, c)
        if not settled:
            return "settled by another delivery"
        return f"{answer.status} {answer.reason or ''}".strip()

    def provider(self, connection: Item) -> EmailProvider:
        merchant_url = connection.get("base_url") or connection.get("url")
        if merchant_url:
            check_url(str(merchant_url), allow_private=self.allow_private_hosts)
        credential = self._credential(connection)
        if connection["provider"] == "mailchimp":
            return MailchimpList(
                api_root=api_root(connection.get("server_prefix"), connection.get("base_url")),
                api_key=credential["api_key"],
                list_id=connection["list_id"],
                double_opt_in=bool(connection.get("double_opt_in", True)),
            )
        return SignedWebhook(url=connection["url"], secret=credential["secret"])

    def _credential(self, connection: Item) -> dict[str, Any]:
        """The secret's value, kept per warm container until a reconnect or ``credential_ttl_seconds``."""
        cache_key = f"{connection['secret_arn']}@{connection['connected_at']}"
        cached = self._credentials.get(cache_key)
        now = self.clock()
        if cached is not None and now - cached[0] < self.credential_ttl_seconds:
            return cached[1]
        value: dict[str, Any] = json.loads(secrets.read_secret(connection["secret_arn"]))
        self._credentials[cache_key] = (now, value)
        return value
