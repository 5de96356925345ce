"""Reads of the treatment course: the desk's board ordered by what is due, the course's timeline in
chain order, and the members a partner reads (never the product's code, lot or dose, nor a name)."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from clinic.aftercare.courses import cancel_course, schedule_course
from clinic.aftercare.models import CourseEvent, TreatmentAddendum, TreatmentCourse, TreatmentRecord
from clinic.aftercare.selectors import (
    closed_data,
    course_of,
    course_timeline,
    courses_for_board,
    treated_data,
    treatment_summary,
)
from clinic.aftercare.treatments import add_treatment_addendum
from intake.workflow import Actor
from tests.aftercare.factories import make_course, make_decided_case, make_performer, make_signed_treatment

DESK = Actor(label="desk")


def aged(course: TreatmentCourse, **ago) -> TreatmentCourse:
    TreatmentCourse.objects.filter(pk=course.pk).update(state_changed_at=timezone.now() - timedelta(**ago))
    return course


@pytest.mark.django_db
def test_the_board_lists_open_courses_by_what_is_due_first():
    now = timezone.now()
    booked_later = make_course()
    schedule_course(course_id=booked_later.pk, actor=DESK, appointment_at=now + timedelta(days=5))
    booked_soon = make_course()
    schedule_course(course_id=booked_soon.pk, actor=DESK, appointment_at=now + timedelta(hours=1))
    waiting_to_be_booked = aged(make_course(), days=2)
    treated = make_course()
    make_signed_treatment(treated)
    aged(treated, days=1)
    cancelled = make_course()
    cancel_course(course_id=cancelled.pk, actor=DESK, reason="Patient withdrew")
    make_course(sandbox=True)

    board = courses_for_board()

    assert [course.pk for course in board] == [
        waiting_to_be_booked.pk,
        treated.pk,
        booked_soon.pk,
        booked_later.pk,
    ]
    assert board[0].case.patient.family_name  # read with the course, for the board's rows
    assert len(courses_for_board(limit=2)) == 2


@pytest.mark.django_db
def test_the_timeline_holds_moves_notes_records_and_addenda_in_chain_order():
    course = make_course()
    schedule_course(course_id=course.pk, actor=DESK, appointment_at=timezone.now() + timedelta(minutes=30))
    record = make_signed_treatment(course)
    add_treatment_addendum(record_id=record.pk, user=make_performer(), reason="Lot corrected.")

    timeline = course_timeline(course)

    assert [type(row).__name__ for row in timeline] == [
        "CourseEvent",  # opened
        "CourseEvent",  # booked
        "TreatmentRecord",
        "CourseEvent",  # treated
        "TreatmentAddendum",
    ]
    assert [row.chain_seq for row in timeline] == sorted(row.chain_seq for row in timeline)
    assert isinstance(timeline[-1], TreatmentAddendum) and isinstance(timeline[2], TreatmentRecord)
    assert timeline[3].to_state == "treated" and isinstance(timeline[3], CourseEvent)


@pytest.mark.django_db
def test_a_referral_without_a_treatment_decision_has_no_treatment_member():
    case, _ = make_decided_case(route="not_recommended", outcome="declined")

    assert course_of(case.pk) is None
    assert treatment_summary(case) is None


@pytest.mark.django_db
def test_the_treatment_member_and_the_treated_event_say_what_a_partner_may_know():
    course = make_course()
    record = make_signed_treatment(course)
    course.refresh_from_db()

    summary = treatment_summary(course.case)
    treated = treated_data(TreatmentRecord.objects.select_related("course").get(pk=record.pk))

    assert summary == {
        "id": str(course.pk),
        "state": "treated",
        "state_changed_at": course.state_changed_at.isoformat(),
    }
    assert treated == {
        "id": str(course.pk),
        "state": "treated",
        "treated_at": record.administered_at.isoformat(),
        "route": "local_injection",
        "sites": ["right_knee"],
        "protocol": {"id": "knee-oa-bmac", "version": 1},
    }
    text = json.dumps([summary, treated])
    for never in (record.lot, record.distinct_code, str(record.dose_tnc), record.signed_name):
        assert never not in text


@pytest.mark.django_db
def test_the_closed_event_says_how_the_course_ended():
    course = make_course()
    cancel_course(course_id=course.pk, actor=DESK, reason="Patient withdrew")
    course.refresh_from_db()

    assert closed_data(course) == {
        "id": str(course.pk),
        "state": "cancelled",
        "closed_at": course.closed_at.isoformat(),
    }
