"""Signed links in coupon emails and pages: the coupon link and the one-click unsubscribe link,
and the merchant's link to a send's failure report.

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
from datetime import UTC, datetime
from enum import StrEnum
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

VERSION = 1
_DOMAIN = b"couponflow-link\n"
MAX_TOKEN_LENGTH = 512


class LinkPurpose(StrEnum):
    COUPON = "coupon"  # open the coupon page, follow it to the store
    UNSUBSCRIBE = "unsubscribe"  # leave everything of the merchant
    REPORT = "report"  # download a send's failure report (the merchant's link; it expires)


class InvalidLink(ValueError):
    """The token is malformed, was not signed by us, or is not for this use."""


class ExpiredLink(InvalidLink):
    """The token is ours and intact, but its time is over."""


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
    body: list[object] = [
        VERSION,
        str(claims.purpose),
        claims.merchant_id,
        claims.customer_id,
        claims.campaign_id,
    ]
    return _seal(secret, body)


def _seal(secret: str, body: list[object]) -> str:
    if not secret:
        raise ValueError("the link signing secret is empty")
    payload = json.dumps(body, separators=(",", ":")).encode()
    return f"{_b64(payload)}.{_b64(_mac(secret, payload))}"


def _open(secret: str, token: str) -> list[object]:
    """The signed body of a token we wrote, or InvalidLink (malformed, forged, altered)."""
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
        body = json.loads(payload)
    except ValueError as error:  # signed by us, so only a bug could get here
        raise InvalidLink("unreadable link token") from error
    if not isinstance(body, list) or not body:
        raise InvalidLink("unreadable link token")
    return body


def verify(secret: str, token: str, purpose: LinkPurpose, *, merchant_id: str | None = None) -> LinkClaims:
    """The claims of a token we signed for ``purpose`` (and ``merchant_id`` when given), or InvalidLink."""
    body = _open(secret, token)
    if len(body) >= 2 and body[1] != purpose:
        raise InvalidLink(f"this is not a {purpose} link")
    try:
        version, kind, merchant, customer, campaign = body
    except ValueError as error:
        raise InvalidLink("unreadable link token") from error
    if version != VERSION:
        raise InvalidLink(f"unsupported link token version {version}")
    if kind != purpose:
        raise InvalidLink(f"this is not a {purpose} link")
    if merchant_id is not None and merchant != merchant_id:
        raise InvalidLink("link token belongs to another merchant")
    return LinkClaims(LinkPurpose(str(kind)), str(merchant), str(customer), str(campaign))


@dataclass(frozen=True)
class ReportLink:
    """A merchant's link to one send's failure report, good until ``expires_at``."""

    merchant_id: str
    send_id: str
    expires_at: datetime  # aware


def sign_report(secret: str, link: ReportLink) -> str:
    """``[version, "report", merchant, send, expiry (epoch seconds)]``, signed like every link."""
    expires = int(link.expires_at.timestamp())
    return _seal(secret, [VERSION, str(LinkPurpose.REPORT), link.merchant_id, link.send_id, expires])


def verify_report(secret: str, token: str, *, now: datetime) -> ReportLink:
    """The report link a token names; InvalidLink if not ours or not a report link, ExpiredLink after
    its expiry (checked after the signature, so an expired answer is only given for our own tokens)."""
    body = _open(secret, token)
    if len(body) >= 2 and body[1] != LinkPurpose.REPORT:
        raise InvalidLink("this is not a report link")
    try:
        version, _, merchant, send, expires = body
    except ValueError as error:
        raise InvalidLink("unreadable link token") from error
    if version != VERSION or not isinstance(expires, int):
        raise InvalidLink(f"unsupported link token version {version}")
    link = ReportLink(str(merchant), str(send), datetime.fromtimestamp(expires, UTC))
    if now >= link.expires_at:
        raise ExpiredLink(f"this report link expired at {link.expires_at.isoformat()}")
    return link


def report_path(token: str) -> str:
    return f"/public/reports/{token}"


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
