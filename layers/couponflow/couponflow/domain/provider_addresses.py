"""Which addresses a merchant-set provider URL may reach. Pure: values in, values out.

A provider ``base_url`` or webhook ``url`` is called from inside our functions, so a merchant
could point it at our own network (loopback, private ranges, link-local, the instance metadata
service at 169.254.169.254) and read or poke at what only we should reach. Only globally
routable unicast addresses are allowed.
"""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA = ipaddress.ip_address("169.254.169.254")


def internal_kind(address: IPAddress) -> str | None:
    """Why ``address`` is off limits ("loopback", "private", ...), or None for a public address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address == METADATA:
        return "the instance metadata service"
    checks = (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("private", address.is_private),
        ("multicast", address.is_multicast),
        ("unspecified", address.is_unspecified),
        ("reserved", address.is_reserved),
        ("not globally routable", not address.is_global),
    )
    return next((kind for kind, hit in checks if hit), None)
