"""Follow-up after treatment (DESIGN.md, "Follow-up"): the time points a protocol names, the link a
patient answers each from, the desk's phone answers and call list, and the course moves they end in.

One function per use case, each in one transaction. Locks are taken course first, then time
point, then (through intake.chain) the case, the order a signed treatment takes them, so a patient
submitting while the performer signs waits instead of deadlocking. A time point changes state by
compare-and-set on its version, and every step appends a FollowUpEvent to the case's audit chain.

The course is moved to following_up when its first day > 0 time point leaves `waiting` (a link is
issued, the desk answers or calls): "following up" is the clinic chasing the patient, and a course
whose every link goes unanswered must already be following up to end lost to follow-up (the course
table allows that move only from following_up). When no time point after treatment is open any
more, the course completes if one was answered, and is otherwise lost to follow-up, naming the days.
"""

import uuid
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clinic.aftercare import courses
from clinic.aftercare.adverse_event_values import TEXT_LIMIT
from clinic.aftercare.adverse_events import PATIENT, flag_from_patient
from clinic.aftercare.courses import CourseMoved
from clinic.aftercare.errors import WrongState
from clinic.aftercare.follow_up_scores import (  # noqa: F401  the use cases are named from here
    call_list,
    due_for_invitation,
    follow_up_data,
    move_point,
    on_scored,
    plan_of,
    record_event,
    save_answers,
    submit_responses,
    trajectory,
)
from clinic.aftercare.follow_up_tokens import (  # noqa: F401
    LinkRefused,
    answers_so_far,
    delivery_for,
    find_invitation,
    invitation_for_token,
    make_token,
    opt_out,
    token_for,
    usable_invitation,
)
from clinic.aftercare.models import (
    ContactOptOut,
    FollowUpEvent,
    FormResponse,
    Invitation,
    TimePoint,
    TreatmentCourse,
    TreatmentRecord,
)
from clinic.aftercare.statuses import COURSE, CourseState
from intake.workflow import Actor

State = TimePoint.State
Kind = FollowUpEvent.Kind
OPEN = (State.WAITING, State.INVITED, State.CALL)
FOLLOW_UP = Actor(label="follow-up")
DESK_SOURCES = (FormResponse.Source.DESK, FormResponse.Source.PHONE)

InvitationHandler = Callable[[uuid.UUID], None]
_invitation_handlers: list[InvitationHandler] = []


def on_invitation(handler: InvitationHandler) -> None:
    """Register what follows an invitation to be emailed (the send task): called with its id once
    the transaction that issued it has committed. Registering twice is a no-op."""
    if handler not in _invitation_handlers:
        _invitation_handlers.append(handler)


def _announce_invitation(invitation_id: uuid.UUID) -> None:
    for handler in _invitation_handlers:
        # robust: the invitation has committed; a broker outage leaves it owed for the sweep.
        transaction.on_commit(lambda handler=handler: handler(invitation_id), robust=True)


def _day(day: int) -> str:
    return "the baseline" if day == 0 else f"day {day}"


def _days(days) -> str:
    return ", ".join(_day(day) for day in days)


def _locked_course(course_id) -> TreatmentCourse:
    return TreatmentCourse.objects.select_for_update(of=("self",)).get(pk=course_id)


def _locked_point(time_point_id) -> tuple[TreatmentCourse, TimePoint]:
    course_id = TimePoint.objects.values_list("course_id", flat=True).get(pk=time_point_id)
    course = _locked_course(course_id)
    points = TimePoint.objects.select_for_update(of=("self",)).select_related("case__patient")
    return course, points.get(pk=time_point_id)


# --- scheduling ---------------------------------------------------------------------------------


def schedule_follow_up(course: TreatmentCourse) -> list[TimePoint]:
    """The course's time points, one per protocol day, made once: the baseline (day 0) due the day
    it is made; every later day due the first session's date + day once the course is treated (until
    then undated). A course treated before its baseline was made gets a closed baseline."""
    instruments, days = plan_of(course)
    with transaction.atomic(savepoint=False):
        existing = {point.day: point for point in TimePoint.objects.select_for_update().filter(course=course)}
        treated_on = timezone.localdate(course.treated_at) if course.treated_at else None
        made = []
        for day in days:
            if day in existing:
                continue
            late_baseline = day == 0 and course.state != CourseState.SCHEDULED
            point = TimePoint.objects.create(
                course=course,
                case_id=course.case_id,
                day=day,
                instruments=instruments,
                due_on=timezone.localdate() if day == 0 else None,
                state=State.CLOSED if late_baseline else State.WAITING,
                sandbox=course.sandbox,
            )
            existing[day] = point
            made.append(day)
        if made:
            record_event(
                None,
                case_id=course.case_id,
                kind=Kind.SCHEDULED,
                actor=FOLLOW_UP,
                note=f"Follow-up scheduled: {_days(made)}; instruments {', '.join(instruments)}",
            )
        for point in existing.values():
            due = treated_on + timedelta(days=point.day) if treated_on and point.day else None
            if due and point.due_on is None:
                TimePoint.objects.filter(pk=point.pk).update(due_on=due)
                point.due_on = due
        return sorted(existing.values(), key=lambda point: point.day)


def follow_course_move(moved: CourseMoved) -> None:
    """Registered in the course's transaction (aftercare.apps): an opened course gets its time points
    and, unless it is a sandbox course (simulated), the baseline's link; a course that ended closes
    what is still open."""
    if moved.from_state == "" and moved.to_state == CourseState.SCHEDULED:
        points = schedule_follow_up(TreatmentCourse.objects.get(pk=moved.course_id))
        baseline = next((point for point in points if point.day == 0 and point.state == State.WAITING), None)
        if baseline is not None and not moved.sandbox:
            issue_invitation(time_point_id=baseline.pk)
    elif COURSE[moved.to_state].final:
        label = CourseState(moved.to_state).label.lower()
        for point in TimePoint.objects.select_for_update().filter(course_id=moved.course_id, state__in=OPEN):
            _close(point, note=f"The course was {label} ({moved.actor_label})")


def follow_treatment(record: TreatmentRecord) -> None:
    """Registered in the signing transaction (treatments.on_treated): the first session dates the
    later time points; a baseline still unanswered can no longer be one and is closed."""
    if record.session != 1:
        return  # staged plans count from the first session
    course = TreatmentCourse.objects.get(pk=record.course_id)
    for point in schedule_follow_up(course):
        if point.day == 0 and point.state in OPEN:
            _close(point, note="Treated before the baseline was answered: a later answer is no baseline")


def _close(point: TimePoint, *, note: str) -> None:
    move_point(point, State.CLOSED)
    record_event(point, case_id=point.case_id, kind=Kind.CLOSED, actor=FOLLOW_UP, note=note)


# --- invitations and the call list --------------------------------------------------------------


def _following_up(course: TreatmentCourse, actor: Actor) -> None:
    if course.state == CourseState.TREATED:
        courses.begin_follow_up(course_id=course.pk, actor=actor)
        course.refresh_from_db()


def _refuse_final(point: TimePoint) -> None:
    if point.state not in OPEN:
        state = point.get_state_display().lower()
        raise WrongState(f"{_day(point.day).capitalize()} is already {state}; nothing was changed.")


@transaction.atomic
def issue_invitation(*, time_point_id: uuid.UUID | str) -> tuple[Invitation, str]:
    """The time point's link: (invitation, token). A link still live is returned as it is, so a
    sweep that runs twice sends one; otherwise a new one, valid FOLLOW_UP_LINK_DAYS. Without an
    address to email, or with the patient opted out, the time point goes to the call list."""
    course, point = _locked_point(time_point_id)
    _refuse_final(point)
    if point.sandbox:
        raise WrongState("A sandbox course's follow-up is simulated: no link is sent to anyone.")
    if point.day and point.due_on is None:
        raise WrongState(
            f"{_day(point.day).capitalize()} counts from the treatment, which is not recorded yet."
        )
    now = timezone.now()
    delivery, why_not = delivery_for(point.case.patient)
    live = (
        point.invitations.filter(submitted_at__isnull=True, expires_at__gt=now)
        .order_by("-created_at")
        .first()
    )
    if live is not None and not (delivery == Invitation.Delivery.PENDING and live.delivery in _UNSENDABLE):
        return live, token_for(live)
    if point.day:
        _following_up(course, FOLLOW_UP)
    if live is not None:
        # The patient has an address now (or asked for email again): the live link gets sent.
        Invitation.objects.filter(pk=live.pk).update(delivery=delivery)
        live.delivery, invitation = delivery, live
    else:
        invitation_id = uuid.uuid4()
        token, token_hash = make_token(invitation_id)
        invitation = Invitation.objects.create(
            id=invitation_id,
            time_point=point,
            case_id=point.case_id,
            token_hash=token_hash,
            expires_at=now + timedelta(days=settings.FOLLOW_UP_LINK_DAYS),
            delivery=delivery,
        )
    until = f"{timezone.localtime(invitation.expires_at):%Y-%m-%d}"
    if delivery == Invitation.Delivery.PENDING:
        if point.state != State.INVITED:
            move_point(point, State.INVITED)
        note = f"Link made for {_day(point.day)}, valid until {until}; emailed from the follow-up queue"
        record_event(point, case_id=point.case_id, kind=Kind.INVITED, actor=FOLLOW_UP, note=note)
        _announce_invitation(invitation.pk)
    else:
        note = f"Link made for {_day(point.day)}, valid until {until}, not emailed: {why_not}"
        record_event(point, case_id=point.case_id, kind=Kind.INVITED, actor=FOLLOW_UP, note=note)
        _to_call(point, note=f"Not emailed: {why_not}")
    return invitation, token_for(invitation)


_UNSENDABLE = (Invitation.Delivery.NO_ADDRESS, Invitation.Delivery.OPTED_OUT)


def _to_call(point: TimePoint, *, note: str) -> TimePoint:
    if point.state in (State.WAITING, State.INVITED):
        move_point(point, State.CALL)
        record_event(point, case_id=point.case_id, kind=Kind.CALL_LIST, actor=FOLLOW_UP, note=note)
    return point


@transaction.atomic
def to_call_list(*, time_point_id: uuid.UUID | str, note: str) -> TimePoint:
    """Put an open time point on the desk's follow-up call list (after the last reminder's wait, or
    a link that cannot be emailed). Already there, or answered or closed: nothing changes."""
    course, point = _locked_point(time_point_id)
    if point.state in (State.WAITING, State.INVITED) and point.day:
        _following_up(course, FOLLOW_UP)
    return _to_call(point, note=note)


@transaction.atomic
def record_bounce(*, message_id: str) -> None:
    """The provider reports the invitation's email bounced: the address is not emailed again (until
    the patient's address changes) and the time point goes to the call list. Unknown ids: nothing."""
    invitation = Invitation.objects.filter(message_id=message_id).exclude(message_id="").first()
    if invitation is None:
        return
    course, point = _locked_point(invitation.time_point_id)
    if Invitation.objects.filter(pk=invitation.pk, delivery=Invitation.Delivery.BOUNCED).exists():
        return
    Invitation.objects.filter(pk=invitation.pk).update(delivery=Invitation.Delivery.BOUNCED)
    email = (point.case.patient.email or "").strip()
    if email:
        ContactOptOut.objects.get_or_create(
            patient=point.case.patient, email=email.lower(), defaults={"reason": ContactOptOut.Reason.BOUNCED}
        )
    record_event(point, case_id=point.case_id, kind=Kind.BOUNCED, actor=FOLLOW_UP, note="The email bounced")
    if point.state in (State.WAITING, State.INVITED) and point.day:
        _following_up(course, FOLLOW_UP)
    _to_call(point, note="The email bounced: call the patient")


# --- the patient's link ---------------------------------------------------------------------------


@transaction.atomic
def submit_form(*, token: str, unexpected: bool, unexpected_text: str = "") -> TimePoint:
    """Send the form: every instrument scored (and compared with the baseline), the time point
    answered and the link used up. "Yes, something unexpected" becomes a report for staff to
    triage. Two tabs sending at once: the second finds the form sent (LinkRefused "used")."""
    course = _locked_course(find_invitation(token).time_point.course_id)
    _, point = usable_invitation(token)
    text = (unexpected_text or "").strip() if unexpected else ""
    if unexpected and not text:
        raise ValidationError({"unexpected_text": ["Tell us in a few words what happened, and when."]})
    if len(text) > TEXT_LIMIT:
        raise ValidationError({"unexpected_text": [f"Please shorten this to {TEXT_LIMIT} characters."]})
    return _answer(course, point, answers=None, source=FormResponse.Source.LINK, actor=PATIENT, flagged=text)


def _answer(course, point: TimePoint, *, answers, source: str, actor: Actor, flagged: str) -> TimePoint:
    if point.day:
        _following_up(course, actor)
    submit_responses(point, answers_by_instrument=answers, source=source, actor=actor, now=timezone.now())
    if flagged:
        flag_from_patient(course_id=course.pk, description=flagged)
    _settle(course, actor)
    return point


# --- the desk -------------------------------------------------------------------------------------


@transaction.atomic
def record_desk_answers(
    *, time_point_id: uuid.UUID | str, user, answers_by_instrument: dict, source: str
) -> TimePoint:
    """Answers taken at the desk or by phone (every question of every instrument), scored as a
    patient's; the time point's link is then used up. Source "sandbox" only for a sandbox course's
    simulated answers."""
    course, point = _locked_point(time_point_id)
    if source not in (*DESK_SOURCES, FormResponse.Source.SANDBOX) or (
        (source == FormResponse.Source.SANDBOX) != point.sandbox
    ):
        raise ValueError(
            f"Desk answers come from the desk or the phone (a sandbox's are simulated), not {source!r}."
        )
    _refuse_final(point)
    if point.day and point.due_on is None:
        raise WrongState(
            f"{_day(point.day).capitalize()} counts from the treatment, which is not recorded yet."
        )
    if not isinstance(answers_by_instrument, dict):
        raise ValidationError({"answers": ["Give the answers per instrument."]})
    return _answer(
        course, point, answers=answers_by_instrument, source=source, actor=Actor.of_user(user), flagged=""
    )


@transaction.atomic
def mark_unreachable(*, time_point_id: uuid.UUID | str, user, note: str) -> TimePoint:
    """The desk could not reach the patient for this time point: it ends unanswered, with the note."""
    note = (note or "").strip()
    if not note:
        raise ValidationError(
            {"note": ["Say what was tried, for example: called twice, no answer, voicemail full."]}
        )
    course, point = _locked_point(time_point_id)
    _refuse_final(point)
    actor = Actor.of_user(user)
    if point.day:
        _following_up(course, actor)
    move_point(point, State.UNREACHABLE)
    record_event(point, case_id=point.case_id, kind=Kind.UNREACHABLE, actor=actor, note=note)
    _settle(course, actor)
    return point


def _settle(course: TreatmentCourse, actor: Actor) -> None:
    """When no time point after treatment is open any more, the course ends: completed if one was
    answered, lost to follow-up otherwise."""
    course.refresh_from_db()
    if course.state not in (CourseState.TREATED, CourseState.FOLLOWING_UP):
        return
    later = list(TimePoint.objects.filter(course=course, day__gt=0).order_by("day"))
    if not later or any(point.state in OPEN for point in later):
        return
    answered = [point.day for point in later if point.state == State.COMPLETED]
    if answered:
        courses.complete_course(
            course_id=course.pk, actor=actor, note=f"Follow-up answered at {_days(answered)}."
        )
        return
    _following_up(course, actor)
    unanswered = ", ".join(f"{_day(p.day)} ({p.get_state_display().lower()})" for p in later)
    courses.lose_to_follow_up(
        course_id=course.pk, actor=actor, reason=f"No follow-up answer at {unanswered}."
    )
