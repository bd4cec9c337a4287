"""The merchant's audience: customers they manage (create, update, import, unsubscribe) and segments.

A segment is static (members added and removed) or rule-based (active within N days, has a tag,
claimed a campaign); who is in it now is ``services/segment_members.py``'s.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from couponflow.adapters.dynamodb import Item, Table
from couponflow.domain.audience import is_active
from couponflow.errors import InvalidInputError, NotFoundError
from couponflow.ids import customer_id, new_id, resolve_customer_id
from couponflow.models.audience import CustomerIn, SegmentIn
from couponflow.services.segment_members import members
from couponflow.store import audience, campaigns, keys


def public(item: Item, now: datetime | None = None) -> dict[str, Any]:
    view = keys.without_storage(item)
    if item.get("type") == "customer":
        view["active"] = is_active(item.get("last_interaction_at"), now or datetime.now(UTC))
    return view


def id_for(merchant_id: str, request: CustomerIn) -> str:
    """Customers are keyed by email (as claims key them), else by phone."""
    return customer_id(merchant_id, request.email or request.phone or "")


def customer_fields(request: CustomerIn) -> dict[str, Any]:
    """The profile fields a merchant's create, update or import writes (None: keep what is stored)."""
    name = " ".join(p for p in (request.first_name, request.last_name) if p) or None
    return {
        "email": request.email,
        "phone": request.phone,
        "first_name": request.first_name,
        "last_name": request.last_name,
        "name": name,
        "tags": request.tags,
        "last_interaction_at": request.last_interaction_at.astimezone(UTC).isoformat()
        if request.last_interaction_at
        else None,
    }


def put_customer(
    table: Table, merchant_id: str, request: CustomerIn, now: datetime | None = None
) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    item = audience.upsert_customer(
        table, merchant_id, id_for(merchant_id, request), customer_fields(request), now=now.isoformat()
    )
    return public(item, now)


def import_customers(
    table: Table, merchant_id: str, rows: list[dict[str, Any]], now: datetime | None = None
) -> dict[str, Any]:
    """Create or update each valid row's customer (the same email twice is one customer); each
    invalid row is reported (``rejected``: its index, field and why) and the rest imported."""
    now = now or datetime.now(UTC)
    ids: dict[str, None] = {}
    rejected: list[dict[str, Any]] = []
    imported = 0
    for index, row in enumerate(rows):
        try:
            request = CustomerIn.model_validate(row)
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(str(p) for p in first.get("loc", ())) or "row"
            rejected.append({"row": index, "field": field, "message": first.get("msg", "invalid")})
            continue
        cid = id_for(merchant_id, request)
        audience.upsert_customer(table, merchant_id, cid, customer_fields(request), now=now.isoformat())
        ids[cid] = None
        imported += 1
    return {"imported": imported, "customers": len(ids), "customer_ids": list(ids), "rejected": rejected}


def unsubscribe(
    table: Table, merchant_id: str, customer_ref: str, now: datetime | None = None
) -> dict[str, Any]:
    """Global unsubscribe: excluded from every current and future list and segment send."""
    cid = resolve_customer_id(merchant_id, customer_ref)
    stamp = (now or datetime.now(UTC)).isoformat()
    return public(audience.set_unsubscribed(table, merchant_id, cid, stamp))


def resubscribe(table: Table, merchant_id: str, customer_ref: str) -> dict[str, Any]:
    """Undo a global unsubscribe (the merchant's switch; for a customer who asked to come back)."""
    cid = resolve_customer_id(merchant_id, customer_ref)
    return public(audience.set_unsubscribed(table, merchant_id, cid, None))


def create_segment(
    table: Table, merchant_id: str, request: SegmentIn, now: datetime | None = None
) -> dict[str, Any]:
    stamp = (now or datetime.now(UTC)).isoformat()
    if request.rule and request.rule.claimed_campaign_id:
        try:  # a rule naming no campaign of this merchant would silently match no one
            campaigns.get(table, merchant_id, request.rule.claimed_campaign_id)
        except NotFoundError as error:
            raise InvalidInputError(str(error), "rule.claimed_campaign_id") from error
    segment_id = new_id("seg")
    item: Item = {
        **keys.segment(merchant_id, segment_id),
        "type": "segment",
        "merchant_id": merchant_id,
        "segment_id": segment_id,
        "name": request.name,
        "kind": "rule" if request.rule else "static",
        "rule": request.rule.model_dump(exclude_none=True) if request.rule else None,
        "created_at": stamp,
    }
    audience.put_segment(table, item)
    return public(item)


def get_segment(table: Table, merchant_id: str, segment_id: str) -> dict[str, Any]:
    found = members(table, merchant_id, segment_id)
    return {**public(found.segment), "size": len(found.customers)}


def change_members(
    table: Table,
    merchant_id: str,
    segment_id: str,
    refs: list[str],
    *,
    add: bool,
    now: datetime | None = None,
) -> dict[str, Any]:
    segment = audience.get_segment(table, merchant_id, segment_id)
    if segment.get("kind") != "static":
        raise InvalidInputError("members can only be added to or removed from a static segment", "customers")
    ids = {ref: resolve_customer_id(merchant_id, ref) for ref in refs}
    existing = {item["customer_id"] for item in audience.get_customers(table, merchant_id, set(ids.values()))}
    known = [cid for cid in dict.fromkeys(ids.values()) if cid in existing]
    if add:
        audience.add_members(table, merchant_id, segment_id, known, (now or datetime.now(UTC)).isoformat())
    else:
        audience.remove_members(table, merchant_id, segment_id, known)
    not_found = [ref for ref, cid in ids.items() if cid not in existing]
    return {**get_segment(table, merchant_id, segment_id), "changed": known, "not_found": not_found}
