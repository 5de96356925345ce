"""Overdue reporting clocks escalate like overdue reviews (recommendations.escalation): an email
to the specialists, once per clock per level.

Two steps, so that no database lock is ever held while the mail server is talked to: a short
transaction writes the (clock, level) ClockEscalation row, and after it commits the email is
queued (clinic.aftercare.tasks.escalation); the sending task claims the row, sends outside any
transaction with EMAIL_TIMEOUT, then marks it sent. A row never marked sent is queued again by the
next pass, so a broker outage or a worker crash loses no email. Levels follow
ESCALATION_AFTER_HOURS, counted from the clock's deadline."""

import smtplib
import socket
import ssl
from collections.abc import Callable
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from clinic.aftercare.models import ClockEscalation, ReportingClock
from clinic.aftercare.vocabulary import ClockState
from recommendations.escalation import specialist_emails

# What a mail server that is down, slow, unknown or refusing raises; anything else is a bug and is
# not retried.
MAIL_ERRORS = (smtplib.SMTPException, ConnectionError, TimeoutError, socket.gaierror, ssl.SSLError)


def _level_offsets() -> list[tuple[int, timedelta]]:
    """Level 1 at the deadline, each further level so many hours after it."""
    return [
        (level + 1, timedelta(hours=hours)) for level, hours in enumerate(settings.ESCALATION_AFTER_HOURS)
    ]


def _claim_lease() -> timedelta:
    # One send is a connect and a handful of SMTP commands, each bounded by EMAIL_TIMEOUT; a claim
    # older than this belongs to a worker that died mid-send, and the row may be sent again.
    return timedelta(seconds=60 + 10 * settings.EMAIL_TIMEOUT)


def escalate_overdue_clocks(*, queue_send: Callable[[int], None]) -> list[int]:
    """Write the escalations owed now and return their ids; `queue_send(escalation_id)` runs after
    each one's commit. No network here. Safe to run often and in parallel: the (clock, level) row
    is unique, so a second run writes nothing for the same clock and level."""
    recipients = specialist_emails()
    if not recipients:
        return []
    now, written = timezone.now(), []
    for level, offset in _level_offsets():
        overdue = (
            ReportingClock.objects.filter(
                state=ClockState.OPEN, due_at__lt=now - offset, adverse_event__sandbox=False
            )
            .exclude(escalations__level=level)
            .order_by("due_at")[:200]
        )
        for clock in overdue:
            try:
                with transaction.atomic():
                    row = ClockEscalation.objects.create(
                        clock=clock, level=level, recipients=", ".join(recipients)
                    )
                    transaction.on_commit(partial(queue_send, row.pk))
            except IntegrityError:
                continue  # another pass escalated this clock at this level
            written.append(row.pk)
    return written


def unsent_clock_escalations(*, older_than: timedelta) -> list[int]:
    """Escalations written at least `older_than` ago whose email has not gone out and that no live
    sending attempt holds: their task was lost, or every retry failed."""
    now = timezone.now()
    return list(
        ClockEscalation.objects.filter(sent_at__isnull=True, created_at__lt=now - older_than)
        .filter(clock__state=ClockState.OPEN)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .order_by("created_at")
        .values_list("pk", flat=True)[:500]
    )


def send_clock_escalation(*, escalation_id: int) -> bool:
    """Send one escalation's email unless it went out already, another attempt holds it, or the
    clock is no longer open (its submission was recorded meanwhile); returns whether this call
    sent it. Raises what the mail server raised (MAIL_ERRORS) after releasing the claim, so the
    caller may retry."""
    if not _claim(escalation_id):
        return False
    escalation = ClockEscalation.objects.select_related("clock__case", "clock__adverse_event").get(
        pk=escalation_id
    )
    if escalation.clock.state != ClockState.OPEN:
        # Nothing is late any more: no email, and no pass queues this row again.
        ClockEscalation.objects.filter(pk=escalation_id, sent_at__isnull=True).update(
            claimed_until=None, last_error="Not sent: the clock was closed before the email went out."
        )
        return False
    try:
        _send(escalation)
    except MAIL_ERRORS as exc:
        # The row is free for the next attempt at once.
        ClockEscalation.objects.filter(pk=escalation_id, sent_at__isnull=True).update(
            claimed_until=None, last_error=f"{type(exc).__name__}: {exc}"[:200]
        )
        raise
    # Compare-and-set: only a row still unsent is marked, by the attempt that holds it.
    ClockEscalation.objects.filter(pk=escalation_id, sent_at__isnull=True).update(
        sent_at=timezone.now(), claimed_until=None, last_error=""
    )
    return True


def _claim(escalation_id: int) -> bool:
    # A single UPDATE (autocommit, no transaction kept open): at most one attempt sends at a time.
    now = timezone.now()
    return bool(
        ClockEscalation.objects.filter(pk=escalation_id, sent_at__isnull=True)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + _claim_lease(), attempts=F("attempts") + 1)
    )


def how_late(late: timedelta) -> str:
    """ "3 days 4 hours", "5 hours", "less than an hour" (plain spaces, for an email)."""
    days, hours = divmod(int(late.total_seconds() // 3600), 24)
    parts = [f"{days} day{'s' if days != 1 else ''}"] if days else []
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    return " ".join(parts) or "less than an hour"


def _send(escalation: ClockEscalation) -> None:
    clock = escalation.clock
    case = clock.case
    late = how_late(escalation.created_at - clock.due_at)
    subject = (
        f"[Clinic reporting] Level {escalation.level}: {clock.citation} report overdue by {late} "
        f"({case.reference})"
    )
    event_url = settings.SITE_URL + reverse(
        "admin:aftercare_adverseevent_change", args=[clock.adverse_event_id]
    )
    body = (
        # Email leaves the clinic's systems: the case reference and a link, never the patient's name.
        "An adverse-event report is past its deadline and no submission has been recorded.\n\n"
        f"Case: {case.reference}\n"
        f"Rule: {clock.citation}\n"
        f"Report to: {clock.recipient}\n"
        + (f"Form: {clock.form}\n" if clock.form else "")
        + f"Clock started: {timezone.localtime(clock.starts_at):%Y-%m-%d %H:%M}\n"
        f"Due: {timezone.localtime(clock.due_at):%Y-%m-%d %H:%M}\n"
        f"Overdue by: {late}\n\n"
        "Once the report is made, record its submission (date, recipient, reference) on the event's "
        f"page: {event_url}\n"
    )
    recipients = [address.strip() for address in escalation.recipients.split(",") if address.strip()]
    # The SMTP backend waits at most EMAIL_TIMEOUT seconds at each step.
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
