"""The client's real address, also behind a reverse proxy, for the sign-in lockout.

X-Forwarded-For is written by whoever sends the request, so it is read only when the
request comes from a trusted proxy (TRUSTED_PROXIES: addresses or networks), and then
from the right: the first address that no trusted proxy added is the client. Without
trusted proxies the address is REMOTE_ADDR, and a forged header changes nothing.
"""

import ipaddress
from functools import cache

from django.conf import settings
from django.http import HttpRequest


@cache
def _networks(proxies: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def address_in(address: str | None, networks: list[str]) -> bool:
    """Whether `address` lies in one of `networks` (addresses or CIDR networks, as settings
    list them); an address that is no address lies in none."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return False
    return any(ip in network for network in _networks(tuple(networks)))


def _trusted(address: str | None) -> bool:
    return address_in(address, settings.TRUSTED_PROXIES)


def client_ip(request: HttpRequest) -> str | None:
    remote = request.META.get("REMOTE_ADDR")
    if not _trusted(remote):
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return remote  # a garbled header: fall back to the proxy's own address
    return remote
