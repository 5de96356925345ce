"""When a reporting clock starts, and that it never starts again (DESIGN.md, "Who reports what, by
when"): rows counted from receipt start when the clinic learned of the event, however late staff
judge it serious; a row that stops applying and applies again keeps its first start, so an overdue
report stays overdue and escalates; the same-surgical-procedure voluntary row is there for any
confirmed event; work days are the clinic's."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from clinic.aftercare.adverse_events import (
    flag_from_patient,
    report_adverse_event,
    triage_adverse_event,
    update_from_partner,
)
from clinic.aftercare.escalation import escalate_overdue_clocks
from clinic.aftercare.models import AdverseEvent, ClockEscalation, ReportingClock
from intake.roles import FRONT_DESK
from intake.workflow import Actor
from tests.aftercare.factories import make_course
from tests.aftercare.test_reporting import HOSPITALIZED, assess, clocks_of, course_under, staff_report
from tests.factories import make_partner, make_user

pytestmark = pytest.mark.django_db
NEW_YORK = ZoneInfo("America/New_York")


def days_ago(days: float) -> datetime:
    return timezone.now() - timedelta(days=days)


def received(ae: AdverseEvent, at: datetime) -> AdverseEvent:
    """The event as if it had arrived at `at` (time passing, without waiting for it)."""
    AdverseEvent.objects.filter(pk=ae.pk).update(received_at=at, serious_at=at if ae.serious else None)
    ae.refresh_from_db()
    return ae


def partner_report(course, partner, **values) -> AdverseEvent:
    body = dict(
        onset=timezone.localdate(),
        description="Warm, swollen knee since the injection.",
        ctcae_grade=2,
        serious=False,
        seriousness_criteria=[],
        outcome="ongoing",
        reporter={"name": "Dr. Lee Park", "qualification": "physician"},
    )
    return report_adverse_event(
        course_id=course.pk,
        source="partner",
        actor=Actor(label=f"partner: {partner.name}"),
        partner=partner,
        external_id=f"AE-{course.pk}",
        values=body | values,
    )


def confirm(ae) -> AdverseEvent:
    ae.refresh_from_db()
    nurse = make_user(group=FRONT_DESK)
    return triage_adverse_event(adverse_event_id=ae.pk, user=nurse, version=ae.version, confirm=True)


# --- a row keeps its first start ----------------------------------------------------------------


def test_an_overdue_safety_report_is_not_restarted_by_an_assessment_that_flips_and_flips_back():
    make_user("dr_escalated", group="Specialists", email="dr@clinic.example")
    ae = staff_report(make_course(route="intravenous"), **HOSPITALIZED)  # hf-msc-ind, sponsor-investigator
    ae = assess(ae, expected=False, relatedness_product="possible")
    # It qualified 20 days ago: the 15-day IND safety report is 5 days overdue.
    started = days_ago(20)
    AdverseEvent.objects.filter(pk=ae.pk).update(qualified_at=started)
    late = ReportingClock.objects.filter(adverse_event=ae, rule="ind_safety_report_15_day")
    late.update(starts_at=started, due_at=started + timedelta(days=15))

    ae = assess(ae, expected=True)  # judged expected: the row stops applying
    assert clocks_of(ae)["ind_safety_report_15_day"].state == "not_required"
    ae = assess(ae, expected=False)  # and unexpected again

    clock = clocks_of(ae)["ind_safety_report_15_day"]
    assert (clock.state, clock.starts_at, clock.due_at) == ("open", started, started + timedelta(days=15))
    assert clock.is_overdue
    escalated = escalate_overdue_clocks(queue_send=lambda _: None)
    assert ClockEscalation.objects.filter(pk__in=escalated, clock=clock, level=1).exists()


def test_an_open_row_never_starts_later_when_an_update_makes_the_event_serious():
    partner, _ = make_partner()
    course = course_under("irb_trial", irb_report_days=3, partner=partner)
    ae = received(partner_report(course, partner), days_ago(5))
    ae = assess(ae, expected=False, relatedness_product="possible")  # an unanticipated problem
    first = clocks_of(ae)["irb_trial_report"]
    assert first.starts_at == ae.received_at and first.is_overdue

    update_from_partner(
        adverse_event_id=ae.pk,
        partner=partner,
        external_id="u1",
        values={"serious": True, "seriousness_criteria": ["hospitalization"]},
    )

    clock = clocks_of(ae)["irb_trial_report"]
    assert (clock.starts_at, clock.due_at) == (first.starts_at, first.due_at)
    assert clock.is_overdue


# --- rows counted from receipt ------------------------------------------------------------------


def test_staff_judging_a_partners_report_serious_start_the_sponsors_24_hours_at_its_receipt():
    partner, _ = make_partner()
    course = course_under("ind", clinic_role="investigator", irb_report_days=5, partner=partner)
    ae = received(partner_report(course, partner), days_ago(2))
    assert clocks_of(ae) == {}  # not serious as reported

    ae = assess(ae, **HOSPITALIZED)

    clock = clocks_of(ae)["ind_sponsor_immediately"]
    assert ae.serious_at == ae.received_at
    assert (clock.starts_at, clock.due_at) == (ae.received_at, ae.received_at + timedelta(hours=24))
    assert clock.is_overdue  # the clinic learned of it two days ago


def test_a_361_reaction_assessed_serious_later_is_due_15_days_from_receipt():
    course = course_under("minimal_manipulation_homologous")
    ae = received(staff_report(course), days_ago(4))

    ae = assess(ae, **HOSPITALIZED, communicable_disease=True)

    clock = clocks_of(ae)["hctp_adverse_reaction_15_day"]
    assert (clock.starts_at, clock.due_at) == (ae.received_at, ae.received_at + timedelta(days=15))


def test_a_patients_flag_made_serious_by_staff_counts_from_when_the_patient_sent_it(settings):
    settings.DEVICE_USER_FACILITY = True
    flagged = flag_from_patient(course_id=make_course().pk, description="My knee swelled up; I was admitted.")
    ae = confirm(received(flagged, days_ago(3)))

    ae = assess(
        ae,
        ctcae_grade=3,
        serious=True,
        seriousness_criteria=["life_threatening"],
        outcome="recovering",
        device_involved=True,
    )

    clock = clocks_of(ae)["device_serious_injury_10_work_days"]
    assert ae.serious_at == clock.starts_at == ae.received_at < timezone.now() - timedelta(days=2)


# --- same surgical procedure: the voluntary row for any confirmed event ---------------------------


def test_any_confirmed_same_surgical_event_gets_the_voluntary_row_serious_or_not():
    course = make_course()  # the knee protocol: same surgical procedure
    mild = staff_report(course)  # grade 2, not serious, confirmed as staff enter it

    (row,) = clocks_of(mild).values()
    assert (row.rule, row.form, row.due_at) == ("same_surgical_voluntary", "3500", None)
    assert not row.is_overdue

    partner, _ = make_partner()
    other = make_course(partner=partner)
    waiting = partner_report(other, partner)
    assert clocks_of(waiting) == {}  # untriaged: nothing yet
    assert set(clocks_of(confirm(waiting))) == {"same_surgical_voluntary"}


# --- the clinic's work days ---------------------------------------------------------------------


def test_ten_work_days_from_a_thursday_evening_are_counted_in_the_clinics_time_zone(settings):
    settings.TIME_ZONE = "America/New_York"
    settings.DEVICE_USER_FACILITY = True
    flagged = flag_from_patient(course_id=make_course().pk, description="Collapsed at home, then died.")
    # Thursday 5 November 2026, 20:00 in New York: already Friday in UTC.
    thursday = datetime(2026, 11, 5, 20, 0, tzinfo=NEW_YORK)
    ae = confirm(received(flagged, thursday))

    with timezone.override("UTC"):  # whatever zone a request or a task has active
        ae = assess(
            ae,
            ctcae_grade=5,
            serious=True,
            seriousness_criteria=["death"],
            outcome="fatal",
            device_involved=True,
        )

    clock = clocks_of(ae)["device_death_10_work_days"]
    assert clock.starts_at == thursday
    # Friday 6, then 9, 10, 12 (Veterans Day, Wednesday 11, does not count), 13, 16-20: the 10th work
    # day is Friday 20 November, at 20:00 in New York (counted in UTC: Sunday evening, two days late).
    assert timezone.localtime(clock.due_at, NEW_YORK) == datetime(2026, 11, 20, 20, 0, tzinfo=NEW_YORK)
