"""Merchant API keys: ``cf_<merchant id>_<secret>``; only a SHA-256 of the whole key is stored.

The merchant id inside the key lets the authorizer read one merchant-scoped item; the secret
(32 bytes of randomness) makes the key unguessable.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

_KEY = re.compile(r"^cf_(?P<merchant>m[a-z0-9]{4,40})_(?P<secret>[A-Za-z0-9_-]{40,64})$")


def new_api_key(merchant_id: str) -> str:
    return f"cf_{merchant_id}_{secrets.token_urlsafe(32)}"


def hash_api_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def merchant_of(api_key: str) -> str | None:
    """The merchant id a well-formed key names, or None for anything malformed."""
    match = _KEY.match(api_key)
    return match.group("merchant") if match else None


def matches(api_key: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_api_key(api_key), stored_hash)
