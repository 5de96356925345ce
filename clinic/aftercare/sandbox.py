"""The sandbox's simulated course (DESIGN.md, "Partners: events after the decision", Sandbox).

After the automatic approval of a sandbox partner's referral opens its course, the sandbox runs it
on synthetic data, one simulated day lasting SANDBOX_TIME_SCALE seconds. Day 0: the synthetic patient
answers the baseline (before treatment, as a real one would), then the sandbox's signer signs a
treatment record (so a subscribed partner receives referral.follow_up and referral.treated). Day 1, as
the external_id's prefix says, an adverse event: `approve-ae-` a grade 2 non-serious one,
`approve-sae-` a serious one (hospitalization), reported as staff report it, so it counts as
confirmed at once. Then each follow-up day of the protocol the patient answers every instrument with
scores that improve, through the follow-up's own services (source "sandbox"), and the last answer
completes the course; `approve-lost-` answers the first follow-up day only and is lost to follow-up
on the next. A protocol that names no instruments has no time points: its course completes on day 1.
Each step is idempotent: a task that runs twice changes nothing the second time. Nothing here is
ever a clinical record: the course, its record, its answers and its event are flagged sandbox."""

import uuid

from django.db import transaction
from django.utils import timezone

from clinic.aftercare import adverse_events, courses, follow_up
from clinic.aftercare.courses import CourseMoved
from clinic.aftercare.instrument_library import get_instrument
from clinic.aftercare.instruments import InstrumentSpec
from clinic.aftercare.models import AdverseEvent, TimePoint, TreatmentCourse, TreatmentRecord
from clinic.aftercare.product_codes import phi_in_code
from clinic.aftercare.statuses import COURSE, CourseState
from clinic.aftercare.treatments import sign_treatment
from intake.workflow import Actor
from recommendations.sandbox import _robot

# external_id prefix (case-insensitive) -> the adverse event the sandbox reports on day 1.
AE_PREFIXES = {"approve-sae-": "serious", "approve-ae-": "non_serious"}
AE_DAY = 1
# A course without follow-up time points (its protocol names no instruments) ends on this day.
END_DAY = 1
LOST_PREFIX = "approve-lost-"
NOT_REAL = "Sandbox: synthetic data, not a real treatment."
OPEN = follow_up.OPEN
# How well the synthetic patient is, from 0 (the worst answer to every question) to 1 (the best): at
# the baseline, then better by a step at each follow-up day, up to a ceiling.
BASELINE_WELLNESS, WELLNESS_STEP, WELLNESS_CEILING = 0.3, 0.25, 0.9


def owes_simulation(moved: CourseMoved) -> bool:
    """A sandbox course was just opened: the sandbox treats it."""
    return moved.sandbox and moved.from_state == "" and moved.to_state == CourseState.SCHEDULED


def adverse_event_kind(external_id: str | None) -> str | None:
    """serious, non_serious, or None: what the external_id's prefix asks for on day 1."""
    external_id = (external_id or "").lower()
    return next((kind for prefix, kind in AE_PREFIXES.items() if external_id.startswith(prefix)), None)


def _distinct_code(course: TreatmentCourse) -> str:
    # A synthetic code that, like a real one, never holds the (synthetic) patient's data.
    patient = course.case.patient
    for attempt in range(10):
        code = f"SANDBOX-{(course.pk.int >> (attempt * 8)) % 10**9:09d}"
        if not phi_in_code(
            code,
            given_name=patient.given_name,
            family_name=patient.family_name,
            mrn=patient.mrn,
            birth_date=patient.birth_date,
        ):
            return code
    return "SANDBOX"


def synthetic_values(course: TreatmentCourse, performer) -> dict:
    return {
        "session": 1,
        "performer": performer.pk,
        "performer_role": "physician",
        "administered_at": timezone.now(),
        "route": course.route,
        "sites": list(course.decision.sites) if course.route == "local_injection" else [],
        "image_guidance": "ultrasound" if course.route == "local_injection" else "none",
        "product_kind": "Sandbox synthetic cell product",
        "product_source": "autologous",
        "processing_facility": "Sandbox (no facility)",
        "lot": "SANDBOX-LOT-1",
        "distinct_code": _distinct_code(course),
        "label_legends": ["FOR AUTOLOGOUS USE ONLY"],
        "dose_tnc": 1_000_000_000,
        "viability_percent": 90.0,
        "volume_ml": 5.0,
        "notes": NOT_REAL,
    }


@transaction.atomic
def simulate_treatment(*, course_id: uuid.UUID | str) -> TreatmentRecord | None:
    """Day 0: the synthetic patient answers the baseline, then the sandbox's signer signs a synthetic
    first session. None when there is nothing to do (not a sandbox course, or no longer scheduled:
    treated already, or cancelled)."""
    course = (
        TreatmentCourse.objects.select_for_update(of=("self",))
        .select_related("decision", "case__patient")
        .filter(pk=course_id, sandbox=True)
        .first()
    )
    if course is None or course.state != CourseState.SCHEDULED:
        return None
    robot = _robot()
    # The baseline before the treatment: signing closes a baseline still unanswered.
    _answer_baseline(course, robot)
    return sign_treatment(user=robot, course_id=course.pk, values=synthetic_values(course, robot))


def owes_adverse_event(course_id: uuid.UUID | str) -> bool:
    """The course's external_id asks for an adverse event and none has been reported yet."""
    course = TreatmentCourse.objects.select_related("case").filter(pk=course_id, sandbox=True).first()
    return bool(
        course is not None
        and adverse_event_kind(course.case.external_id)
        and not AdverseEvent.objects.filter(course=course).exists()
    )


def synthetic_report(kind: str) -> dict:
    serious = kind == "serious"
    return {
        "onset": timezone.localdate(),
        "description": (
            "Sandbox: synthetic serious adverse event (hospitalization), not a real event."
            if serious
            else "Sandbox: synthetic grade 2 adverse event, not a real event."
        ),
        "ctcae_grade": 3 if serious else 2,
        "serious": serious,
        "seriousness_criteria": ["hospitalization"] if serious else [],
        "outcome": "recovering",
        "action_taken": "",
    }


@transaction.atomic
def simulate_adverse_event(*, course_id: uuid.UUID | str) -> AdverseEvent | None:
    """Day 1: the adverse event the external_id asks for, reported as staff report it. None when
    there is nothing to do (no prefix asks for one, or one was reported already)."""
    course = (
        TreatmentCourse.objects.select_for_update(of=("self",))
        .select_related("case")
        .filter(pk=course_id, sandbox=True)
        .first()
    )
    kind = adverse_event_kind(course.case.external_id) if course else None
    if kind is None or AdverseEvent.objects.filter(course=course).exists():
        return None
    robot = _robot()
    return adverse_events.report_adverse_event(
        course_id=course.pk, source="staff", actor=Actor.of_user(robot), values=synthetic_report(kind)
    )


# --- Follow-up -----------------------------------------------------------------------------------


def is_lost(external_id: str | None) -> bool:
    """The external_id asks for a patient lost to follow-up after the first time point."""
    return (external_id or "").lower().startswith(LOST_PREFIX)


def _ordered_values(spec: InstrumentSpec, item) -> list[float]:
    """An item's possible answers from the worst to the best for the instrument's score."""
    values = (
        sorted(option.value for option in item.options)
        if item.options
        else list(range(item.minimum, item.maximum + 1))
    )
    lowest = {other.link_id: other.lowest for other in spec.items}
    highest = {other.link_id: other.highest for other in spec.items}
    higher_answers_score_higher = spec.score(highest) >= spec.score(lowest)
    if higher_answers_score_higher != (spec.better == "higher"):
        values.reverse()
    return values


def synthetic_answers(spec: InstrumentSpec, wellness: float) -> dict[str, float]:
    """An answer to every question of `spec` for a patient as well as `wellness` (0 worst, 1 best)."""
    answers = {}
    for item in spec.items:
        values = _ordered_values(spec, item)
        answers[item.link_id] = values[int(wellness * (len(values) - 1) + 0.5)]
    return answers


def _answers(point: TimePoint, step: int) -> dict[str, dict]:
    wellness = min(BASELINE_WELLNESS + WELLNESS_STEP * step, WELLNESS_CEILING)
    return {key: synthetic_answers(get_instrument(key), wellness) for key in point.instruments}


def _answer_baseline(course: TreatmentCourse, robot) -> None:
    point = TimePoint.objects.filter(course=course, day=0, state__in=OPEN).first()
    if point is not None and point.instruments:
        follow_up.record_desk_answers(
            time_point_id=point.pk, user=robot, answers_by_instrument=_answers(point, 0), source="sandbox"
        )


def _later_points(course: TreatmentCourse) -> list[TimePoint]:
    return list(TimePoint.objects.filter(course=course, day__gt=0).order_by("day"))


@transaction.atomic
def simulate_follow_up(*, course_id: uuid.UUID | str, day: int) -> str | None:
    """A follow-up day: the synthetic patient answers the day's time point (the course completes
    after the last), or, for `approve-lost-`, is lost to follow-up after the first; a course without
    time points completes on END_DAY. What was done, or None when there is nothing to do (not a
    sandbox course, not treated, or this day's step was done already)."""
    course = (
        TreatmentCourse.objects.select_for_update(of=("self",))
        .select_related("case")
        .filter(pk=course_id, sandbox=True)
        .first()
    )
    if course is None or course.state not in (CourseState.TREATED, CourseState.FOLLOWING_UP):
        return None
    later = _later_points(course)
    point = next((p for p in later if p.day == day and p.state in OPEN), None)
    if point is None and (later or day != END_DAY):
        return None
    robot = _robot()
    actor = Actor.of_user(robot)
    answered = [p for p in later if p.state == TimePoint.State.COMPLETED]
    if is_lost(course.case.external_id) and (answered or len(later) <= 1):
        if course.state == CourseState.TREATED:
            courses.begin_follow_up(course_id=course.pk, actor=actor)
        after = f"day {answered[-1].day}" if answered else "the treatment"
        courses.lose_to_follow_up(
            course_id=course.pk, actor=actor, reason=f"Sandbox ({LOST_PREFIX}): no answer after {after}."
        )
        return "lost to follow-up"
    if point is None:
        courses.complete_course(course_id=course.pk, actor=actor, note="Sandbox: no follow-up to simulate.")
        return "completed"
    follow_up.record_desk_answers(
        time_point_id=point.pk,
        user=robot,
        answers_by_instrument=_answers(point, len(answered) + 1),
        source="sandbox",
    )
    return "answered"


def simulate_day(*, course_id: uuid.UUID | str, day: int) -> list[str]:
    """Everything simulated day `day` holds, each step in its own transaction; what was done (empty
    when every step was done already)."""
    done = []
    if day == 0 and simulate_treatment(course_id=course_id):
        done.append("treated")
    if day == AE_DAY and simulate_adverse_event(course_id=course_id):
        done.append("adverse event")
    if day > 0 and (step := simulate_follow_up(course_id=course_id, day=day)):
        done.append(step)
    return done


def next_day(course_id: uuid.UUID | str, *, after: int) -> int | None:
    """The next simulated day with something to do after day `after`: the adverse event the
    external_id asks for, an open follow-up time point, or the end of a course without any; None
    when the course has ended (or is not a sandbox course)."""
    course = TreatmentCourse.objects.filter(pk=course_id, sandbox=True).first()
    if course is None or COURSE[course.state].final:
        return None
    if course.state == CourseState.SCHEDULED:
        return 0 if after < 0 else None
    later = _later_points(course)
    days = [point.day for point in later if point.state in OPEN] if later else [END_DAY]
    if owes_adverse_event(course.pk):
        days.append(AE_DAY)
    return min((day for day in days if day > after), default=None)
