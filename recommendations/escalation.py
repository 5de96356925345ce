"""Due-time escalation: email the specialists about overdue cases, once per case per level."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from intake.models import Case, CaseStatus
from intake.roles import SPECIALISTS
from recommendations.models import Escalation


def specialist_emails() -> list[str]:
    users = get_user_model().objects.filter(is_active=True, groups__name=SPECIALISTS).exclude(email="")
    return sorted(set(users.values_list("email", flat=True)))


def _level_offsets() -> list[tuple[int, timedelta]]:
    """Level 1 at the due time, each further level so many hours after it."""
    return [
        (level + 1, timedelta(hours=hours)) for level, hours in enumerate(settings.ESCALATION_AFTER_HOURS)
    ]


def escalate_overdue() -> int:
    """Send what is owed now; returns how many emails went out. Safe to run often and
    in parallel: the (case, level) row is written before its email, in the same transaction."""
    recipients = specialist_emails()
    if not recipients:
        return 0
    now, sent = timezone.now(), 0
    for level, offset in _level_offsets():
        overdue = (
            Case.objects.filter(status=CaseStatus.AWAITING_REVIEW, due_at__lt=now - offset, sandbox=False)
            .exclude(escalations__level=level)
            .select_related("patient")
            .order_by("due_at")[:200]
        )
        for case in overdue:
            try:
                with transaction.atomic():
                    Escalation.objects.create(case=case, level=level, recipients=", ".join(recipients))
                    _send(case, level, recipients, now)
            except IntegrityError:
                continue  # another run escalated this case at this level
            sent += 1
    return sent


def _send(case: Case, level: int, recipients: list[str], now) -> None:
    late = now - case.due_at
    hours = int(late.total_seconds() // 3600)
    subject = f"[Clinic review] Level {level}: case overdue by {hours} h ({case.get_priority_display()})"
    body = (
        # Email leaves the clinic's systems: the record number and a link, not the patient's name.
        f"A case is waiting for a specialist past its due time.\n\n"
        f"Patient MRN: {case.patient.mrn}\n"
        f"Condition: {case.condition_code}\n"
        f"Priority: {case.get_priority_display()}\n"
        f"Received: {timezone.localtime(case.created_at):%Y-%m-%d %H:%M}\n"
        f"Due: {timezone.localtime(case.due_at):%Y-%m-%d %H:%M}\n\n"
        f"Review it: {settings.SITE_URL}/admin/recommendations/reviewcase/{case.pk}/change/\n"
    )
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
