"""Webhook delivery to partners, per the Standard Webhooks specification.

Notifications are outbox rows (intake.models.PartnerNotification) written in the
transaction that changed the case. A task tries each at once after commit; a
periodic task retries the due ones with exponential backoff and jitter for more than a day,
so a broker or partner outage loses nothing. Every attempt is logged. A receiver answering
`410 Gone` disables the partner's webhooks (intake.partner_webhooks): its events wait in the
outbox until someone re-enables them. While a rotated secret's overlap runs, both secrets sign.
"""

import http.client
import json
import logging
import random
import socket
import ssl
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from standardwebhooks import Webhook

from clinic.aftercare import selectors as course_selectors
from clinic.aftercare.models import AdverseEvent
from clinic.web.fhir.adverse_event_outbound import AsReported, adverse_event, is_own
from clinic.web.fhir.aftercare import CourseAt, course_task, patient_reference, procedure
from clinic.web.fhir.follow_up_outbound import observation_of
from clinic.web.fhir.outbound import AsOf, collection, referral_bundle, service_request
from intake import telemetry, tracing
from intake.event_types import ADVERSE_EVENT, COURSE_CLOSED, FOLLOW_UP, TREATED, receives
from intake.models import Case, Partner, PartnerNotification, WebhookAttempt, WebhookFormat
from intake.partner_webhooks import disable_webhooks, signing_secrets
from intake.webhook_urls import Target, UnsafeWebhookURL, check_url
from recommendations.selectors import with_decision

log = logging.getLogger(__name__)
State = PartnerNotification.State
# While one process is sending, others leave the row alone for this long.
LEASE = timedelta(minutes=2)


def _is_bundle(payload: dict) -> bool:
    return isinstance(payload.get("data"), dict) and payload["data"].get("resourceType") == "Bundle"


def _render_fhir(notification: PartnerNotification) -> None:
    """Replace the JSON snapshot by the referral's FHIR Bundle as it stood at the event,
    once, before the first attempt: every retry then sends the same body."""
    snapshot = notification.payload["data"]
    case = with_decision(Case.objects.select_related("patient")).get(pk=notification.case_id)
    if notification.event_type in AFTERCARE_EVENTS:
        bundle = aftercare_event_bundle(case, notification.event_type, snapshot, notification.partner)
    else:
        # The case may have moved on since the event; the Bundle tells the event's state.
        at_event = AsOf(
            status=snapshot["status"],
            status_changed_at=parse_datetime(snapshot["updated_at"]),
            open_question=snapshot["question"] or "",
            needs=snapshot.get("needs"),
        )
        bundle = referral_bundle(case, at_event)
    rendered = PartnerNotification.objects.filter(pk=notification.pk)
    rendered.update(payload={**notification.payload, "data": bundle})
    # Sign what is stored (jsonb orders keys its own way), so every attempt's body is the same bytes.
    notification.payload = rendered.values_list("payload", flat=True).get()


AFTERCARE_EVENTS = frozenset({TREATED, COURSE_CLOSED, ADVERSE_EVENT, FOLLOW_UP})


def aftercare_event_bundle(case: Case, event_type: str, snapshot: dict, partner: Partner) -> dict:
    """A FHIR partner's `data` for an event after the decision: a `collection` Bundle of the event's
    resources (referral.treated: the Procedure and the course Task; referral.course_closed: the
    course Task; referral.adverse_event: the AdverseEvent; referral.follow_up: the Observation of the
    scored response, which never changes once scored), as the event's snapshot tells them, and the
    ServiceRequest with the partner's external_id as its placer identifier."""
    course = course_selectors.course_of(case.pk)
    records = list(course.records.all()) if course is not None else []
    # A Procedure is named only to a partner that may read it (subscribed to referral.treated).
    known = records if receives(partner.event_types, TREATED) else []
    treatment = snapshot.get("treatment") or {}
    changed = parse_datetime(treatment.get("state_changed_at") or "")
    if event_type == TREATED:
        treated_at = parse_datetime(treatment["treated_at"])
        record = min(records, key=lambda r: (abs(r.administered_at - treated_at), r.session))
        so_far = [r for r in records if r.signed_at <= record.signed_at]
        at = CourseAt(treatment["state"], changed or record.signed_at)
        entries = [
            (record.pk, procedure(record, case=case)),
            (course.pk, course_task(course, case=case, records=so_far, at=at)),
        ]
    elif event_type == FOLLOW_UP:
        entries = [observation_of(snapshot["follow_up"]["id"], case=case)]
    elif event_type == COURSE_CLOSED:
        closed_at = parse_datetime(treatment["closed_at"])
        at = CourseAt(treatment["state"], changed or closed_at, closed_at)
        entries = [(course.pk, course_task(course, case=case, records=known, at=at))]
    else:
        data = snapshot["adverse_event"]
        ae = AdverseEvent.objects.get(pk=data["id"])
        told = AsReported(data["ctcae_grade"], data["serious"], data["seriousness_criteria"], data["outcome"])
        entries = [(ae.pk, adverse_event(ae, case=case, records=known, own=is_own(ae, partner), at=told))]
    # Never the patient's name in the events after the decision: every subject without it, the
    # contained Conditions' too.
    request = service_request(case, subject=patient_reference(case))
    return collection([*entries, (case.pk, request)])


def payload_as_sent(notification: PartnerNotification) -> dict:
    """The body a webhook carries (and the events feed lists): for a partner that takes FHIR,
    the Bundle, rendered once from the event's snapshot, the first time it is sent or listed."""
    fhir = notification.partner.webhook_format == WebhookFormat.FHIR and notification.case_id is not None
    if fhir and not _is_bundle(notification.payload):
        _render_fhir(notification)
    return notification.payload


# Each retry waits its step of the doubling schedule give or take this share, so deliveries that
# failed together (one partner's outage, many events) are not all retried at one instant.
JITTER = 0.2
# SystemRandom: a Random() made at import would repeat the same draws in every forked worker.
# Tests put a seeded random.Random here.
jitter_source: random.Random = random.SystemRandom()


def backoff(attempts: int, *, rng: random.Random | None = None) -> timedelta:
    """The wait before the next try after `attempts` failures: 30 s doubling up to an hour (the
    settings), each drawn within ±JITTER of its step. The retries end WEBHOOK_GIVE_UP_HOURS after the
    event, however they fall."""
    step = min(
        settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0), settings.WEBHOOK_RETRY_MAX_SECONDS
    )
    return timedelta(seconds=step * (rng or jitter_source).uniform(1 - JITTER, 1 + JITTER))


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked; the Host header stays the URL's host."""

    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """The same over TLS: the certificate is checked against the URL's host name (SNI too)."""

    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout, context=ssl.create_default_context())
        self._address = target.address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _post(target: Target, body: bytes, headers: dict[str, str]) -> tuple[int | None, str]:
    """One POST; a redirect is a failure like any other non-2xx (it could lead anywhere)."""
    kind = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = kind(target, timeout=settings.WEBHOOK_TIMEOUT_SECONDS)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        status = connection.getresponse().status
        return status, "" if 200 <= status < 300 else f"HTTP {status}"
    except (OSError, http.client.HTTPException) as exc:
        return None, str(exc)[:500] or type(exc).__name__
    finally:
        connection.close()


def signed_request(notification: PartnerNotification, *, now) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(notification.payload, separators=(",", ":"), ensure_ascii=False)
    msg_id = f"msg_{notification.pk.hex}"
    # Signed at each attempt (its timestamp is signed): during a rotated secret's overlap both secrets
    # sign, newest first, space-separated as Standard Webhooks asks; the receiver accepts either.
    signature = " ".join(
        Webhook(secret).sign(msg_id, now, body) for secret in signing_secrets(notification.partner, now=now)
    )
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "clinic-webhooks/1",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }
    if notification.request_id:
        headers[tracing.HEADER] = notification.request_id
    return body.encode(), headers


def deliver(*, notification_id: uuid.UUID | str) -> str | None:
    """Try one notification if it is due and nobody else is sending it. Returns its new state."""
    now = timezone.now()
    claimed = PartnerNotification.objects.filter(
        pk=notification_id, state=State.PENDING, next_attempt_at__lte=now, partner__webhook_disabled_at=None
    ).update(next_attempt_at=now + LEASE)
    if not claimed:
        return None
    notification = PartnerNotification.objects.select_related("partner").get(pk=notification_id)
    # The attempt's log lines carry the id of the request that caused the event.
    with tracing.bound(notification.request_id or tracing.current()):
        return _attempt(notification, now=now)


def _attempt(notification: PartnerNotification, *, now) -> str:
    payload_as_sent(notification)
    url = notification.partner.webhook_url
    started = time.monotonic()
    try:
        target = check_url(url)  # resolved once; the connection goes to this very address
    except UnsafeWebhookURL as exc:
        status, error = None, str(exc)
    else:
        body, headers = signed_request(notification, now=now)
        status, error = _post(target, body, headers)
    elapsed_ms = int((time.monotonic() - started) * 1000)
    state = _record_attempt(notification, url=url, status=status, error=error, duration_ms=elapsed_ms)
    telemetry.WEBHOOK_ATTEMPTS.labels(
        result={State.PENDING: "failed", State.FAILED: "gave_up"}.get(state, state)
    ).inc()
    log.info(
        "webhook %s %s: %s",
        notification.event_type,
        state,
        status or error,
        extra={
            "notification_id": str(notification.pk),
            "case_id": str(notification.case_id) if notification.case_id else None,
            "partner_id": str(notification.partner_id),
            "event_type": notification.event_type,
            "http_status": status,
            "duration_ms": elapsed_ms,
            "state": state,
        },
    )
    return state


GONE = 410


@transaction.atomic
def _record_attempt(notification, *, url: str, status: int | None, error: str, duration_ms: int) -> str:
    if status == GONE:
        error = "HTTP 410 Gone: webhooks disabled until they are re-enabled"
    attempt = WebhookAttempt.objects.create(
        notification=notification, url=url, status_code=status, error=error, duration_ms=duration_ms
    )
    now = timezone.now()
    attempts = notification.attempts + 1
    fields: dict = {"attempts": attempts, "last_error": error}
    if status is not None and 200 <= status < 300:
        fields |= {"state": State.DELIVERED, "delivered_at": now, "last_error": ""}
    elif status == GONE:
        # Standard Webhooks: the receiver wants no more webhooks. This one waits with the others,
        # due as soon as the partner's webhooks are re-enabled.
        disable_webhooks(
            partner_id=notification.partner_id,
            reason=f"{url} answered 410 Gone to the {notification.event_type} delivery "
            f"msg_{notification.pk.hex} at {attempt.attempted_at:%Y-%m-%d %H:%M:%S} UTC.",
        )
        fields |= {"next_attempt_at": now}
    elif now - notification.created_at > timedelta(hours=settings.WEBHOOK_GIVE_UP_HOURS):
        fields |= {"state": State.FAILED}
        log.warning("gave up on webhook %s after %d attempts", notification.pk, attempts)
    else:
        fields |= {"next_attempt_at": now + backoff(attempts)}
    PartnerNotification.objects.filter(pk=notification.pk).update(**fields)
    return fields.get("state", State.PENDING)


def due_notifications(limit: int = 100) -> list[uuid.UUID]:
    return list(
        PartnerNotification.objects.filter(
            state=State.PENDING, next_attempt_at__lte=timezone.now(), partner__webhook_disabled_at=None
        )
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:limit]
    )


def send_ping(*, partner: Partner) -> PartnerNotification:
    """Send a signed `ping` event to the partner's webhook URL now, once (a ping is never
    retried), and return it with its attempt recorded. The caller checks there is a URL."""
    now = timezone.now()
    ping = PartnerNotification.objects.create(
        partner=partner,
        case=None,
        event_type=PartnerNotification.PING,
        payload={
            "type": PartnerNotification.PING,
            "timestamp": now.isoformat(),
            "data": {"partner_id": str(partner.pk), "message": "A test event: your endpoint is reachable."},
        },
    )
    state = deliver(notification_id=ping.pk)
    if state == State.PENDING:
        PartnerNotification.objects.filter(pk=ping.pk).update(state=State.FAILED)
    return PartnerNotification.objects.select_related("partner").get(pk=ping.pk)
