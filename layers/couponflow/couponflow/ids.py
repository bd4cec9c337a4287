"""Identifiers: time-sortable ids for new things, deterministic ids for customers and claims, and
a customer named by id or by email address resolved to its id."""

from __future__ import annotations

import hashlib
import os
import time

from couponflow.domain.emails import InvalidEmail, normalize_email
from couponflow.errors import InvalidInputError

_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


def _base32(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, rem = divmod(value, 32)
        chars.append(_CROCKFORD[rem])
    return "".join(reversed(chars))


def new_id(prefix: str) -> str:
    """A ULID-style id: 48-bit millisecond time then 80 random bits, so ids sort by creation."""
    millis = int(time.time() * 1000)
    rand = int.from_bytes(os.urandom(10), "big")
    return f"{prefix}_{_base32(millis, 10)}{_base32(rand, 16)}"


def customer_id(merchant_id: str, normalized_email: str) -> str:
    """The same address always maps to the same customer of a merchant (so claims are idempotent)."""
    digest = hashlib.sha256(f"{merchant_id}\x00{normalized_email}".encode()).hexdigest()
    return f"cus_{digest[:24]}"


def claim_id(campaign_id: str, customer_id: str, claim_number: int = 1) -> str:
    """A claim's id: derived from what makes it one (the campaign, the customer, the how-manieth
    code of the campaign they hold), so the storefront's answer and the merchant's lists name it
    the same without storing it, and a repeated claim answers the same id."""
    digest = hashlib.sha256(f"{campaign_id}\x00{customer_id}\x00{claim_number}".encode()).hexdigest()
    return f"clm_{digest[:24]}"


def shard_of(value: str, shards: int) -> int:
    """A stable shard number for ``value`` in ``range(shards)``."""
    return int.from_bytes(hashlib.sha256(value.encode()).digest()[:4], "big") % shards


def resolve_customer_id(merchant_id: str, customer_id_or_email: str) -> str:
    """Accept either a customer id or the customer's email address."""
    if "@" not in customer_id_or_email:
        return customer_id_or_email
    try:
        return customer_id(merchant_id, normalize_email(customer_id_or_email))
    except InvalidEmail as error:
        raise InvalidInputError(str(error), "email") from error
