"""The treatment course's state machine: the only code that changes `TreatmentCourse.state`.

A treatment decision opens the course in the decision's own transaction (registered in
aftercare.apps on the case's move to `decided`). Every move is a compare-and-set on the state the
caller saw and appends its CourseEvent to the case's audit chain in the same transaction, so two
people acting at once produce one move and the other is told what happened. What follows a move
(the sandbox's simulated course, a partner's outbox row) is registered with `on_course_move`, as
intake.workflow.on_move does for the case."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clinic.aftercare.errors import WrongState
from clinic.aftercare.models import CourseEvent, TreatmentCourse
from clinic.aftercare.statuses import COURSE, TRANSITIONS, CourseState
from intake import chain, tracing
from intake.models import CaseStatus
from intake.workflow import Actor, Moved
from recommendations.decision_protocols import TREATMENT_ROUTES
from recommendations.models import Decision, Outcome

OPENED_NOTE = "Course opened (scheduled)"
# Decisions that open a course: a treatment route, approved as drafted or amended to it.
OPENING_OUTCOMES = (Outcome.APPROVED, Outcome.AMENDED)


@dataclass(frozen=True)
class CourseMoved:
    """A committed (or committing) course move, as handlers are told of it."""

    course_id: uuid.UUID
    case_id: uuid.UUID
    from_state: str  # "" when the course was just opened
    to_state: str
    actor_label: str
    sandbox: bool


Handler = Callable[[CourseMoved], None]
_in_transaction: list[Handler] = []
_after_commit: list[Handler] = []


def on_course_move(handler: Handler, *, after_commit: bool) -> None:
    """Register what follows a course move: in its transaction (a row that must commit with it),
    or once it has committed (a task). Registering the same handler twice is a no-op."""
    handlers = _after_commit if after_commit else _in_transaction
    if handler not in handlers:
        handlers.append(handler)


def _announce(moved: CourseMoved) -> None:
    for handler in _in_transaction:
        handler(moved)
    request_id = tracing.current()
    for handler in _after_commit:
        # robust: the move has committed; a broker outage must not turn the request into an error.
        def run(handler: Handler = handler) -> None:
            with tracing.bound(request_id or tracing.current()):
                handler(moved)

        run.__qualname__ = getattr(handler, "__qualname__", "after_commit_handler")
        transaction.on_commit(run, robust=True)


def _label(state: str) -> str:
    return CourseState(state).label.lower()


def course_of(case_id: uuid.UUID | str) -> TreatmentCourse | None:
    return TreatmentCourse.objects.filter(case_id=case_id).first()


def open_course_after_decision(moved: Moved) -> None:
    """Registered in the decision's transaction (aftercare.apps): a decision whose final route is a
    treatment opens its course. Idempotent: a course already open for the case is left as it is."""
    if moved.to_status != CaseStatus.DECIDED:
        return
    decision = Decision.objects.select_related("decided_by").filter(case_id=moved.case_id).first()
    if decision is None or decision.route not in TREATMENT_ROUTES or decision.outcome not in OPENING_OUTCOMES:
        return
    if TreatmentCourse.objects.filter(case_id=moved.case_id).exists():
        return
    course = TreatmentCourse.objects.create(
        case_id=moved.case_id,
        decision=decision,
        route=decision.route,
        protocol=decision.protocol,
        sandbox=moved.sandbox,
    )
    _event(
        course,
        Actor(label=moved.actor_label, user=decision.decided_by),
        note=OPENED_NOTE,
        to_state=course.state,
    )
    _announce(CourseMoved(course.pk, course.case_id, "", course.state, moved.actor_label, course.sandbox))


def _event(course: TreatmentCourse, actor: Actor, *, note: str, **fields) -> CourseEvent:
    return chain.append(
        CourseEvent(
            course_id=course.pk,
            case_id=course.case_id,
            actor=actor.user,
            actor_label=actor.label,
            note=note,
            **fields,
        )
    )


def check_move(from_state: str, to_state: str) -> None:
    if COURSE[from_state].final:
        raise WrongState(
            f"This course is already {_label(from_state)} and cannot change any more; nothing was changed."
        )
    if to_state not in TRANSITIONS[from_state]:
        allowed = ", ".join(sorted(_label(s) for s in TRANSITIONS[from_state]))
        raise WrongState(
            f"A course that is {_label(from_state)} cannot become {_label(to_state)} (it can become: "
            f"{allowed}); nothing was changed."
        )


def move_course(
    *, course: TreatmentCourse, to_state: str, actor: Actor, note: str = "", **fields: object
) -> TreatmentCourse:
    """Move `course` from the state it was read with to `to_state`, writing `fields` in the same
    UPDATE and the move's CourseEvent in the chain. WrongState when the move is not allowed or
    another process moved the course first (then nothing is written)."""
    from_state = course.state
    check_move(from_state, to_state)
    now = timezone.now()
    if COURSE[to_state].final:
        fields.setdefault("closed_at", now)
    with transaction.atomic(savepoint=False):
        updated = TreatmentCourse.objects.filter(pk=course.pk, state=from_state).update(
            state=to_state, state_changed_at=now, **fields
        )
        if updated == 1:
            _event(
                course,
                actor,
                note=note,
                kind=CourseEvent.Kind.STATE,
                from_state=from_state,
                to_state=to_state,
            )
            _announce(
                CourseMoved(course.pk, course.case_id, from_state, to_state, actor.label, course.sandbox)
            )
    if updated != 1:
        current = TreatmentCourse.objects.filter(pk=course.pk).values_list("state", flat=True).first()
        raise WrongState(
            f"The course was already {_label(current or from_state)} when this change was made; nothing "
            "was changed. Reload the case to see the course as it is now."
        )
    course.state, course.state_changed_at = to_state, now
    for name, value in fields.items():
        setattr(course, name, value)
    return course


def record_course_note(*, course: TreatmentCourse, actor: Actor, note: str) -> CourseEvent:
    """A timeline entry of the course that is not a move (a booking, a signed later session)."""
    return _event(course, actor, note=note, kind=CourseEvent.Kind.NOTE)


def _locked(course_id: uuid.UUID | str) -> TreatmentCourse:
    return (
        TreatmentCourse.objects.select_for_update(of=("self",)).select_related("decision").get(pk=course_id)
    )


def when(moment: datetime) -> str:
    """A time as the desk and the messages show it (the clinic's time zone)."""
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


@transaction.atomic
def schedule_course(*, course_id: uuid.UUID | str, actor: Actor, appointment_at: datetime) -> TreatmentCourse:
    """Book (or move) the treatment appointment; a note event says when it is."""
    if not isinstance(appointment_at, datetime):
        raise ValidationError(
            {"appointment_at": ["Give the appointment's date and time, for example 2026-11-20 09:30."]}
        )
    if timezone.is_naive(appointment_at):
        appointment_at = timezone.make_aware(appointment_at)
    course = _locked(course_id)
    if course.state != CourseState.SCHEDULED:
        raise WrongState(
            f"This course is {_label(course.state)}: an appointment is booked only before treatment. "
            "Nothing was changed."
        )
    decided_at = course.decision.decided_at
    if appointment_at < decided_at:
        raise ValidationError(
            {
                "appointment_at": [
                    f"Choose a time after the decision ({when(decided_at)}); the treatment cannot be "
                    "booked before it was decided."
                ]
            }
        )
    if course.appointment_at == appointment_at:
        return course
    note = (
        f"Appointment moved from {when(course.appointment_at)} to {when(appointment_at)}"
        if course.appointment_at
        else f"Appointment booked for {when(appointment_at)}"
    )
    TreatmentCourse.objects.filter(pk=course.pk).update(appointment_at=appointment_at)
    course.appointment_at = appointment_at
    record_course_note(course=course, actor=actor, note=note)
    return course


@transaction.atomic
def cancel_course(*, course_id: uuid.UUID | str, actor: Actor, reason: str) -> TreatmentCourse:
    """Cancel a course before treatment, with the reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            {"reason": ["Say why the course is cancelled, for example: the patient chose not to go ahead."]}
        )
    course = _locked(course_id)
    if course.state != CourseState.SCHEDULED:
        raise WrongState(
            f"This course is {_label(course.state)}: a course is cancelled only before treatment. "
            + (
                "Complete it instead, or record the patient as lost to follow-up. "
                if not COURSE[course.state].final
                else ""
            )
            + "Nothing was changed."
        )
    return move_course(
        course=course,
        to_state=CourseState.CANCELLED,
        actor=actor,
        note=f"Cancelled: {reason}",
        close_reason=reason,
    )


@transaction.atomic
def complete_course(*, course_id: uuid.UUID | str, actor: Actor, note: str = "") -> TreatmentCourse:
    """Close a treated course as completed."""
    course = _locked(course_id)
    if course.state == CourseState.SCHEDULED:
        raise WrongState(
            "This course has no signed treatment record yet, so it cannot be completed: have the performer "
            "sign the treatment record first, or cancel the course with a reason. Nothing was changed."
        )
    note = (note or "").strip()
    return move_course(
        course=course,
        to_state=CourseState.COMPLETED,
        actor=actor,
        note=f"Completed. {note}".strip() if note else "Completed",
    )


@transaction.atomic
def begin_follow_up(*, course_id: uuid.UUID | str, actor: Actor) -> TreatmentCourse:
    """A treated course starts its follow-up (the desk's "Start follow-up", or the first follow-up
    invitation going out)."""
    course = _locked(course_id)
    if course.state == CourseState.SCHEDULED:
        raise WrongState(
            "This course has no signed treatment record yet: follow-up starts once the patient is "
            "treated. Nothing was changed."
        )
    if course.state == CourseState.FOLLOWING_UP:
        raise WrongState(
            f"This course is already following up (since {when(course.state_changed_at)}); nothing was "
            "changed."
        )
    return move_course(
        course=course, to_state=CourseState.FOLLOWING_UP, actor=actor, note="Follow-up started"
    )


LOST_REASON = "Say why the patient is lost to follow-up, for example: three calls and a letter unanswered."


@transaction.atomic
def lose_to_follow_up(*, course_id: uuid.UUID | str, actor: Actor, reason: str) -> TreatmentCourse:
    """Close a course whose patient can no longer be followed up, with the reason; for good."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [LOST_REASON]})
    course = _locked(course_id)
    if course.state == CourseState.TREATED:
        raise WrongState(
            "Follow-up has not started on this course: start it first, or complete the course. "
            "Nothing was changed."
        )
    return move_course(
        course=course,
        to_state=CourseState.LOST_TO_FOLLOW_UP,
        actor=actor,
        note=f"Lost to follow-up: {reason}",
        close_reason=reason,
    )
