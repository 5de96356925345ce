"""Webhook delivery to partners, per the Standard Webhooks specification.

Notifications are outbox rows (intake.models.PartnerNotification) written in the
transaction that changed the case. A task tries each at once after commit; a
periodic task retries the due ones with exponential backoff for more than a day,
so a broker or partner outage loses nothing. Every attempt is logged.
"""

import ipaddress
import json
import logging
import socket
import time
import urllib.error
import urllib.request
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from standardwebhooks import Webhook

from intake.models import PartnerNotification, WebhookAttempt

log = logging.getLogger(__name__)
State = PartnerNotification.State
# While one process is sending, others leave the row alone for this long.
LEASE = timedelta(minutes=2)


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


def backoff(attempts: int) -> timedelta:
    seconds = settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.WEBHOOK_RETRY_MAX_SECONDS))


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect could lead anywhere, our own network included: treat it as a failure.
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with _opener.open(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        return None, str(getattr(exc, "reason", exc))[:500]


def signed_request(notification: PartnerNotification, *, now) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(notification.payload, separators=(",", ":"), ensure_ascii=False)
    msg_id = f"msg_{notification.pk.hex}"
    signature = Webhook(notification.partner.webhook_secret).sign(msg_id, now, body)
    return body.encode(), {
        "Content-Type": "application/json",
        "User-Agent": "clinic-webhooks/1",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }


def deliver(*, notification_id: uuid.UUID | str) -> str | None:
    """Try one notification if it is due and nobody else is sending it. Returns its new state."""
    now = timezone.now()
    claimed = PartnerNotification.objects.filter(
        pk=notification_id, state=State.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=now + LEASE)
    if not claimed:
        return None
    notification = PartnerNotification.objects.select_related("partner").get(pk=notification_id)
    url = notification.partner.webhook_url
    started = time.monotonic()
    try:
        check_url(url)
    except UnsafeWebhookURL as exc:
        status, error = None, str(exc)
    else:
        body, headers = signed_request(notification, now=now)
        status, error = _post(url, body, headers)
    elapsed_ms = int((time.monotonic() - started) * 1000)
    return _record_attempt(notification, url=url, status=status, error=error, duration_ms=elapsed_ms)


@transaction.atomic
def _record_attempt(notification, *, url: str, status: int | None, error: str, duration_ms: int) -> str:
    WebhookAttempt.objects.create(
        notification=notification, url=url, status_code=status, error=error, duration_ms=duration_ms
    )
    now = timezone.now()
    attempts = notification.attempts + 1
    fields: dict = {"attempts": attempts, "last_error": error}
    if status is not None and 200 <= status < 300:
        fields |= {"state": State.DELIVERED, "delivered_at": now, "last_error": ""}
    elif now - notification.created_at > timedelta(hours=settings.WEBHOOK_GIVE_UP_HOURS):
        fields |= {"state": State.FAILED}
        log.warning("gave up on webhook %s after %d attempts", notification.pk, attempts)
    else:
        fields |= {"next_attempt_at": now + backoff(attempts)}
    PartnerNotification.objects.filter(pk=notification.pk).update(**fields)
    return fields.get("state", State.PENDING)


def due_notifications(limit: int = 100) -> list[uuid.UUID]:
    return list(
        PartnerNotification.objects.filter(state=State.PENDING, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:limit]
    )


@transaction.atomic
def resend(*, notification_id: uuid.UUID | str) -> bool:
    """A person asked to send it again now, whatever happened before. False when the
    partner has no webhook URL to send to."""
    queued = (
        PartnerNotification.objects.filter(pk=notification_id)
        .exclude(state=State.NO_URL)
        .update(state=State.PENDING, next_attempt_at=timezone.now())
    )
    if queued:
        enqueue_delivery(notification_id)
    return bool(queued)


def enqueue_delivery(notification_id: uuid.UUID | str) -> None:
    from intake.tasks import deliver_notification

    transaction.on_commit(lambda: deliver_notification.delay(str(notification_id)), robust=True)
