"""Adverse events (DESIGN.md, "Adverse events" and "Partner reports"): reports from partners, staff
and patients, every field checked with a message a person can act on, each change in the case's
audit chain, nothing deleted, and two people acting at once giving one result."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from clinic.aftercare import adverse_events
from clinic.aftercare.adverse_events import (
    assess_adverse_event,
    flag_from_patient,
    report_adverse_event,
    triage_adverse_event,
    update_from_partner,
)
from clinic.aftercare.errors import DuplicateReport, DuplicateUpdate, StaleEdit, WrongState
from clinic.aftercare.models import AdverseEvent, AdverseEventChange, ReportingClock
from clinic.aftercare.reporting import triage_queue
from intake.audit import verify_chains
from intake.models import ImmutableRecordError
from intake.roles import FRONT_DESK
from intake.workflow import Actor
from tests.aftercare.factories import make_course, make_performer
from tests.aftercare.test_reporting import course_under
from tests.factories import make_partner, make_user
from tests.support import at_once, committed_db

pytestmark = pytest.mark.django_db


def partner_report(**changes) -> dict:
    """A partner's report as the API passes it on: a grade 2 knee effusion the day of the decision."""
    body = dict(
        external_id="AE-1001",
        onset=timezone.localdate().isoformat(),
        description="Swelling and warmth of the right knee two days after the injection.",
        ctcae_grade=2,
        serious=False,
        seriousness_criteria=[],
        outcome="recovering",
        action_taken="Ice, rest and paracetamol.",
        reporter={"name": "Dr. Lee Park", "qualification": "physician"},
        relatedness_opinion="possible",
    )
    return body | changes


def partner_course(*, ind: bool = False, **kw):
    """ind: under an IND where the clinic is investigator (a serious report's row opens untriaged)."""
    partner, _ = make_partner(**kw)
    if ind:
        return partner, course_under("ind", clinic_role="investigator", irb_report_days=5, partner=partner)
    return partner, make_course(partner=partner)


def post(course, partner, **changes) -> AdverseEvent:
    return report_adverse_event(
        course_id=course.pk,
        source="partner",
        actor=Actor(label=f"partner: {partner.name}"),
        values=partner_report(**changes),
        partner=partner,
    )


def errors_of(excinfo) -> dict[str, list[str]]:
    return excinfo.value.message_dict


def test_a_partner_report_is_stored_as_received_with_its_change_in_the_audit_chain():
    partner, course = partner_course()

    ae = post(course, partner)

    ae.refresh_from_db()
    assert (ae.source, ae.triage, ae.partner, ae.external_id) == ("partner", "received", partner, "AE-1001")
    assert (ae.ctcae_grade, ae.serious, ae.outcome) == (2, False, "recovering")
    assert (ae.reporter_name, ae.reporter_qualification, ae.relatedness_opinion) == (
        "Dr. Lee Park",
        "physician",
        "possible",
    )
    (change,) = AdverseEventChange.objects.filter(adverse_event=ae)
    assert (change.kind, change.source, change.actor_label) == (
        "reported",
        "partner",
        f"partner: {partner.name}",
    )
    assert change.changes["onset"] == ae.onset.isoformat() and change.received_at == ae.received_at
    assert ReportingClock.objects.filter(adverse_event=ae).count() == 0  # not serious: no clock
    assert list(verify_chains()) == []


def test_every_field_of_a_bad_report_is_named_with_what_to_do():
    partner, course = partner_course()
    bad = dict(
        external_id="",
        onset="02/11/2026",
        description="   ",
        ctcae_grade=6,
        serious="maybe",
        seriousness_criteria=["hospitalisation"],
        outcome="better",
        reporter={"name": "", "qualification": "nurse"},
        relatedness_opinion="likely",
    )

    with pytest.raises(ValidationError) as excinfo:
        post(course, partner, **bad)

    errors = errors_of(excinfo)
    assert set(errors) == set(
        "external_id onset description ctcae_grade serious seriousness_criteria outcome reporter.name "
        "reporter.qualification relatedness_opinion".split()
    )
    assert "YYYY-MM-DD" in errors["onset"][0]
    assert "1 to 5" in errors["ctcae_grade"][0]
    assert "hospitalization" in errors["seriousness_criteria"][0]  # names the codes to use
    assert "physician" in errors["reporter.qualification"][0]
    assert "certain" in errors["relatedness_opinion"][0]
    assert AdverseEvent.objects.count() == 0


def test_a_partner_must_send_the_reporter_the_grade_and_the_outcome():
    partner, course = partner_course()
    body = partner_report()
    for name in ("reporter", "ctcae_grade", "outcome", "serious"):
        body.pop(name)

    with pytest.raises(ValidationError) as excinfo:
        report_adverse_event(
            course_id=course.pk, source="partner", actor=Actor(label="p"), values=body, partner=partner
        )

    assert set(errors_of(excinfo)) == {
        "reporter.name",
        "reporter.qualification",
        "ctcae_grade",
        "outcome",
        "serious",
    }


def test_the_onset_may_not_come_before_the_decision_nor_after_today():
    partner, course = partner_course()
    decided = timezone.localdate(course.decision.decided_at)
    for onset in (decided - timedelta(days=1), timezone.localdate() + timedelta(days=1)):
        with pytest.raises(ValidationError) as excinfo:
            post(course, partner, onset=onset.isoformat())
        assert errors_of(excinfo) == {
            "onset": [
                f"Give the onset as a date on or after the decision ({decided:%Y-%m-%d}), not in the "
                f"future (today is {timezone.localdate():%Y-%m-%d})."
            ]
        }


def test_seriousness_is_never_derived_from_the_grade():
    partner, course = partner_course()
    # Grade 4 stays not serious when the reporter says so.
    assert post(course, partner, ctcae_grade=4, external_id="AE-4").serious is False
    # Grade 5 without outcome fatal and the criterion death is refused, not made serious.
    with pytest.raises(ValidationError) as excinfo:
        post(course, partner, ctcae_grade=5, external_id="AE-5")
    assert "fatal" in errors_of(excinfo)["ctcae_grade"][0]
    fatal = post(
        course,
        partner,
        external_id="AE-6",
        ctcae_grade=5,
        serious=True,
        seriousness_criteria=["death"],
        outcome="fatal",
    )
    assert (fatal.serious, fatal.serious_at) == (True, fatal.received_at)


def test_criteria_are_given_exactly_when_the_event_is_serious():
    partner, course = partner_course()
    with pytest.raises(ValidationError) as excinfo:
        post(course, partner, serious=True, seriousness_criteria=[])
    assert "at least one" in errors_of(excinfo)["seriousness_criteria"][0]
    with pytest.raises(ValidationError) as excinfo:
        post(course, partner, serious=False, seriousness_criteria=["hospitalization"])
    assert "set serious to true" in errors_of(excinfo)["seriousness_criteria"][0]
    with pytest.raises(ValidationError) as excinfo:
        post(course, partner, serious=True, seriousness_criteria=["death"], outcome="recovering")
    assert "outcome fatal" in errors_of(excinfo)["outcome"][0]


def test_a_repeated_external_id_is_a_duplicate_naming_the_first_report():
    partner, course = partner_course()
    first = post(course, partner)

    with pytest.raises(DuplicateReport) as excinfo:
        post(course, partner, description="The same report, sent again.")

    assert excinfo.value.adverse_event_id == first.pk and "AE-1001" in str(excinfo.value)
    assert AdverseEvent.objects.count() == 1
    # Another partner may use the same id for its own report.
    other, other_course = partner_course()
    assert post(other_course, other).pk != first.pk


@committed_db
def test_the_same_report_posted_twice_at_once_makes_one_event():
    partner, course = partner_course()

    results = at_once(lambda: post(course, partner), lambda: post(course, partner))

    kinds = sorted(type(result).__name__ for result in results)
    assert kinds == ["AdverseEvent", "DuplicateReport"]
    (made,) = AdverseEvent.objects.all()
    duplicate = next(result for result in results if isinstance(result, DuplicateReport))
    assert duplicate.adverse_event_id == made.pk
    assert AdverseEventChange.objects.count() == 1
    assert list(verify_chains()) == []


def test_staff_entering_a_report_is_its_triage_and_a_serious_one_is_announced():
    course = make_course()
    nurse = make_user(group=FRONT_DESK)
    told: list[AdverseEvent] = []
    adverse_events.on_serious_confirmed(told.append)
    try:
        values = partner_report(serious=True, seriousness_criteria=["hospitalization"], ctcae_grade=3)
        del values["reporter"], values["external_id"]
        ae = report_adverse_event(
            course_id=course.pk, source="staff", actor=Actor.of_user(nurse), values=values
        )
    finally:
        adverse_events._serious_confirmed.remove(told.append)

    assert (ae.triage, ae.triaged_by, ae.serious_at) == ("confirmed", nurse, ae.received_at)
    assert told == [ae]
    # The knee protocol's basis (same surgical procedure): only a voluntary row, without deadline.
    assert list(ReportingClock.objects.filter(adverse_event=ae).values_list("rule", "due_at")) == [
        ("same_surgical_voluntary", None)
    ]


def test_a_patients_flag_waits_for_triage_and_opens_no_clock():
    course = make_course()

    ae = flag_from_patient(course_id=course.pk, description="My knee has been hot and red since Tuesday.")

    assert (ae.source, ae.triage, ae.onset) == ("patient", "received", timezone.localdate())
    assert (ae.ctcae_grade, ae.serious, ae.reporter_qualification) == (None, None, "patient")
    assert ae in triage_queue()
    assert not ReportingClock.objects.filter(adverse_event=ae).exists()
    with pytest.raises(ValidationError) as excinfo:
        flag_from_patient(course_id=course.pk, description="")
    assert set(errors_of(excinfo)) == {"description"}


def test_an_update_that_makes_the_event_serious_starts_the_serious_clock_at_its_own_receipt():
    partner, course = partner_course(ind=True)
    ae = post(course, partner)

    change = update_from_partner(
        adverse_event_id=ae.pk,
        partner=partner,
        external_id="AE-1001-u1",
        values={"serious": True, "seriousness_criteria": ["hospitalization"], "note": "Admitted overnight."},
    )

    ae.refresh_from_db()
    assert (change.kind, change.note, change.external_id) == ("update", "Admitted overnight.", "AE-1001-u1")
    assert ae.serious is True and ae.serious_at == change.received_at > ae.received_at
    (clock,) = ReportingClock.objects.filter(adverse_event=ae)
    assert clock.starts_at == change.received_at
    with pytest.raises(DuplicateUpdate) as excinfo:
        update_from_partner(
            adverse_event_id=ae.pk, partner=partner, external_id="AE-1001-u1", values={"note": "x"}
        )
    assert excinfo.value.change_id == change.pk
    assert list(verify_chains()) == []


def test_an_update_is_checked_as_the_report_is_and_cannot_undo_seriousness():
    partner, course = partner_course()
    ae = post(course, partner, serious=True, seriousness_criteria=["hospitalization"], ctcae_grade=3)
    with pytest.raises(ValidationError) as excinfo:
        update_from_partner(adverse_event_id=ae.pk, partner=partner, external_id="u1", values={})
    assert "at least one" in errors_of(excinfo)["note"][0]
    with pytest.raises(ValidationError) as excinfo:
        update_from_partner(
            adverse_event_id=ae.pk,
            partner=partner,
            external_id="u2",
            values={"serious": False, "seriousness_criteria": [], "ctcae_grade": 9},
        )
    assert set(errors_of(excinfo)) == {"serious", "ctcae_grade"}
    # Another partner's report is not found.
    other, _ = make_partner()
    with pytest.raises(AdverseEvent.DoesNotExist):
        update_from_partner(adverse_event_id=ae.pk, partner=other, external_id="u3", values={"note": "x"})


def test_an_assessment_made_on_an_old_version_is_refused_as_stale():
    partner, course = partner_course()
    ae = post(course, partner)
    doctor = make_performer()
    assess_adverse_event(adverse_event_id=ae.pk, user=doctor, version=1, values={"ctcae_grade": 3})

    with pytest.raises(StaleEdit) as excinfo:
        assess_adverse_event(adverse_event_id=ae.pk, user=doctor, version=1, values={"ctcae_grade": 1})

    assert "Reload" in str(excinfo.value)
    ae.refresh_from_db()
    assert (ae.ctcae_grade, ae.version) == (3, 2)


def test_only_a_specialist_assesses_and_unknown_fields_are_refused():
    partner, course = partner_course()
    ae = post(course, partner)
    with pytest.raises(PermissionDenied):
        assess_adverse_event(adverse_event_id=ae.pk, user=make_user(group=FRONT_DESK), version=1, values={})
    with pytest.raises(ValidationError) as excinfo:
        assess_adverse_event(
            adverse_event_id=ae.pk, user=make_performer(), version=1, values={"description": "rewritten"}
        )
    assert "description" in errors_of(excinfo)


@committed_db
def test_two_specialists_grading_one_event_at_once_give_one_result():
    partner, course = partner_course()
    ae = post(course, partner)
    first, second = make_performer(), make_performer()

    results = at_once(
        lambda: assess_adverse_event(
            adverse_event_id=ae.pk, user=first, version=1, values={"ctcae_grade": 3}
        ),
        lambda: assess_adverse_event(
            adverse_event_id=ae.pk, user=second, version=1, values={"ctcae_grade": 1}
        ),
    )

    assert sorted(type(result).__name__ for result in results) == ["AdverseEvent", "StaleEdit"]
    winner = next(result for result in results if isinstance(result, AdverseEvent))
    ae.refresh_from_db()
    assert (ae.version, ae.ctcae_grade) == (2, winner.ctcae_grade)
    assert AdverseEventChange.objects.filter(adverse_event=ae, kind="assessment").count() == 1
    assert list(verify_chains()) == []


def test_dismissing_a_report_needs_a_reason_and_stops_its_clocks_which_are_kept():
    partner, course = partner_course(ind=True)
    ae = post(course, partner, serious=True, seriousness_criteria=["hospitalization"], ctcae_grade=3)
    assert ReportingClock.objects.get(adverse_event=ae).state == "open"
    nurse = make_user(group=FRONT_DESK)
    with pytest.raises(ValidationError) as excinfo:
        triage_adverse_event(adverse_event_id=ae.pk, user=nurse, version=1, confirm=False)
    assert "note" in errors_of(excinfo)

    ae = triage_adverse_event(
        adverse_event_id=ae.pk, user=nurse, version=1, confirm=False, note="A duplicate of a phone report."
    )

    assert (ae.triage, ae.version) == ("dismissed", 2)
    assert ReportingClock.objects.get(adverse_event=ae).state == "not_required"
    with pytest.raises(WrongState):
        triage_adverse_event(adverse_event_id=ae.pk, user=nurse, version=2, confirm=False, note="again")
    assert ae not in triage_queue()


def test_nothing_is_deleted():
    partner, course = partner_course()
    ae = post(course, partner, serious=True, seriousness_criteria=["hospitalization"], ctcae_grade=3)
    with pytest.raises(ImmutableRecordError):
        ae.delete()
    with pytest.raises(ImmutableRecordError):
        AdverseEvent.objects.filter(pk=ae.pk).delete()
    with pytest.raises(ImmutableRecordError):
        ReportingClock.objects.filter(adverse_event=ae).delete()
    assert AdverseEvent.objects.filter(pk=ae.pk).exists()


def test_a_sandbox_partners_report_is_checked_and_stored_but_is_a_test():
    partner, _ = make_partner(sandbox=True)
    course = make_course(partner=partner, sandbox=True)
    with pytest.raises(ValidationError):
        post(course, partner, ctcae_grade=0)

    ae = post(course, partner, serious=True, seriousness_criteria=["hospitalization"], ctcae_grade=3)

    assert ae.sandbox and ae.triage == "received"
    assert not ReportingClock.objects.filter(adverse_event=ae).exists()
    assert ae not in triage_queue()
    with pytest.raises(WrongState):
        triage_adverse_event(
            adverse_event_id=ae.pk, user=make_user(group=FRONT_DESK), version=1, confirm=True
        )
