"""Due-time escalation: email the specialists about overdue cases, once per case per level.

Two steps, so that no database lock is ever held while the mail server is talked to: a short
transaction writes the (case, level) Escalation row, and after it commits the email is queued
(recommendations.tasks, on its own queue); the sending task claims the row, sends outside any
transaction with EMAIL_TIMEOUT, and then marks it sent. A row never marked sent is queued again
by the next escalation pass, so a broker outage or a worker crash loses no email.
"""

import smtplib
from collections.abc import Callable
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from intake.models import Case, CaseStatus
from intake.roles import SPECIALISTS
from recommendations.models import Escalation

# What a mail server that is down, slow or refusing raises (TimeoutError is an OSError).
MAIL_ERRORS = (smtplib.SMTPException, OSError)


def specialist_emails() -> list[str]:
    users = get_user_model().objects.filter(is_active=True, groups__name=SPECIALISTS).exclude(email="")
    return sorted(set(users.values_list("email", flat=True)))


def _level_offsets() -> list[tuple[int, timedelta]]:
    """Level 1 at the due time, each further level so many hours after it."""
    return [
        (level + 1, timedelta(hours=hours)) for level, hours in enumerate(settings.ESCALATION_AFTER_HOURS)
    ]


def _claim_lease() -> timedelta:
    # One send is a connect and a handful of SMTP commands, each bounded by EMAIL_TIMEOUT; a claim
    # older than this belongs to a worker that died mid-send, and the row may be sent again.
    return timedelta(seconds=60 + 10 * settings.EMAIL_TIMEOUT)


def escalate_overdue(*, queue_send: Callable[[int], None]) -> list[int]:
    """Write the escalations owed now and return their ids; `queue_send(escalation_id)` runs
    after each one's commit. No network here. Safe to run often and in parallel: the
    (case, level) row is unique, so a second run writes nothing for the same case and level."""
    recipients = specialist_emails()
    if not recipients:
        return []
    now, written = timezone.now(), []
    for level, offset in _level_offsets():
        overdue = (
            Case.objects.filter(status=CaseStatus.AWAITING_REVIEW, due_at__lt=now - offset, sandbox=False)
            .exclude(escalations__level=level)
            .order_by("due_at")[:200]
        )
        for case in overdue:
            try:
                with transaction.atomic():
                    row = Escalation.objects.create(case=case, level=level, recipients=", ".join(recipients))
                    transaction.on_commit(partial(queue_send, row.pk))
            except IntegrityError:
                continue  # another run escalated this case at this level
            written.append(row.pk)
    return written


def unsent_escalations(*, older_than: timedelta) -> list[int]:
    """Escalations written at least `older_than` ago whose email has not gone out and that no
    live sending attempt holds: their task was lost, or every retry failed."""
    now = timezone.now()
    return list(
        Escalation.objects.filter(sent_at__isnull=True, created_at__lt=now - older_than)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .order_by("created_at")
        .values_list("pk", flat=True)[:500]
    )


def send_escalation(*, escalation_id: int) -> bool:
    """Send one escalation's email unless it went out already or another attempt holds it;
    returns whether this call sent it. Raises what the mail server raised (smtplib.SMTPException,
    OSError) after releasing the claim, so the caller may retry."""
    if not _claim(escalation_id):
        return False
    escalation = Escalation.objects.select_related("case__patient").get(pk=escalation_id)
    try:
        _send(escalation)
    except MAIL_ERRORS as exc:
        # The row is free for the next attempt at once (another error keeps the claim until its
        # lease ends, and the escalation pass queues the row again then).
        Escalation.objects.filter(pk=escalation_id, sent_at__isnull=True).update(
            claimed_until=None, last_error=f"{type(exc).__name__}: {exc}"[:200]
        )
        raise
    # Compare-and-set: only a row still unsent is marked, by the attempt that holds it.
    Escalation.objects.filter(pk=escalation_id, sent_at__isnull=True).update(
        sent_at=timezone.now(), claimed_until=None, last_error=""
    )
    return True


def _claim(escalation_id: int) -> bool:
    # A single UPDATE (autocommit, no transaction kept open): at most one attempt sends at a time.
    now = timezone.now()
    return bool(
        Escalation.objects.filter(pk=escalation_id, sent_at__isnull=True)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + _claim_lease(), attempts=F("attempts") + 1)
    )


def _send(escalation: Escalation) -> None:
    case = escalation.case
    late = escalation.created_at - case.due_at
    hours = int(late.total_seconds() // 3600)
    subject = (
        f"[Clinic review] Level {escalation.level}: case overdue by {hours} h ({case.get_priority_display()})"
    )
    review_url = settings.SITE_URL + reverse("admin:recommendations_reviewcase_change", args=[case.pk])
    body = (
        # Email leaves the clinic's systems: the record number and a link, not the patient's name.
        f"A case is waiting for a specialist past its due time.\n\n"
        f"Patient MRN: {case.patient.mrn}\n"
        f"Condition: {case.condition_code}\n"
        f"Priority: {case.get_priority_display()}\n"
        f"Received: {timezone.localtime(case.created_at):%Y-%m-%d %H:%M}\n"
        f"Due: {timezone.localtime(case.due_at):%Y-%m-%d %H:%M}\n\n"
        f"Review it: {review_url}\n"
    )
    recipients = [address.strip() for address in escalation.recipients.split(",") if address.strip()]
    # The SMTP backend waits at most EMAIL_TIMEOUT seconds at each step.
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
