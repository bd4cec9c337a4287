"""The merchant's account settings: how long message events are kept (default 180 days, used as
the TTL of each event the SES-events function stores) and where notices go."""

from __future__ import annotations

from typing import Any

from couponflow.adapters.dynamodb import Table
from couponflow.models.api import MerchantSettingsIn
from couponflow.services import notice_webhook
from couponflow.store import keys

DEFAULT_RETENTION_DAYS = 180
_FIELDS = ("message_event_retention_days", "notification_email")


def view(table: Table, merchant_id: str) -> dict[str, Any]:
    profile = table.get(keys.merchant(merchant_id)) or {}
    return {
        "message_event_retention_days": int(
            profile.get("message_event_retention_days") or DEFAULT_RETENTION_DAYS
        ),
        "notification_email": profile.get("notification_email"),
        "notice_webhook": notice_webhook.view(profile),
    }


def update(table: Table, merchant_id: str, change: MerchantSettingsIn) -> dict[str, Any]:
    given = change.model_dump(exclude_unset=True)
    sets = [f"#{name} = :{name}" for name in _FIELDS if given.get(name) is not None]
    removes = [f"#{name}" for name in _FIELDS if name in given and given[name] is None]
    if sets or removes:
        expression = (f"SET {', '.join(sets)} " if sets else "") + (
            f"REMOVE {', '.join(removes)}" if removes else ""
        )
        names = {f"#{name}": name for name in _FIELDS if name in given}
        values = {f":{name}": given[name] for name in _FIELDS if given.get(name) is not None}
        table.update(
            keys.merchant(merchant_id),
            expression.strip(),
            condition="attribute_exists(pk)",
            names=names,
            values=values or None,
        )
    return view(table, merchant_id)
