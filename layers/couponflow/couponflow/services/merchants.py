"""Merchants and their API keys (the authorizer's side of them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from couponflow.adapters.dynamodb import Put, Table
from couponflow.domain import api_keys
from couponflow.ids import new_id
from couponflow.store import keys


@dataclass(frozen=True)
class NewMerchant:
    merchant_id: str
    api_key: str  # shown once; only its hash is stored


def create_merchant(
    table: Table, name: str, *, merchant_id: str | None = None, notification_email: str | None = None
) -> NewMerchant:
    """Create a merchant with a fresh API key; the key is returned once and stored only hashed."""
    merchant_id = merchant_id or "m" + new_id("x")[2:].lower()
    api_key = api_keys.new_api_key(merchant_id)
    now = datetime.now(UTC).isoformat()
    table.transact(
        [
            Put(
                {
                    **keys.merchant(merchant_id),
                    "type": "merchant",
                    "merchant_id": merchant_id,
                    "name": name,
                    "notification_email": notification_email,
                    "created_at": now,
                },
                condition="attribute_not_exists(pk)",
            ),
            Put(
                {
                    **keys.api_key(merchant_id, api_keys.hash_api_key(api_key)),
                    "type": "api_key",
                    "merchant_id": merchant_id,
                    "created_at": now,
                },
            ),
        ]
    )
    return NewMerchant(merchant_id=merchant_id, api_key=api_key)


def authenticate(table: Table, api_key: str) -> str | None:
    """The merchant id an API key belongs to, or None; one GetItem on the merchant's partition."""
    merchant_id = api_keys.merchant_of(api_key)
    if merchant_id is None:
        return None
    item = table.get(keys.api_key(merchant_id, api_keys.hash_api_key(api_key)), consistent=False)
    if item is None or item.get("revoked_at"):
        return None
    return merchant_id


def create_demo_merchant(table_name: str) -> tuple[str, str]:
    """For the local stack: a demo merchant and its API key (merchant_id, api_key)."""
    created = create_merchant(
        Table(table_name), "Demo merchant", notification_email="success@simulator.amazonses.com"
    )
    return created.merchant_id, created.api_key
