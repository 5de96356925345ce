"""Which webhook URLs the service will call, and at which address: the URL is the partner's,
the network it reaches is ours.

A URL is resolved once, every address it resolves to is checked, and the delivery connects
to the address that was checked (clinic.web.webhooks), never resolving the name again: a DNS
answer that changes between the check and the connection (DNS rebinding) cannot steer a
webhook to this machine or the cloud metadata service. Refused, in IPv4 and IPv6 and in
IPv4-mapped, 6to4 and Teredo forms: loopback, private, link-local, shared (100.64.0.0/10),
multicast, reserved and unspecified addresses.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

# The resolver, a name of its own so that tests can give answers that change between calls.
getaddrinfo = socket.getaddrinfo


class UnsafeWebhookURL(ValueError):
    pass


@dataclass(frozen=True)
class Target:
    """Where a webhook goes: the URL's scheme, host name (for Host and TLS) and port, and the
    one address that was checked."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


def _embedded_ipv4(ip: ipaddress.IPv4Address | ipaddress.IPv6Address):
    if ip.version == 6:
        if ip.ipv4_mapped:
            return ip.ipv4_mapped
        if ip.sixtofour:
            return ip.sixtofour
        if ip.teredo:
            return ip.teredo[1]
    return ip


def address_allowed(address: str) -> bool:
    ip = _embedded_ipv4(ipaddress.ip_address(address.split("%")[0]))
    refused = (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )
    return ip.is_global and not refused


def check_url(url: str) -> Target:
    """Resolve `url`'s host once and check every address; the target to connect to."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeWebhookURL("The webhook URL must be http:// or https:// with a host name.")
    host = parts.hostname
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeWebhookURL("The webhook URL's port is not a number from 1 to 65535.") from None
    try:
        addresses = [info[4][0] for info in getaddrinfo(host, port, proto=socket.IPPROTO_TCP)]
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeWebhookURL(
            f"The webhook host {host} does not resolve: check the spelling, or that its DNS record exists."
        ) from exc
    if not addresses:
        raise UnsafeWebhookURL(f"The webhook host {host} does not resolve to any address.")
    if not settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES and not all(address_allowed(a) for a in addresses):
        raise UnsafeWebhookURL(
            "The webhook URL points at a loopback, private, link-local, shared or reserved address; "
            "give one the service may reach on the internet."
        )
    path = parts.path or "/"
    return Target(parts.scheme, host, port, f"{path}?{parts.query}" if parts.query else path, addresses[0])


def validate_partner_url(url: str) -> None:
    """For the admin and `create_partner`: the same rule, DNS lookup included, as a field error."""
    try:
        check_url(url)
    except UnsafeWebhookURL as exc:
        raise ValidationError({"webhook_url": [str(exc)]}) from exc
