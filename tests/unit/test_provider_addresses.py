"""Which hosts a merchant-set provider URL may reach (pure rule, and the check with a fake resolver)."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest
from couponflow.domain.provider_addresses import internal_kind
from couponflow.providers.address_guard import UnsafeProviderUrl, check_url


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("169.254.169.254", "the instance metadata service"),
        ("169.254.10.1", "link-local"),
        ("fe80::1", "link-local"),
        ("10.0.0.1", "private"),
        ("172.31.255.1", "private"),
        ("192.168.1.1", "private"),
        ("fd00::1", "private"),
        ("::ffff:10.0.0.1", "private"),
        ("0.0.0.0", "private"),
        ("100.64.0.1", "not globally routable"),
        ("224.0.0.1", "multicast"),
    ],
)
def test_internal_addresses_are_named_by_kind(address: str, kind: str) -> None:
    assert internal_kind(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert internal_kind(ipaddress.ip_address(address)) is None


def _resolver(*addresses: str) -> Any:
    def resolve(host: str, port: int, **_: Any) -> list[tuple[Any, ...]]:
        if not addresses:
            raise socket.gaierror("no such host")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses]

    return resolve


def test_a_name_is_refused_if_any_of_its_addresses_is_internal() -> None:
    check_url("https://api.example.com/3.0", allow_private=False, resolve=_resolver("8.8.8.8"))
    with pytest.raises(UnsafeProviderUrl, match=r"resolves to 10\.0\.0\.5 \(private\)"):
        check_url("https://api.example.com", allow_private=False, resolve=_resolver("8.8.8.8", "10.0.0.5"))
    with pytest.raises(UnsafeProviderUrl, match="does not resolve"):
        check_url("https://nowhere.example", allow_private=False, resolve=_resolver())


def test_http_is_refused_unless_private_hosts_are_allowed_and_other_schemes_always() -> None:
    with pytest.raises(UnsafeProviderUrl, match="must use https"):
        check_url("http://8.8.8.8/", allow_private=False)
    check_url("http://127.0.0.1:8080/3.0", allow_private=True, resolve=_resolver())  # no lookup at all
    with pytest.raises(UnsafeProviderUrl, match="http"):
        check_url("file:///etc/passwd", allow_private=True)
