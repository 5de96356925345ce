"""Which webhook URLs the service will call: the URL is the partner's, the network it
reaches is ours."""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError


class UnsafeWebhookURL(ValueError):
    pass


def _address_allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    return ip.is_global and not (ip.is_loopback or ip.is_link_local or ip.is_private or ip.is_multicast)


def check_url(url: str, *, resolve: bool = True) -> None:
    """http(s) only, and (unless allowed by settings) never loopback, link-local or
    private: the URL is the partner's, the network it reaches is ours."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeWebhookURL("The webhook URL must be http:// or https:// with a host name.")
    if settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES:
        return
    host = parts.hostname
    if host == "localhost" or host.endswith(".localhost"):
        raise UnsafeWebhookURL("The webhook URL may not point at this machine.")
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        if not resolve:
            return
        try:
            addresses = [info[4][0] for info in socket.getaddrinfo(host, parts.port or 443)]
        except socket.gaierror as exc:
            raise UnsafeWebhookURL(f"The webhook host {host} does not resolve.") from exc
    if not all(_address_allowed(address) for address in addresses):
        raise UnsafeWebhookURL("The webhook URL points at a loopback, link-local or private address.")


def validate_partner_url(url: str) -> None:
    """For forms and commands: the same rule, as a field error, without a DNS lookup."""
    try:
        check_url(url, resolve=False)
    except UnsafeWebhookURL as exc:
        raise ValidationError({"webhook_url": [str(exc)]}) from exc
