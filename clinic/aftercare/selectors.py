"""Reads of the treatment course for the desk, the review desk and the partner's members."""

import uuid
from datetime import UTC, datetime

from django.db.models import Case as Conditional
from django.db.models import DateTimeField, F, When

from clinic.aftercare.models import CourseEvent, TreatmentAddendum, TreatmentCourse, TreatmentRecord
from clinic.aftercare.statuses import FINAL_STATES, CourseState
from intake.models import Case


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


def course_of(case_id: uuid.UUID | str) -> TreatmentCourse | None:
    """The case's treatment course, or None (no treatment decision)."""
    return TreatmentCourse.objects.filter(case_id=case_id).select_related("decision").first()


def courses_for_board(*, limit: int = 50) -> list[TreatmentCourse]:
    """Open courses, what is due first: a booked appointment at its time, any other course from when
    it entered its state (an unbooked course waits to be booked; a treated one to be followed up).
    A sandbox partner's test courses never show."""
    due = Conditional(
        When(state=CourseState.SCHEDULED, appointment_at__isnull=False, then=F("appointment_at")),
        default=F("state_changed_at"),
        output_field=DateTimeField(),
    )
    return list(
        TreatmentCourse.objects.filter(sandbox=False)
        .exclude(state__in=FINAL_STATES)
        .annotate(due_at=due)
        .select_related("case__patient", "decision")
        .order_by("due_at", "opened_at")[:limit]
    )


def course_timeline(course: TreatmentCourse) -> list[CourseEvent | TreatmentRecord | TreatmentAddendum]:
    """The course's moves, notes, signed records and addenda, in the order they joined the chain."""
    rows: list = [
        *CourseEvent.objects.filter(course=course).select_related("actor"),
        *TreatmentRecord.objects.filter(course=course),
        *TreatmentAddendum.objects.filter(record__course=course).select_related("record"),
    ]
    return sorted(rows, key=lambda row: row.chain_seq)


def treatment_summary(case: Case) -> dict | None:
    """The referral's `treatment` member for its partner: null, or the course's id and state. A
    list that selected `treatment_course` with its cases (clinic.web.reads) costs no query here."""
    try:
        course = case.treatment_course
    except TreatmentCourse.DoesNotExist:
        return None
    return {"id": str(course.pk), "state": course.state, "state_changed_at": _iso(course.state_changed_at)}


def treated_data(record: TreatmentRecord) -> dict:
    """referral.treated's `treatment`: the course (its id and state) and this session's record
    (never the product's code, lot or dose, nor who gave it)."""
    course = record.course
    return {
        "id": str(course.pk),
        "state": course.state,
        "treated_at": _iso(record.administered_at),
        "route": record.route,
        "sites": list(record.sites),
        "protocol": {"id": record.protocol_id, "version": record.protocol_version}
        if record.protocol_id
        else None,
    }


def closed_data(course: TreatmentCourse) -> dict:
    """referral.course_closed's `treatment`."""
    return {"id": str(course.pk), "state": course.state, "closed_at": _iso(course.closed_at)}
