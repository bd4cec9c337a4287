"""A merchant's own endpoint: the contact POSTed as JSON, signed like every Couponflow webhook.

Body: ``{"type": "subscriber.created", "merchant_id", "campaign_id", "customer_id", "email",
"name", "marketing_consent": true, "claimed_at"}``; headers ``Couponflow-Signature`` (see
:mod:`couponflow.adapters.webhook`) and ``Idempotency-Key`` (the same for every retry of one
claim, so the receiver can drop a duplicate). Answers: 2xx received, 409 already subscribed,
429/5xx retried, any other 4xx a provider error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from couponflow.adapters.webhook import signed
from couponflow.domain.integration_status import Answer, webhook_answer
from couponflow.providers import Contact
from couponflow.providers.http import call


@dataclass(frozen=True)
class SignedWebhook:
    url: str
    secret: str

    def subscribe(self, contact: Contact, *, pushed_before: bool, on_push: Callable[[], None]) -> Answer:
        payload = {
            "type": "subscriber.created",
            "merchant_id": contact.merchant_id,
            "campaign_id": contact.campaign_id,
            "customer_id": contact.customer_id,
            "email": contact.email,
            "name": contact.name,
            "marketing_consent": True,
            "claimed_at": contact.claimed_at,
        }
        body, headers = signed(self.secret, payload, idempotency_key=contact.idempotency_key)
        on_push()
        status, _ = call("POST", self.url, body=body, headers=headers)
        return webhook_answer(status, pushed_before=pushed_before)
