"""Checks a merchant-set provider URL before we call it: https, and a host that resolves only to
public addresses (``domain/provider_addresses.py``). Run when the URL is set (a 400 naming the
field) and again before each sync call (the name may resolve elsewhere by then).

``allow_private`` (the ``AllowPrivateProviderHosts`` template parameter, false by default) turns
both checks off: the local stack and the tests run fake providers on http://127.0.0.1.
Known limit: a name that resolves to a public address when checked and to an internal one a
moment later (DNS rebinding) is not caught; pinning the checked address would be.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from couponflow.domain.provider_addresses import internal_kind
from couponflow.errors import InvalidInputError

Resolver = Callable[..., list[tuple[Any, ...]]]


class UnsafeProviderUrl(ValueError):
    """The URL may not be called from our functions; the message says why."""


def check_field(field: str, url: str, *, allow_private: bool) -> None:
    """``check_url`` for a URL a request sets: a refusal is a 400 naming ``field``."""
    try:
        check_url(url, allow_private=allow_private)
    except UnsafeProviderUrl as error:
        raise InvalidInputError(f"{field} {error}", field) from error


def check_url(url: str, *, allow_private: bool, resolve: Resolver = socket.getaddrinfo) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeProviderUrl("must be an http(s) URL with a host")
    if allow_private:
        return
    if parts.scheme != "https":
        raise UnsafeProviderUrl("must use https")
    host = parts.hostname
    try:
        literal = ipaddress.ip_address(host)
        addresses = [literal]
    except ValueError:
        try:
            found = resolve(host, parts.port or 443, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as error:
            raise UnsafeProviderUrl(f"host {host!r} does not resolve") from error
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in found]
    if not addresses:
        raise UnsafeProviderUrl(f"host {host!r} does not resolve")
    for address in addresses:
        kind = internal_kind(address)
        if kind is not None:
            raise UnsafeProviderUrl(
                f"host {host!r} resolves to {address} ({kind}); only public hosts are allowed"
            )
