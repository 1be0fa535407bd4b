"""Who is on the other end: the client address the throttles count (API.md, Sessions).

One rule for every service, however it is started: the address is the socket
peer, unless the peer is one of the proxies named in FORWARDED_ALLOW_IPS; then it
is the address that proxy put in X-Forwarded-For. uvicorn applies the rule while
it builds the request (common.server passes it FORWARDED_ALLOW_IPS, which is
empty, trusting nobody, unless configured), so `request.client` already holds
the answer. What arrives here is still checked: anything but an IP address
becomes "unknown", so a header's junk can never become a stored key.

IPv6 clients are counted by their /64 network: one subscriber usually holds a
whole /64 and could otherwise take a fresh address for every attempt.
"""

from __future__ import annotations

import ipaddress

from starlette.requests import Request

UNKNOWN = "unknown"
IPV6_PREFIX = 64


def normalized_address(host: str | None) -> str:
    """`host` as the throttles count it: an IPv4 address, an IPv6 /64 network, or
    "unknown" when it is not an IP address at all. At most 43 characters."""
    if not host:
        return UNKNOWN
    try:
        address = ipaddress.ip_address(host.strip())
    except ValueError:
        return UNKNOWN
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        network = ipaddress.IPv6Network((address.packed, IPV6_PREFIX), strict=False)
        return str(network)
    return str(address)


def client_address(request: Request) -> str:
    """The request's client address, normalized (see the module docstring)."""
    return normalized_address(request.client.host if request.client else None)
