"""The merchant's suppression list through the API: list, inspect (reason and the event that
caused it), remove (later emails to the address go out again)."""

from __future__ import annotations

from typing import Any

from couponflow.adapters.dynamodb import Item, Table
from couponflow.domain.emails import InvalidEmail, normalize_email
from couponflow.errors import InvalidInputError, NotFoundError
from couponflow.store import suppressions

_INTERNAL = ("pk", "sk", "type", "merchant_id")


def _view(item: Item) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in _INTERNAL}


def _address(email: str) -> str:
    try:
        return normalize_email(email)
    except InvalidEmail as error:
        raise InvalidInputError(str(error), "email") from error


def list_suppressions(table: Table, merchant_id: str, *, limit: int, after: str | None) -> dict[str, Any]:
    items, next_after = suppressions.list_page(
        table, merchant_id, limit=limit, after=_address(after) if after else None
    )
    return {"items": [_view(i) for i in items], "count": len(items), "next": next_after}


def get_suppression(table: Table, merchant_id: str, email: str) -> dict[str, Any]:
    address = _address(email)
    item = suppressions.get(table, merchant_id, address)
    if item is None:
        raise NotFoundError(f"'{address}' is not suppressed")
    view = _view(item)
    soft = suppressions.soft_bounces(table, merchant_id, address)
    if soft:
        view["soft_bounces"] = sorted(
            soft.get("bounces", {}).values(), key=lambda b: str(b.get("occurred_at"))
        )
    return view


def remove_suppression(table: Table, merchant_id: str, email: str) -> dict[str, Any]:
    address = _address(email)
    removed = suppressions.remove(table, merchant_id, address)
    if removed is None:
        raise NotFoundError(f"'{address}' is not suppressed")
    return {"removed": _view(removed)}
