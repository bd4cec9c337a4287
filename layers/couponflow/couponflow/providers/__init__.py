"""Email providers a merchant can connect a list of: one module per provider, HTTP through urllib.

Each provider turns a contact into the provider's request and the provider's answer into an
:mod:`couponflow.domain.integration_status` outcome (the mapping itself is pure, in the domain).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from couponflow.domain.integration_status import Answer


@dataclass(frozen=True)
class Contact:
    email: str
    name: str | None
    idempotency_key: str  # stable per (merchant, campaign, customer)
    merchant_id: str
    campaign_id: str
    customer_id: str
    claimed_at: str | None = None


class EmailProvider(Protocol):
    def subscribe(self, contact: Contact, *, pushed_before: bool, on_push: Callable[[], None]) -> Answer:
        """Push ``contact``; call ``on_push`` right before the first write to the provider."""
        ...
