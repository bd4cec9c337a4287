"""The one module that calls merchants' webhooks: JSON over HTTPS, signed with the merchant's secret.

Signature header (verify by recomputing): ``Couponflow-Signature: t=<unix seconds>,v1=<hex>``
where ``v1 = HMAC-SHA256(secret, f"{t}.{body}")``. Receivers should reject stale ``t``. A post
that is tried again carries the same ``Idempotency-Key`` when the caller gives one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from couponflow.errors import PermanentSendError, RetryableError
from couponflow.providers.http import open_url

TIMEOUT_SECONDS = 5


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def signed(
    secret: str, payload: Mapping[str, Any], *, now: int | None = None, idempotency_key: str | None = None
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a signed post, as every Couponflow webhook sends them (notices here,
    contacts to a merchant's own list endpoint in ``providers/webhook.py``)."""
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Couponflow-Webhook/1",
        "Couponflow-Signature": signature(secret, now or int(time.time()), body),
    }
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    return body, headers


def post_signed(
    url: str,
    secret: str,
    payload: Mapping[str, Any],
    *,
    now: int | None = None,
    idempotency_key: str | None = None,
) -> int:
    """POST ``payload``; returns the HTTP status. A redirect and 4xx (but 429) are permanent,
    anything else retryable."""
    body, headers = signed(secret, payload, now=now, idempotency_key=idempotency_key)
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with open_url(request, TIMEOUT_SECONDS) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        if 300 <= error.code < 400:  # never followed: where it points was not checked
            raise PermanentSendError(f"webhook answered {error.code}, a redirect (not followed)") from error
        if 400 <= error.code < 500 and error.code != 429:
            raise PermanentSendError(f"webhook answered {error.code}") from error
        raise RetryableError(f"webhook answered {error.code}") from error
    except (urllib.error.URLError, TimeoutError) as error:
        raise RetryableError(f"webhook unreachable: {error}") from error
