"""Answers and scores of the follow-up (DESIGN.md, "Follow-up", "Scoring"): checking a patient's
answers against the instrument's own items as they are saved, scoring a submitted time point against
the course's baseline, and the reads built on the scores (the desk's trajectory, a partner's
`follow_up`). Also the two steps every follow-up change is made of: a compare-and-set of the time
point and its event in the case's audit chain. The rules themselves live in
clinic.aftercare.instruments (pure); the use cases that move courses in clinic.aftercare.follow_up."""

import hashlib
import json
import uuid
from collections.abc import Callable
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from clinic.aftercare.errors import StaleEdit
from clinic.aftercare.follow_up_tokens import LinkRefused, usable_invitation
from clinic.aftercare.instrument_library import get_instrument
from clinic.aftercare.instruments import InstrumentSpec, improvement, responder
from clinic.aftercare.models import FollowUpEvent, FormResponse, Invitation, TimePoint, TreatmentCourse
from clinic.aftercare.statuses import CourseState
from intake import chain
from intake.workflow import Actor
from recommendations.models import Protocol

# What a form posts for "no answer": the patient cleared a choice.
CLEARED = (None, "")

ScoredHandler = Callable[[FormResponse], None]
_scored_handlers: list[ScoredHandler] = []


def on_scored(handler: ScoredHandler) -> None:
    """Register what follows a scored response (a partner's referral.follow_up row): called in the
    scoring transaction, once per instrument scored. Registering twice is a no-op."""
    if handler not in _scored_handlers:
        _scored_handlers.append(handler)


def record_event(point: TimePoint | None, *, case_id, kind: str, actor: Actor, note: str) -> FollowUpEvent:
    """A follow-up step in the case's audit chain (in the caller's transaction)."""
    return chain.append(
        FollowUpEvent(
            case_id=case_id, time_point=point, kind=kind, actor=actor.user, actor_label=actor.label, note=note
        )
    )


def move_point(point: TimePoint, to_state: str, **fields) -> TimePoint:
    """Compare-and-set the time point from the version it was read at: of two changes made at
    once, the second is refused (StaleEdit) and writes nothing."""
    now = timezone.now()
    updated = TimePoint.objects.filter(pk=point.pk, version=point.version).update(
        state=to_state, state_changed_at=now, version=F("version") + 1, **fields
    )
    if updated != 1:
        raise StaleEdit("This follow-up changed while you were working on it; reload the case to see it now.")
    point.state, point.state_changed_at, point.version = to_state, now, point.version + 1
    for name, value in fields.items():
        setattr(point, name, value)
    return point


def spec_of(key: str) -> InstrumentSpec:
    return get_instrument(key)


def plan_of(course: TreatmentCourse) -> tuple[list[str], list[int]]:
    """The protocol version's follow-up (instruments installed here, days), from the decision's
    protocol snapshot; ([], []) when the course has no protocol or it names no follow-up."""
    snapshot = course.protocol or {}
    protocol = Protocol.objects.filter(
        protocol_id=snapshot.get("id"), version=snapshot.get("version")
    ).first()
    follow_up = protocol.follow_up if protocol is not None and isinstance(protocol.follow_up, dict) else {}
    instruments = [key for key in dict.fromkeys(follow_up.get("instruments") or []) if _installed(key)]
    days = sorted({day for day in follow_up.get("days") or [] if isinstance(day, int) and day >= 0})
    return (instruments, days) if instruments and days else ([], [])


def _installed(key: object) -> bool:
    try:
        spec_of(key)
    except (LookupError, ValueError, TypeError):
        return False
    return True


def _number(value: object) -> object:
    """A form's "3" or "2.5" as a number; anything else as it came, for the item to refuse."""
    if isinstance(value, str):
        text = value.strip()
        try:
            number = float(text)
        except ValueError:
            return value
        return int(number) if number.is_integer() else number
    return value


def clean_answers(spec: InstrumentSpec, answers: object) -> dict[str, int | float | None]:
    """The answers as stored ({linkId: value}, None clears one), or ValidationError naming each
    question with what the patient can choose instead."""
    if not isinstance(answers, dict):
        raise ValidationError({"answers": ["Send the answers as {question: answer}."]})
    clean: dict[str, int | float | None] = {}
    errors: dict[str, list[str]] = {}
    for link_id, raw in answers.items():
        if raw in CLEARED:
            if link_id in {item.link_id for item in spec.items}:
                clean[link_id] = None
            else:
                errors[str(link_id)] = [f"{spec.title} has no question {link_id!r}."]
            continue
        try:
            clean[link_id] = spec.check(link_id, _number(raw))
        except ValueError as refused:
            errors[str(link_id)] = [str(refused)]
    if errors:
        raise ValidationError(errors)
    return clean


def merge(saved: dict, clean: dict) -> dict:
    """Saved answers with the new ones on top; a cleared answer is removed."""
    merged = {**saved, **clean}
    return {link_id: value for link_id, value in merged.items() if value is not None}


def unanswered(spec: InstrumentSpec, answers: dict) -> list[str]:
    """The questions still unanswered, as the patient reads them: every item counts, because no
    instrument shipped here publishes a rule for a missing item (its score would be None)."""
    return [item.text for item in spec.items if answers.get(item.link_id) is None]


def missing_answers(time_point: TimePoint, answers_by_instrument: dict[str, dict]) -> dict[str, list[str]]:
    """For a submission: each instrument's unanswered questions, in a ValidationError's shape."""
    errors: dict[str, list[str]] = {}
    for key in time_point.instruments:
        spec = spec_of(key)
        left = unanswered(spec, answers_by_instrument.get(key) or {})
        if left:
            shown = "; ".join(f"“{text}”" for text in left[:5])
            more = f" and {len(left) - 5} more" if len(left) > 5 else ""
            errors[key] = [f"Please answer every question of {spec.title} before sending: {shown}{more}."]
    return errors


def baseline_score(*, course_id: uuid.UUID | str, instrument: str) -> float | None:
    """The course's baseline (day 0) score for the instrument, once submitted; None otherwise."""
    return (
        FormResponse.objects.filter(
            time_point__course_id=course_id,
            time_point__day=0,
            instrument=instrument,
            submitted_at__isnull=False,
        )
        .values_list("score", flat=True)
        .first()
    )


def scored_fields(response: FormResponse, *, day: int, course_id: uuid.UUID | str) -> dict:
    """score, baseline_score, improvement, responder and worsening for a response being
    submitted: at baseline the score alone; later, compared with the course's baseline of the
    same instrument (none: improvement and responder None)."""
    spec = spec_of(response.instrument)
    score = spec.score(response.answers)
    baseline = None if day == 0 else baseline_score(course_id=course_id, instrument=response.instrument)
    if score is None or baseline is None:
        return {
            "score": score,
            "baseline_score": baseline,
            "improvement": None,
            "responder": None,
            "worsening": False,
        }
    is_responder, worsening = responder(spec, baseline, score)
    return {
        "score": score,
        "baseline_score": baseline,
        "improvement": improvement(spec, baseline, score),
        "responder": is_responder,
        "worsening": worsening,
    }


def answers_digest(answers: dict) -> str:
    """A short fingerprint of submitted answers for the audit chain's event: the answers stay in
    the response; a later change to them no longer matches the chained fingerprint."""
    canonical = json.dumps(answers, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def _plain(value: float | None) -> float | None:
    # Three decimals, as the published KOOS JR / HOOS JR tables give them; no float noise.
    return None if value is None else round(value, 3)


def describe(response: FormResponse) -> str:
    """One line for the case's timeline: what was scored and how it compares, never the answers."""
    spec = spec_of(response.instrument)
    parts = [
        f"{spec.title}: score {response.score:g}"
        if response.score is not None
        else f"{spec.title}: not scored"
    ]
    if response.baseline_score is not None:
        change = f"{response.improvement:+.1f}" if response.improvement is not None else "?"
        verdict = {True: "responder", False: "not a responder", None: "no MCID for a responder"}[
            response.responder
        ]
        parts.append(f"baseline {response.baseline_score:g}, improvement {change}, {verdict}")
        if response.worsening:
            parts.append("worse by at least the MCID")
    parts.append(f"answers sha256 {answers_digest(response.answers)}")
    return "; ".join(parts)


def follow_up_data(response: FormResponse) -> dict:
    """`referral.follow_up`'s `follow_up` (DESIGN.md, "Partners"): the scores of one instrument at
    one time point. Never an item's answer, free text or who entered it."""
    return {
        "id": str(response.pk),
        "day": response.time_point.day,
        "instrument": response.instrument,
        "score": _plain(response.score),
        "baseline": _plain(response.baseline_score),
        "improvement": _plain(response.improvement),
        "responder": response.responder,
        "completed_at": response.submitted_at.isoformat() if response.submitted_at else None,
    }


def trajectory(case_id: uuid.UUID | str) -> list[dict]:
    """Per instrument of the case's follow-up, its points in day order (every time point that asks
    it, answered or not), for the desk's chart and lists: [{"instrument", "title", "better",
    "score_min", "score_max", "mcid", "points": [{"day", "due_on", "state", "score", "baseline",
    "improvement", "responder", "worsening", "completed_at"}]}]."""
    points = list(TimePoint.objects.filter(case_id=case_id).order_by("day"))
    responses = {
        (response.time_point_id, response.instrument): response
        for response in FormResponse.objects.filter(case_id=case_id, submitted_at__isnull=False)
    }
    keys = list(dict.fromkeys(key for point in points for key in point.instruments))
    series = []
    for key in keys:
        spec = spec_of(key)
        rows = []
        for point in points:
            if key not in point.instruments:
                continue
            response = responses.get((point.pk, key))
            rows.append(
                {
                    "day": point.day,
                    "due_on": point.due_on,
                    "state": point.state,
                    "score": _plain(response.score) if response else None,
                    "baseline": _plain(response.baseline_score) if response else None,
                    "improvement": _plain(response.improvement) if response else None,
                    "responder": response.responder if response else None,
                    "worsening": response.worsening if response else False,
                    "completed_at": response.submitted_at if response else None,
                }
            )
        series.append(
            {
                "instrument": key,
                "title": spec.title,
                "better": spec.better,
                "score_min": spec.score_min,
                "score_max": spec.score_max,
                "mcid": spec.mcid,
                "points": rows,
            }
        )
    return series


def submit_responses(
    point: TimePoint, *, answers_by_instrument: dict[str, dict] | None, source: str, actor: Actor, now
) -> list[FormResponse]:
    """Score and freeze the time point's response to each of its instruments, each with its
    ANSWERED event in the case's chain, and mark the time point answered and its links used:
    the answers saved so far, or those given (the desk's, which replace a draft the patient
    left). ValidationError naming the questions still unanswered. The on_scored handlers run."""
    saved = {r.instrument: r for r in FormResponse.objects.select_for_update().filter(time_point=point)}
    answers = {key: saved[key].answers if key in saved else {} for key in point.instruments}
    if answers_by_instrument is not None:
        answers = {key: {} for key in point.instruments}
        errors: dict[str, list[str]] = {}
        for key, given in answers_by_instrument.items():
            if key not in point.instruments:
                errors[key] = [f"{_day_name(point)} does not ask {key}."]
                continue
            try:
                answers[key] = merge({}, clean_answers(spec_of(key), given))
            except ValidationError as refused:
                errors[key] = [
                    f"{question}: {'; '.join(why)}" for question, why in refused.message_dict.items()
                ]
        if errors:
            raise ValidationError(errors)
    missing = missing_answers(point, answers)
    if missing:
        raise ValidationError(missing)
    responses = []
    for key in point.instruments:
        response = saved.get(key) or FormResponse(time_point=point, case_id=point.case_id, instrument=key)
        response.answers, response.source, response.submitted_at, response.updated_at = (
            answers[key],
            source,
            now,
            now,
        )
        for name, value in scored_fields(response, day=point.day, course_id=point.course_id).items():
            setattr(response, name, value)
        response.save()
        note = f"{_day_name(point)} ({response.get_source_display().lower()}). {describe(response)}"
        record_event(point, case_id=point.case_id, kind=FollowUpEvent.Kind.ANSWERED, actor=actor, note=note)
        responses.append(response)
    move_point(point, TimePoint.State.COMPLETED, completed_at=now)
    Invitation.objects.filter(time_point=point, submitted_at__isnull=True).update(submitted_at=now)
    for response in responses:
        if response.score is not None:
            for handler in _scored_handlers:
                handler(response)
    return responses


def _day_name(point: TimePoint) -> str:
    return "The baseline" if point.day == 0 else f"Day {point.day}"


@transaction.atomic
def save_answers(*, token: str, instrument: str, answers: dict) -> FormResponse:
    """Save a patient's answers as they go (any number of times until the form is sent): each is
    checked against the instrument's question; an empty answer clears it."""
    invitation, point = usable_invitation(token)
    if instrument not in point.instruments:
        raise ValidationError({"instrument": [f"This form does not ask {instrument}."]})
    clean = clean_answers(spec_of(instrument), answers)
    now = timezone.now()
    response, _ = FormResponse.objects.select_for_update().get_or_create(
        time_point=point,
        instrument=instrument,
        defaults={"case_id": point.case_id, "source": FormResponse.Source.LINK},
    )
    if response.submitted_at is not None:
        raise LinkRefused(LinkRefused.USED)
    response.answers, response.updated_at = merge(response.answers, clean), now
    response.save(update_fields=["answers", "updated_at"])
    Invitation.objects.filter(pk=invitation.pk, opened_at__isnull=True).update(opened_at=now)
    return response


def due_for_invitation(*, today: date | None = None, limit: int = 500) -> list[TimePoint]:
    """Time points whose link is owed (the sweep issues them): waiting, due by today, on a course
    still open; never a sandbox course's (its answers are simulated)."""
    points = TimePoint.objects.filter(
        state=TimePoint.State.WAITING,
        due_on__lte=today or timezone.localdate(),
        sandbox=False,
        course__state__in=(CourseState.SCHEDULED, CourseState.TREATED, CourseState.FOLLOWING_UP),
    )
    return list(points.order_by("due_on", "day")[:limit])


def call_list(*, limit: int = 100) -> list[TimePoint]:
    """The desk's follow-up calls: time points on the call list, the longest due first (sandbox
    courses never: their answers are simulated)."""
    points = TimePoint.objects.filter(state=TimePoint.State.CALL, sandbox=False).select_related(
        "case__patient", "course"
    )
    return list(points.order_by(F("due_on").asc(nulls_last=True), "state_changed_at", "day")[:limit])
