"""Merchants and their API keys: creation, listing, revocation, and the authorizer's check.

A merchant may hold several keys, each with a label, its creation and last-use time; a key is
shown once, when it is made, and stored only as its SHA-256 (``domain/api_keys.py``). Its
``key_id`` (the first 12 hex digits of that hash) names it afterwards. Revoking sets
``revoked_at``: the authorizer refuses the key from then on, and API Gateway's cache of the
authorizer's answer (``ReauthorizeEvery``, 60 s) bounds how long an earlier "allow" lasts.
The authorizer notes ``last_used_at`` at most once an hour per key, so the merchant API's
requests cost no write.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from couponflow.adapters.dynamodb import ConditionFailed, Item, Put, Table
from couponflow.domain import api_keys
from couponflow.errors import NotFoundError
from couponflow.ids import new_id
from couponflow.store import keys


@dataclass(frozen=True)
class NewMerchant:
    merchant_id: str
    api_key: str  # shown once; only its hash is stored


KEY_ID_LENGTH = 12
LAST_USE_EVERY = timedelta(hours=1)
MERCHANTS_INDEX = "MERCHANTS"  # gsi1 partition of every merchant profile, by creation time


def _key_item(merchant_id: str, api_key: str, label: str, now: str) -> Item:
    digest = api_keys.hash_api_key(api_key)
    return {
        **keys.api_key(merchant_id, digest),
        "type": "api_key",
        "merchant_id": merchant_id,
        "key_id": digest[:KEY_ID_LENGTH],
        "label": label,
        "created_at": now,
    }


def create_merchant(
    table: Table,
    name: str,
    *,
    merchant_id: str | None = None,
    notification_email: str | None = None,
    key_label: str = "first key",
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
                    "gsi1pk": MERCHANTS_INDEX,
                    "gsi1sk": f"{now}#{merchant_id}",
                },
                condition="attribute_not_exists(pk)",
            ),
            Put(_key_item(merchant_id, api_key, key_label, now)),
        ]
    )
    return NewMerchant(merchant_id=merchant_id, api_key=api_key)


def list_merchants(table: Table) -> list[Item]:
    """Every merchant, oldest first (one Query of the operator's merchants index)."""
    found = table.query("gsi1pk = :pk", {":pk": MERCHANTS_INDEX}, index=keys.GSI1)
    return [{k: m.get(k) for k in ("merchant_id", "name", "notification_email", "created_at")} for m in found]


def create_key(table: Table, merchant_id: str, label: str) -> tuple[str, Item]:
    """A new API key for an existing merchant: (the key, shown once; its stored view)."""
    if table.get(keys.merchant(merchant_id)) is None:
        raise NotFoundError(f"no merchant {merchant_id}")
    api_key = api_keys.new_api_key(merchant_id)
    item = _key_item(merchant_id, api_key, label, datetime.now(UTC).isoformat())
    table.put(item, condition="attribute_not_exists(pk)")
    return api_key, _key_view(item)


def list_keys(table: Table, merchant_id: str) -> list[Item]:
    """The merchant's keys (never the keys themselves): id, label, created, last used, revoked."""
    found = table.query(
        "pk = :pk AND begins_with(sk, :prefix)",
        {":pk": keys.merchant(merchant_id)["pk"], ":prefix": "APIKEY#"},
    )
    return sorted((_key_view(i) for i in found), key=lambda k: str(k["created_at"]))


def revoke_key(table: Table, merchant_id: str, key_id: str, *, now: datetime | None = None) -> Item:
    """Revoke the merchant's key ``key_id`` (its first revocation time is kept)."""
    matching = [k for k in list_keys(table, merchant_id) if k["key_id"] == key_id]
    if not matching:
        raise NotFoundError(f"merchant {merchant_id} has no key {key_id}")
    stored = table.query(
        "pk = :pk AND begins_with(sk, :prefix)",
        {":pk": keys.merchant(merchant_id)["pk"], ":prefix": f"APIKEY#{key_id}"},
    )[0]
    stamp = (now or datetime.now(UTC)).isoformat()
    with contextlib.suppress(ConditionFailed):  # revoked before: the first time stands
        table.update(
            {"pk": stored["pk"], "sk": stored["sk"]},
            "SET revoked_at = :at",
            condition="attribute_exists(pk) AND attribute_not_exists(revoked_at)",
            values={":at": stamp},
        )
    return _key_view(table.get({"pk": stored["pk"], "sk": stored["sk"]}) or stored)


def _key_view(item: Item) -> Item:
    digest = str(item["sk"]).removeprefix("APIKEY#")
    return {
        "key_id": item.get("key_id") or digest[:KEY_ID_LENGTH],
        "label": item.get("label"),
        "created_at": item.get("created_at"),
        "last_used_at": item.get("last_used_at"),
        "revoked_at": item.get("revoked_at"),
    }


def authenticate(table: Table, api_key: str, *, now: datetime | None = None) -> str | None:
    """The merchant id an API key belongs to, or None; one GetItem on the merchant's partition
    (and, at most once an hour per key, a write of its last use)."""
    merchant_id = api_keys.merchant_of(api_key)
    if merchant_id is None:
        return None
    key = keys.api_key(merchant_id, api_keys.hash_api_key(api_key))
    item = table.get(key, consistent=False)
    if item is None or item.get("revoked_at"):
        return None
    moment = now or datetime.now(UTC)
    last = item.get("last_used_at")
    if last is None or datetime.fromisoformat(str(last)) < moment - LAST_USE_EVERY:
        _note_use(table, key, moment)
    return merchant_id


def _note_use(table: Table, key: dict[str, Any], moment: datetime) -> None:
    try:
        table.update(
            key,
            "SET last_used_at = :now",
            condition="attribute_exists(pk) AND (attribute_not_exists(last_used_at) OR last_used_at < :due)",
            values={":now": moment.isoformat(), ":due": (moment - LAST_USE_EVERY).isoformat()},
        )
    except Exception:  # a missed last-use note must never refuse a valid key
        return


def create_demo_merchant(table_name: str) -> tuple[str, str]:
    """For the local stack: a demo merchant and its API key (merchant_id, api_key)."""
    created = create_merchant(
        Table(table_name), "Demo merchant", notification_email="success@simulator.amazonses.com"
    )
    return created.merchant_id, created.api_key
