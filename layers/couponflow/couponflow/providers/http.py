"""A tiny JSON-over-HTTP client on urllib for the provider modules (no AWS here)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

TIMEOUT_SECONDS = 5


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is answered as the HTTP status it is, never followed: the URL a merchant gave
    was checked (https, a public host), where it points next was not (an internal address)."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_RefuseRedirects)


def open_url(request: urllib.request.Request, timeout: float) -> Any:
    """``urlopen`` without following redirects (for every call to a merchant-given URL)."""
    return _OPENER.open(request, timeout=timeout)


def call(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = TIMEOUT_SECONDS,
) -> tuple[int, dict[str, Any]]:
    """(HTTP status, JSON body or {}); status 0 when the provider could not be reached at all."""
    request = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))
    try:
        with open_url(request, timeout) as response:
            return int(response.status), _json(response.read())
    except urllib.error.HTTPError as error:
        return int(error.code), _json(error.read())
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        return 0, {"title": "unreachable", "detail": str(error)}


def _json(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw or b"{}")
    except ValueError:
        return {"detail": raw[:200].decode(errors="replace")}
    return value if isinstance(value, dict) else {"value": value}
