"""Signed links in coupon emails and pages: the coupon link and the one-click unsubscribe link.

A link token names who and what it is for, and proves we wrote it:

    token = base64url(json([version, purpose, merchant, customer, campaign])) "." base64url(mac)
    mac   = HMAC-SHA256(secret, "couponflow-link\\n" + payload)

The secret never leaves the functions (AWS Secrets Manager), so a token cannot be guessed or
forged, changing any character of it breaks the MAC, and a token made for one purpose (an
unsubscribe link) does not open another (the coupon page). Pure: values in, values out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

VERSION = 1
_DOMAIN = b"couponflow-link\n"
MAX_TOKEN_LENGTH = 512


class LinkPurpose(StrEnum):
    COUPON = "coupon"  # open the coupon page, follow it to the store
    UNSUBSCRIBE = "unsubscribe"  # leave everything of the merchant


class InvalidLink(ValueError):
    """The token is malformed, was not signed by us, or is not for this use."""


@dataclass(frozen=True)
class LinkClaims:
    purpose: LinkPurpose
    merchant_id: str
    customer_id: str
    campaign_id: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, payload: bytes) -> bytes:
    return hmac.new(secret.encode(), _DOMAIN + payload, hashlib.sha256).digest()


def sign(secret: str, claims: LinkClaims) -> str:
    if not secret:
        raise ValueError("the link signing secret is empty")
    body = [VERSION, str(claims.purpose), claims.merchant_id, claims.customer_id, claims.campaign_id]
    payload = json.dumps(body, separators=(",", ":")).encode()
    return f"{_b64(payload)}.{_b64(_mac(secret, payload))}"


def verify(secret: str, token: str, purpose: LinkPurpose, *, merchant_id: str | None = None) -> LinkClaims:
    """The claims of a token we signed for ``purpose`` (and ``merchant_id`` when given), or InvalidLink."""
    if not token or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
        raise InvalidLink("malformed link token")
    encoded, _, signature = token.partition(".")
    try:
        payload, mac = _unb64(encoded), _unb64(signature)
    except (ValueError, TypeError) as error:
        raise InvalidLink("malformed link token") from error
    if _b64(payload) != encoded or _b64(mac) != signature:  # one spelling per token: no spare bits
        raise InvalidLink("malformed link token")
    if not hmac.compare_digest(mac, _mac(secret, payload)):
        raise InvalidLink("link token signature does not match")
    try:
        version, kind, merchant, customer, campaign = json.loads(payload)
    except (ValueError, TypeError) as error:  # signed by us, so only a bug could get here
        raise InvalidLink("unreadable link token") from error
    if version != VERSION:
        raise InvalidLink(f"unsupported link token version {version}")
    if kind != purpose:
        raise InvalidLink(f"this is not a {purpose} link")
    if merchant_id is not None and merchant != merchant_id:
        raise InvalidLink("link token belongs to another merchant")
    return LinkClaims(LinkPurpose(kind), str(merchant), str(customer), str(campaign))


def coupon_path(merchant_id: str, token: str) -> str:
    """Path of the coupon page (under the API stage); ``/store`` after it follows to the store."""
    return f"/public/merchants/{merchant_id}/coupons/{token}"


def unsubscribe_path(token: str) -> str:
    return f"/public/unsubscribe/{token}"


def store_url_with_utm(store_url: str, campaign_id: str, *, medium: str = "email") -> str:
    """The campaign's store URL with UTM parameters (any the merchant set on the URL are kept)."""
    parts = urlsplit(store_url)
    utm = {"utm_source": "couponflow", "utm_medium": medium, "utm_campaign": campaign_id}
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in utm]
    query = urlencode([*kept, *utm.items()])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
