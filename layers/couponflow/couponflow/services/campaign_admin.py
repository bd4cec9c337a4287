"""Merchant use cases that manage a campaign after it was created: update, pause, resume."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from couponflow.adapters.dynamodb import Table
from couponflow.errors import InvalidInputError
from couponflow.store import campaigns, keys
from couponflow.store import page_views as page_views_store

if TYPE_CHECKING:  # the merchant API's models: the list exports (code import function) show
    # campaigns with ``with_defaults`` and load none of them
    from couponflow.models.api import CampaignUpdate

# bookkeeping of the pool alerts (the key design is stripped by ``keys.without_storage``)
_INTERNAL = frozenset({"pool_exhausted_version", "pool_low_alerted_version", "pool_empty_alerted_version"})


def _stored(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)  # HttpUrl, Channel


def update_campaign(
    table: Table, merchant_id: str, campaign_id: str, request: CampaignUpdate, now: datetime | None = None
) -> dict[str, Any]:
    """Change the settings sent (``null`` clears an optional one); the window stays ordered."""
    fields = {name: _stored(getattr(request, name)) for name in request.model_fields_set}
    current = campaigns.get_item(table, merchant_id, campaign_id)
    starts = fields["starts_at"] if "starts_at" in fields else current.get("starts_at")
    ends = fields["ends_at"] if "ends_at" in fields else current.get("ends_at")
    if starts and ends and datetime.fromisoformat(ends) <= datetime.fromisoformat(starts):
        culprit = "ends_at" if "ends_at" in fields else "starts_at"
        raise InvalidInputError(f"ends_at ({ends}) must be after starts_at ({starts})", culprit)
    if not fields:
        return with_defaults(current)
    stamp = (now or datetime.now(UTC)).isoformat()
    return with_defaults(campaigns.update_fields(table, merchant_id, campaign_id, fields, stamp))


def set_paused(table: Table, merchant_id: str, campaign_id: str, paused: bool) -> dict[str, Any]:
    """Pause (claims answer ``out_of_coupons``/``paused``) or resume a campaign; repeating is harmless."""
    stamp = datetime.now(UTC).isoformat()
    item = campaigns.update_fields(table, merchant_id, campaign_id, {"paused": paused}, stamp)
    return with_defaults(item)


def page_views(table: Table, merchant_id: str, campaign_id: str) -> dict[str, Any]:
    """Anonymous visitors who viewed the campaign's page (``page_viewed``, no email asked)."""
    campaigns.get_item(table, merchant_id, campaign_id)
    return {
        "campaign_id": campaign_id,
        "visitors": page_views_store.visitors(table, merchant_id, campaign_id),
    }


def with_defaults(item: dict[str, Any]) -> dict[str, Any]:
    """The campaign as the merchant sees it, with defaults for settings never set."""
    shown = {k: v for k, v in keys.without_storage(item).items() if k not in _INTERNAL}
    shown.setdefault("per_customer_limit", 1)
    shown.setdefault("block_disposable_emails", False)
    shown.setdefault("paused", False)
    return shown
