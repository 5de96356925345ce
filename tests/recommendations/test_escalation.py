from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from intake.models import Case
from recommendations.escalation import escalate_overdue
from recommendations.models import Escalation
from recommendations.services import make_draft
from tests.factories import make_case, make_patient, make_user
from tests.support import at_once, committed_db


def overdue_by(hours: float, **fields) -> Case:
    case = make_case(**fields)
    make_draft(case_id=case.pk)
    Case.objects.filter(pk=case.pk).update(due_at=timezone.now() - timedelta(hours=hours))
    return case


@pytest.fixture
def specialists(db):
    make_user("dr_a", group="Specialists", email="a@clinic.example")
    make_user("dr_b", group="Specialists", email="b@clinic.example")
    make_user("desk_c", group="Front desk", email="c@clinic.example")


@pytest.mark.django_db
def test_overdue_cases_are_emailed_to_the_specialists_once_per_level(specialists, mailoutbox):
    late = overdue_by(2, patient=make_patient(family_name="Late"))
    very_late = overdue_by(30, patient=make_patient(family_name="Verylate"))
    overdue_by(-5)  # not yet due

    assert escalate_overdue() == 3  # level 1 for both, level 2 for the very late one
    assert escalate_overdue() == 0  # never twice

    assert len(mailoutbox) == 3
    assert all(sorted(m.to) == ["a@clinic.example", "b@clinic.example"] for m in mailoutbox)
    subjects = sorted(m.subject for m in mailoutbox)
    assert subjects[0].startswith("[Clinic review] Level 1") and subjects[2].startswith(
        "[Clinic review] Level 2"
    )
    assert any(very_late.patient.mrn in m.body and str(very_late.pk) in m.body for m in mailoutbox)
    assert not any("Verylate" in m.body or "Verylate" in m.subject for m in mailoutbox)  # no names by email
    assert Escalation.objects.filter(case=late).count() == 1


@pytest.mark.django_db
def test_decided_or_withdrawn_cases_are_not_escalated(specialists, mailoutbox):
    case = overdue_by(5)
    Case.objects.filter(pk=case.pk).update(status="withdrawn")

    assert escalate_overdue() == 0
    assert mailoutbox == []


@pytest.mark.django_db
def test_a_failed_send_is_tried_again_next_time(specialists, mailoutbox, settings):
    overdue_by(2)
    settings.EMAIL_BACKEND = "tests.recommendations.test_escalation.BrokenBackend"
    with pytest.raises(ConnectionRefusedError):
        escalate_overdue()
    assert not Escalation.objects.exists()  # nothing recorded as sent

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert escalate_overdue() == 1


class BrokenBackend:
    """An SMTP server that refuses the connection."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("smtp down")


@committed_db
def test_four_sweeps_at_once_still_send_each_escalation_once(settings):
    # Given two overdue cases and four beat sweeps racing (two beats misconfigured, a retry...)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    make_user("dr_a", group="Specialists", email="a@clinic.example")
    cases = [overdue_by(2), overdue_by(30)]

    counts = at_once(*[escalate_overdue] * 4)

    # Then 3 emails in all (level 1 twice, level 2 once), however the work was split
    assert sum(counts) == 3 and len(mail.outbox) == 3
    assert Escalation.objects.filter(case__in=cases).count() == 3
