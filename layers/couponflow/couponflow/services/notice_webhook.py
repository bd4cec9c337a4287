"""A merchant's notice webhook: where their notices (a pool running low or empty, a campaign
paused by the reputation guard, a send finished or failed) are posted, signed, beside the
notification email (``services/notifications.py`` posts them).

The URL is checked when set (https, a public host: a 400 naming ``url``) and again before each
post. The signing secret is ours, generated when the webhook is set and shown once, in that
answer; a merchant who lost it sets the webhook again and gets a new one. It is kept on the
merchant's profile item (DynamoDB, encrypted at rest), which every notice reads anyway. An email
provider's credential goes to Secrets Manager instead, because it is a key to act on the
merchant's account elsewhere; this secret only proves that a notice came from us, and Secrets
Manager would add a secret per merchant ($0.40 a month) and a call per notice for no more
protection of what it guards.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from couponflow.adapters.dynamodb import Table
from couponflow.errors import NotFoundError, PermanentSendError, RetryableError
from couponflow.ids import new_id
from couponflow.providers.address_guard import check_field
from couponflow.services.notifications import Notice, post_notice
from couponflow.store import keys

SECRET_PREFIX = "whsec_"


def view(profile: Mapping[str, Any]) -> dict[str, Any] | None:
    """The webhook as the merchant sees it later: never its secret, only the secret's end."""
    if not (profile.get("webhook_url") and profile.get("webhook_secret")):
        return None
    return {
        "url": profile["webhook_url"],
        "secret_hint": str(profile["webhook_secret"])[-4:],
        "set_at": profile.get("webhook_set_at") or "",
    }


def set_webhook(
    table: Table, merchant_id: str, url: str, *, allow_private_hosts: bool, now: datetime | None = None
) -> dict[str, Any]:
    """Set (or replace) the webhook with a new secret; the answer is the one that shows it."""
    check_field("url", url, allow_private=allow_private_hosts)
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    stamp = (now or datetime.now(UTC)).isoformat()
    table.update(
        keys.merchant(merchant_id),
        "SET webhook_url = :u, webhook_secret = :s, webhook_set_at = :t",
        condition="attribute_exists(pk)",
        values={":u": url, ":s": secret, ":t": stamp},
    )
    return {"url": url, "secret": secret, "secret_hint": secret[-4:], "set_at": stamp}


def remove_webhook(table: Table, merchant_id: str) -> None:
    """No more notices by webhook (removing none is no error: the merchant's intent holds)."""
    table.update(
        keys.merchant(merchant_id),
        "REMOVE webhook_url, webhook_secret, webhook_set_at",
        condition="attribute_exists(pk)",
    )


def send_test(table: Table, merchant_id: str, *, allow_private_hosts: bool) -> dict[str, Any]:
    """Post a ``ping`` notice to the webhook now, and say what it answered."""
    profile = table.get(keys.merchant(merchant_id)) or {}
    if view(profile) is None:
        raise NotFoundError("no notice webhook is set")
    notice = Notice(
        "ping",
        "Test notice",
        "A test of your notice webhook.",
        {"requested_at": datetime.now(UTC).isoformat()},
        key=new_id("ping"),
    )
    notice_id = notice.id_for(merchant_id)
    try:
        status = post_notice(profile, merchant_id, notice, allow_private_hosts=allow_private_hosts)
    except (PermanentSendError, RetryableError) as error:
        return {"id": notice_id, "delivered": False, "reason": str(error)}
    return {"id": notice_id, "delivered": True, "status": status}
