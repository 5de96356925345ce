"""What each treatment course state means, in one table (the pattern of intake.statuses).

A decision whose final route is a treatment opens a course; the referral's own status stays
`decided`. Every other module (the services that move a course, the desk, the partner's course
Task, the events) reads its facts from COURSE; a new state is one new row here, and
tests/aftercare/test_statuses.py fails until the row is complete. States, moves and the FHIR
Task mapping: DESIGN.md, "After the decision" > "The treatment course"."""

from dataclasses import dataclass

from django.db import models


class CourseState(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    TREATED = "treated", "Treated"
    FOLLOWING_UP = "following_up", "Following up"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    LOST_TO_FOLLOW_UP = "lost_to_follow_up", "Lost to follow-up"


C = CourseState


@dataclass(frozen=True)
class CourseFacts:
    next: frozenset[str]  # the states a course may move to from this one
    final: bool  # the course has ended; nothing changes afterwards
    needs_reason: bool  # entering it asks the person for a reason (cancelled)
    partner_event: str | None  # the webhook event type sent on entering it (subscribed partners)
    fhir_task: str  # FHIR R4 Task.status of the course Task (businessStatus carries ours exactly)


COURSE: dict[str, CourseFacts] = {
    C.SCHEDULED: CourseFacts(
        next=frozenset({C.TREATED, C.CANCELLED}),
        final=False,
        needs_reason=False,
        partner_event=None,
        fhir_task="accepted",
    ),
    # Entered at the first signed treatment record; each record sends referral.treated itself.
    C.TREATED: CourseFacts(
        next=frozenset({C.FOLLOWING_UP, C.COMPLETED}),
        final=False,
        needs_reason=False,
        partner_event=None,
        fhir_task="in-progress",
    ),
    C.FOLLOWING_UP: CourseFacts(
        next=frozenset({C.COMPLETED, C.LOST_TO_FOLLOW_UP}),
        final=False,
        needs_reason=False,
        partner_event=None,
        fhir_task="in-progress",
    ),
    C.COMPLETED: CourseFacts(
        next=frozenset(),
        final=True,
        needs_reason=False,
        partner_event="referral.course_closed",
        fhir_task="completed",
    ),
    # Only before treatment.
    C.CANCELLED: CourseFacts(
        next=frozenset(),
        final=True,
        needs_reason=True,
        partner_event="referral.course_closed",
        fhir_task="cancelled",
    ),
    # Only while following up.
    C.LOST_TO_FOLLOW_UP: CourseFacts(
        next=frozenset(),
        final=True,
        needs_reason=False,
        partner_event="referral.course_closed",
        fhir_task="failed",
    ),
}

TRANSITIONS: dict[str, frozenset[str]] = {state: facts.next for state, facts in COURSE.items()}
FINAL_STATES: frozenset[str] = frozenset(state for state, facts in COURSE.items() if facts.final)
