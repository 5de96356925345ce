"""Reporting clocks on real events (DESIGN.md, "Who reports what, by when"): each basis and role of
the protocol a course was treated under opens its row with its start and deadline; rows follow the
assessment (not_required, never deleted; a recorded submission kept as recorded); the lists put the
overdue first; the partner's event data carries only the contract's members."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from clinic.aftercare import clocks
from clinic.aftercare.adverse_events import (
    assess_adverse_event,
    flag_from_patient,
    record_submission,
    report_adverse_event,
    triage_adverse_event,
)
from clinic.aftercare.errors import WrongState
from clinic.aftercare.models import AdverseEventChange, ReportingClock, TreatmentCourse
from clinic.aftercare.reporting import (
    adverse_events_of,
    open_clock_counts,
    open_clocks,
    partner_adverse_event_data,
)
from intake.audit import verify_chains
from intake.roles import FRONT_DESK
from intake.workflow import Actor
from recommendations.models import Protocol
from tests.aftercare.factories import make_course, make_performer
from tests.factories import make_partner, make_user

pytestmark = pytest.mark.django_db
_seq = itertools.count(1)
STAFF = Actor(label="desk nurse")
HOSPITALIZED = dict(serious=True, seriousness_criteria=["hospitalization"], ctcae_grade=3)


def course_under(
    basis: str, *, clinic_role: str = "", irb_report_days: int | None = None, **kw
) -> TreatmentCourse:
    """A knee course whose decision's protocol has `basis` (a test-only protocol version)."""
    course = make_course(**kw)
    protocol = Protocol.objects.create(
        protocol_id=f"test-{basis.replace('_', '-')}-{next(_seq)}",
        version=1,
        title=f"TEST ONLY: {basis}",
        route=course.route,
        active=False,
        indications=["M17"],
        basis=basis,
        reference="TEST ONLY: IND 123456" if basis == "ind" else "TEST ONLY",
        clinic_role=clinic_role,
        irb_report_days=irb_report_days,
    )
    snapshot = {"id": protocol.protocol_id, "version": 1, "title": protocol.title, "basis": basis}
    TreatmentCourse.objects.filter(pk=course.pk).update(protocol=snapshot | {"reference": protocol.reference})
    return TreatmentCourse.objects.get(pk=course.pk)


def staff_report(course, **values):
    body = dict(
        onset=timezone.localdate(),
        description="Fever and a swollen, painful knee the day after the injection.",
        ctcae_grade=2,
        serious=False,
        seriousness_criteria=[],
        outcome="ongoing",
    )
    return report_adverse_event(course_id=course.pk, source="staff", actor=STAFF, values=body | values)


def assess(ae, **values):
    ae.refresh_from_db()
    return assess_adverse_event(
        adverse_event_id=ae.pk, user=make_performer(), version=ae.version, values=values
    )


def clocks_of(ae) -> dict[str, ReportingClock]:
    return {row.rule: row for row in ReportingClock.objects.filter(adverse_event=ae)}


def test_ind_investigator_serious_event_is_due_to_the_sponsor_24_hours_after_receipt():
    ae = staff_report(course_under("ind", clinic_role="investigator", irb_report_days=5), **HOSPITALIZED)

    clock = clocks_of(ae)["ind_sponsor_immediately"]
    assert (clock.starts_at, clock.due_at) == (ae.received_at, ae.received_at + timedelta(hours=24))
    assert (clock.recipient, clock.citation, clock.state) == ("The IND sponsor", "21 CFR 312.64(b)", "open")

    # Judged unexpected and probably related: an unanticipated problem, to the IRB within 5 days.
    assess(ae, expected=False, relatedness_product="probable")
    irb = clocks_of(ae)["ind_irb_unanticipated_problem"]
    assert irb.due_at == ae.received_at + timedelta(days=5)


def test_ind_sponsor_investigator_clocks_start_when_staff_record_what_makes_it_qualify():
    # The heart-failure infusion protocol of the demo set: ind, sponsor_investigator, IRB in 10 days.
    ae = staff_report(make_course(route="intravenous"), **HOSPITALIZED)
    assert clocks_of(ae) == {}  # serious, but expectedness and relatedness not assessed yet

    ae = assess(ae, expected=False, relatedness_product="possible")

    assert ae.qualified_at is not None and ae.qualified_at > ae.received_at
    rows = clocks_of(ae)
    assert set(rows) == {"ind_safety_report_15_day", "ind_irb_unanticipated_problem"}
    assert rows["ind_safety_report_15_day"].starts_at == ae.qualified_at
    assert rows["ind_safety_report_15_day"].due_at == ae.qualified_at + timedelta(days=15)
    assert rows["ind_irb_unanticipated_problem"].due_at == ae.received_at + timedelta(days=10)

    ae = assess(ae, seriousness_criteria=["hospitalization", "life_threatening"])
    seven = clocks_of(ae)["ind_fatal_or_life_threatening_7_day"]
    assert (seven.starts_at, seven.due_at) == (ae.qualified_at, ae.qualified_at + timedelta(days=7))


def test_irb_trial_reports_to_the_irb_only():
    ae = staff_report(course_under("irb_trial", irb_report_days=3), **HOSPITALIZED)
    assert {rule: row.due_at for rule, row in clocks_of(ae).items()} == {
        "irb_trial_report": ae.received_at + timedelta(days=3)
    }


def test_approved_product_voluntary_row_has_no_deadline_and_never_counts_as_overdue():
    ae = staff_report(course_under("approved_product"), **HOSPITALIZED)
    (row,) = clocks_of(ae).values()
    assert (row.rule, row.due_at, row.form, row.is_overdue) == (
        "approved_product_voluntary",
        None,
        "3500",
        False,
    )
    assert "licence holder" in row.citation


def test_a_361_reaction_with_communicable_disease_counts_15_days_from_receipt_even_when_assessed_later():
    ae = staff_report(course_under("minimal_manipulation_homologous"), **HOSPITALIZED)
    assert clocks_of(ae) == {}  # manufacturer_361 (the basis's default role), no communicable disease yet

    assess(ae, communicable_disease=True)

    clock = clocks_of(ae)["hctp_adverse_reaction_15_day"]
    assert (clock.starts_at, clock.due_at) == (ae.received_at, ae.received_at + timedelta(days=15))
    assert (clock.citation, clock.form) == ("21 CFR 1271.350(a)", "3500A")


def test_a_device_death_in_a_device_user_facility_is_due_in_10_work_days(settings):
    settings.DEVICE_USER_FACILITY = True
    ae = staff_report(
        make_course(),
        ctcae_grade=5,
        serious=True,
        seriousness_criteria=["death"],
        outcome="fatal",
        device_involved=True,
        relatedness_device="possible",
    )
    clock = clocks_of(ae)["device_death_10_work_days"]
    assert clock.recipient == "FDA and the device manufacturer"
    # The 10th work day after the day the clinic learned of it (clinic.aftercare.clocks counts them).
    received = timezone.localtime(ae.received_at)
    due_day = clocks.add_work_days(received.date(), 10)
    assert timezone.localtime(clock.due_at) == received + timedelta(days=(due_day - received.date()).days)
    assert (due_day - received.date()).days >= 12  # a weekend or two skipped

    settings.DEVICE_USER_FACILITY = False  # a physician's office: no device row for a new event
    other = staff_report(make_course(), **HOSPITALIZED, device_involved=True)
    assert "device_serious_injury_10_work_days" not in clocks_of(other)


def test_a_row_that_stops_applying_becomes_not_required_and_a_submitted_row_stays_as_recorded():
    ae = staff_report(course_under("ind", clinic_role="investigator", irb_report_days=5), **HOSPITALIZED)
    ae = assess(ae, expected=False, relatedness_product="probable")
    rows = clocks_of(ae)
    nurse = make_user(group=FRONT_DESK)
    sent = timezone.now()
    record_submission(
        clock_id=rows["ind_sponsor_immediately"].pk,
        user=nurse,
        submitted_at=sent,
        recipient="Sponsor safety desk",
        reference="SAE-2026-017",
    )

    ae = assess(ae, serious=False, seriousness_criteria=[], expected=True)

    rows = clocks_of(ae)
    assert rows["ind_sponsor_immediately"].state == "submitted"
    assert rows["ind_sponsor_immediately"].submitted_at == sent
    assert rows["ind_irb_unanticipated_problem"].state == "not_required"
    change = AdverseEventChange.objects.filter(adverse_event=ae).order_by("chain_seq").last()
    assert change.changes["clocks_not_required"] == ["ind_irb_unanticipated_problem"]
    # It applies again: the same row opens again (one row per rule, never a second).
    ae = assess(ae, expected=False)
    assert clocks_of(ae)["ind_irb_unanticipated_problem"].state == "open"
    assert ReportingClock.objects.filter(adverse_event=ae).count() == 2
    assert list(verify_chains()) == []


def test_a_submission_is_recorded_once_with_its_date_recipient_and_reference():
    ae = staff_report(
        course_under("minimal_manipulation_homologous"), **HOSPITALIZED, communicable_disease=True
    )
    (clock,) = clocks_of(ae).values()
    nurse = make_user(group=FRONT_DESK)
    with pytest.raises(ValidationError) as excinfo:
        record_submission(
            clock_id=clock.pk,
            user=nurse,
            submitted_at=timezone.now() + timedelta(days=1),
            recipient="",
            reference="",
        )
    assert set(excinfo.value.message_dict) == {"submitted_at", "recipient", "reference"}

    clock = record_submission(
        clock_id=clock.pk,
        user=nurse,
        submitted_at=timezone.now(),
        recipient="FDA MedWatch",
        reference="MW5012345",
    )

    assert (clock.state, clock.submitted_to, clock.submission_reference, clock.recorded_by) == (
        "submitted",
        "FDA MedWatch",
        "MW5012345",
        nurse,
    )
    assert clock not in open_clocks()
    with pytest.raises(WrongState) as excinfo:
        record_submission(
            clock_id=clock.pk, user=nurse, submitted_at=timezone.now(), recipient="x", reference="y"
        )
    assert "MW5012345" in str(excinfo.value)
    kinds = list(AdverseEventChange.objects.filter(adverse_event=ae).values_list("kind", flat=True))
    assert kinds == ["reported", "submission"]


def test_open_clocks_put_the_overdue_first_then_the_soonest_due_then_those_without_deadline():
    voluntary = staff_report(course_under("approved_product"), **HOSPITALIZED)
    soon = staff_report(course_under("ind", clinic_role="investigator", irb_report_days=5), **HOSPITALIZED)
    later = staff_report(
        course_under("minimal_manipulation_homologous"), **HOSPITALIZED, communicable_disease=True
    )
    overdue = staff_report(course_under("ind", clinic_role="investigator", irb_report_days=5), **HOSPITALIZED)
    ReportingClock.objects.filter(adverse_event=overdue).update(due_at=timezone.now() - timedelta(hours=2))
    partner, _ = make_partner(sandbox=True)
    sandbox = make_course(partner=partner, sandbox=True)
    report_adverse_event(
        course_id=sandbox.pk,
        source="staff",
        actor=STAFF,
        values=dict(onset=timezone.localdate(), description="t", outcome="recovering", **HOSPITALIZED),
    )

    order = [row.adverse_event_id for row in open_clocks()]

    assert order == [overdue.pk, soon.pk, later.pk, voluntary.pk]
    assert open_clock_counts() == {"open": 4, "overdue": 1}


def test_the_partner_event_data_carries_the_contract_members_only():
    ae = staff_report(make_course(), **HOSPITALIZED, action_taken="Admitted for IV antibiotics.")
    data = partner_adverse_event_data(ae)
    assert data == {
        "id": str(ae.pk),
        "onset": ae.onset.isoformat(),
        "ctcae_grade": 3,
        "serious": True,
        "seriousness_criteria": ["hospitalization"],
        "outcome": "ongoing",
        "received_at": ae.received_at.isoformat(),
        "source": "staff",
    }


def test_a_patients_untriaged_flag_is_not_among_what_may_leave_the_clinic():
    course = make_course()
    flagged = flag_from_patient(course_id=course.pk, description="Knee swollen since the injection.")
    staff = staff_report(course)
    assert adverse_events_of(course.case_id) == [staff, flagged]
    assert adverse_events_of(course.case_id, shared_only=True) == [staff]

    triage_adverse_event(
        adverse_event_id=flagged.pk, user=make_user(group=FRONT_DESK), version=1, confirm=True
    )

    assert set(adverse_events_of(course.case_id, shared_only=True)) == {staff, flagged}


def test_a_submission_dated_before_the_clinic_learned_of_the_event_is_refused_saying_when_that_was():
    ae = staff_report(course_under("ind", clinic_role="investigator", irb_report_days=5), **HOSPITALIZED)
    clock = clocks_of(ae)["ind_sponsor_immediately"]
    nurse = make_user(group=FRONT_DESK)
    learned = f"{timezone.localtime(ae.received_at):%Y-%m-%d %H:%M}"
    for early in (datetime(2001, 1, 1, 9, 0, tzinfo=UTC), ae.received_at - timedelta(minutes=1)):
        with pytest.raises(ValidationError) as excinfo:
            record_submission(
                clock_id=clock.pk, user=nurse, submitted_at=early, recipient="Sponsor", reference="SAE-1"
            )
        (message,) = excinfo.value.message_dict["submitted_at"]
        assert f"learned of this adverse event on {learned}" in message and "check the date" in message
    assert clocks_of(ae)["ind_sponsor_immediately"].state == "open"

    # A time given to the minute, as the forms give it, in the minute it arrived is not before it.
    same_minute = ae.received_at.replace(second=0, microsecond=0)
    record_submission(clock_id=clock.pk, user=nurse, submitted_at=same_minute, recipient="S", reference="R")
    assert clocks_of(ae)["ind_sponsor_immediately"].submitted_at == same_minute
