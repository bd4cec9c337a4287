"""A merchant's email-provider connection: connect, show (secrets masked), disconnect. The claim
path's cached answer to "does this merchant have a provider?" is ``provider_directory.py``.

Credentials go to Secrets Manager (one secret per merchant, named under the stack's prefix);
DynamoDB keeps only the non-secret settings, the secret's ARN and a masked hint.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from couponflow.adapters import secrets
from couponflow.adapters.dynamodb import Item, Table
from couponflow.errors import NotFoundError
from couponflow.ids import new_id
from couponflow.models.integrations import EmailProviderIn, EmailProviderOut
from couponflow.providers.address_guard import check_field
from couponflow.store import integrations


def secret_name(prefix: str, merchant_id: str, connection_id: str) -> str:
    return f"{prefix}/merchants/{merchant_id}/email-provider/{connection_id}"


def mask(value: str) -> str:
    return "****" + value[-4:] if len(value) > 8 else "****"


def connect(
    table: Table,
    secret_prefix: str,
    merchant_id: str,
    request: EmailProviderIn,
    now: datetime | None = None,
    *,
    allow_private_hosts: bool = False,
) -> EmailProviderOut:
    """Store the credential as a secret of its own, then the connection item pointing at it,
    then delete the secret of the connection it replaced.

    Each connection has its own secret, and whoever removes a connection item (a later connect,
    a disconnect: each in one write that returns what it removed) deletes that item's secret and
    no other. So requests racing on one merchant never leave a connection whose secret is gone,
    whatever their order.

    A merchant-set ``base_url`` or webhook ``url`` must be https to a public host (400 naming the
    field otherwise), unless ``allow_private_hosts`` (local stack and tests).
    """
    stamp = (now or datetime.now(UTC)).isoformat()
    for name in ("base_url", "url"):
        value = getattr(request, name)
        if value is not None:
            check_field(name, str(value), allow_private=allow_private_hosts)
    fields: dict[str, Any]
    if request.type == "mailchimp":
        assert request.api_key is not None  # the model requires it for mailchimp
        credential = {"api_key": request.api_key}
        fields = {
            "provider": "mailchimp",
            "list_id": request.list_id,
            "server_prefix": request.server_prefix,
            "base_url": str(request.base_url) if request.base_url else None,
            "double_opt_in": request.double_opt_in is not False,
            "credential_hint": mask(request.api_key),
        }
    else:
        assert request.secret is not None  # the model requires it for webhook
        credential = {"secret": request.secret}
        fields = {"provider": "webhook", "url": str(request.url), "credential_hint": mask(request.secret)}
    connection_id = new_id("con")
    arn = secrets.create_secret_string(
        secret_name(secret_prefix, merchant_id, connection_id),
        json.dumps(credential),
        description=f"Couponflow email-provider credential of merchant {merchant_id}",
    )
    fields.update(secret_arn=arn, connected_at=stamp, connection_id=connection_id)
    try:
        item, replaced = integrations.put_connection(table, merchant_id, fields)
    except Exception:
        secrets.delete_secret(arn)  # nothing points at it
        raise
    if replaced is not None and replaced.get("secret_arn") not in (None, arn):
        secrets.delete_secret(replaced["secret_arn"])
    return view(item)


def view(item: Item) -> EmailProviderOut:
    hint = item.get("credential_hint")
    mailchimp = item["provider"] == "mailchimp"
    return EmailProviderOut(
        type=item["provider"],
        connected_at=item["connected_at"],
        list_id=item.get("list_id"),
        server_prefix=item.get("server_prefix"),
        base_url=item.get("base_url"),
        double_opt_in=item.get("double_opt_in") if mailchimp else None,
        url=item.get("url"),
        api_key=hint if mailchimp else None,
        secret=None if mailchimp else hint,
    )


def get(table: Table, merchant_id: str) -> EmailProviderOut:
    item = integrations.get_connection(table, merchant_id)
    if item is None:
        raise NotFoundError("no email provider is connected")
    return view(item)


def disconnect(table: Table, merchant_id: str) -> None:
    """Remove the connection, then its secret; queued jobs find no provider and leave claims blank."""
    old = integrations.delete_connection(table, merchant_id)
    if old is None:
        raise NotFoundError("no email provider is connected")
    secrets.delete_secret(old["secret_arn"])
