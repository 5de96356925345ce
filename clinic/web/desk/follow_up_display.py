"""What the desk shows of a course's follow-up, in words: each time point's state ("link emailed
2026-03-02, 1 reminder"), each instrument's score, its change from the baseline and whether that
is a response, the chart of scores by day, the call list's rows with why each patient is on it, and
the follow-up's steps in the case timeline. The patient's links are never shown: a token is the
patient's key to their answers. Reads only."""

from datetime import date
from types import SimpleNamespace

from django.db.models import Max
from django.utils import timezone

from clinic.aftercare import follow_up
from clinic.aftercare.instrument_library import get_instrument
from clinic.aftercare.instruments import InstrumentSpec
from clinic.aftercare.models import (
    ContactOptOut,
    FollowUpEvent,
    FormResponse,
    Invitation,
    TimePoint,
    TreatmentCourse,
)
from clinic.web.desk.wording import readable
from intake.models import Case

State = TimePoint.State
Kind = FollowUpEvent.Kind
OPEN = (State.WAITING, State.INVITED, State.CALL)
SOURCE_WORDS = {
    FormResponse.Source.LINK: "by the patient, from the link",
    FormResponse.Source.DESK: "at the desk",
    FormResponse.Source.PHONE: "by phone",
    FormResponse.Source.SANDBOX: "by the sandbox's simulation",
}


def number(value: float | None) -> str:
    """A score as the instrument publishes it: 3, 68.284 (three decimals at most, no float noise)."""
    return "" if value is None else f"{round(value, 3):g}"


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def day_name(day: int) -> str:
    return "Baseline" if day == 0 else f"Day {day}"


def after_words(day: int) -> str:
    """How long after the treatment a time point is, as people say it."""
    if day == 0:
        return "before treatment"
    if day % 365 == 0:
        return f"{plural(day // 365, 'year')} after treatment"
    if day in (182, 183):
        return "6 months after treatment"
    if day % 7 == 0:
        return f"{plural(day // 7, 'week')} after treatment"
    return f"{plural(day, 'day')} after treatment"


def due_words(due_on: date | None, today: date) -> str:
    if due_on is None:
        return "dated once the treatment is recorded"
    gap = (due_on - today).days
    when = "today" if gap == 0 else f"in {plural(gap, 'day')}" if gap > 0 else f"{plural(-gap, 'day')} ago"
    return f"{due_on:%Y-%m-%d} ({when})"


def threshold(spec: InstrumentSpec, baseline: float | None) -> float | None:
    """The improvement that makes a responder from this baseline: the MCID in points, or (pain NRS)
    its percentage of the baseline when that is smaller; None when the instrument has no MCID."""
    options = []
    if spec.mcid is not None:
        options.append(spec.mcid)
    if spec.mcid_percent is not None and baseline:
        options.append(spec.mcid_percent * abs(baseline) / 100)
    return min(options) if options else None


def mcid_words(spec: InstrumentSpec) -> str:
    if spec.mcid is None and spec.mcid_percent is None:
        return "no MCID for this instrument"
    parts = [f"{number(spec.mcid)} points"] if spec.mcid is not None else []
    if spec.mcid_percent is not None:
        parts.append(f"{number(spec.mcid_percent)} % of the baseline")
    return "MCID " + " or ".join(parts)


def verdict(spec: InstrumentSpec, row: dict) -> str:
    """A time point's result in words: responder, not a responder, worsened, or why neither."""
    if row["day"] == 0:
        return "baseline"
    if row["responder"] is True:
        return "responder"
    if row["worsening"]:
        return "worsened"
    if row["responder"] is False:
        return "not a responder"
    if row["baseline"] is None:
        return "no baseline to compare with"
    return "no MCID for this instrument"


def change_words(improvement: float | None) -> str:
    if improvement is None:
        return ""
    size = number(abs(round(improvement, 1)))
    if size == "0":
        return "no change from the baseline"
    better = "better" if improvement > 0 else "worse"
    return f"{size} point{'' if size == '1' else 's'} {better} than the baseline"


def _invitation_words(invitation: Invitation | None) -> str:
    if invitation is None:
        return "Link being made"
    if invitation.sent_at is None:
        return (
            f"Link made {timezone.localtime(invitation.created_at):%Y-%m-%d}; the email is waiting to be sent"
        )
    words = f"Link emailed {timezone.localtime(invitation.sent_at):%Y-%m-%d}"
    if invitation.reminders_sent:
        words += f", {plural(invitation.reminders_sent, 'reminder')}"
        if invitation.last_reminder_at:
            words += f" (the last {timezone.localtime(invitation.last_reminder_at):%Y-%m-%d})"
    if invitation.opened_at:
        words += f"; opened {timezone.localtime(invitation.opened_at):%Y-%m-%d}"
    return words + f"; valid until {timezone.localtime(invitation.expires_at):%Y-%m-%d}"


def call_reason(point: TimePoint, invitation: Invitation | None, note: str) -> str:
    """Why the patient is to be called, in a few words: no email, bounced, opted out, the email
    failed, or no answer after the link and its reminders (the call-list event's note says more)."""
    delivery = invitation.delivery if invitation else ""
    if delivery == Invitation.Delivery.NO_ADDRESS:
        return "No email address on file"
    if delivery == Invitation.Delivery.BOUNCED:
        return "The email bounced"
    if delivery == Invitation.Delivery.OPTED_OUT:
        patient = point.case.patient
        refused = ContactOptOut.objects.filter(patient=patient, email__iexact=(patient.email or "").strip())
        bounced = refused.filter(reason=ContactOptOut.Reason.BOUNCED).exists()
        return "The address bounced before" if bounced else "The patient opted out of email"
    if delivery == Invitation.Delivery.FAILED:
        return "The email could not be sent"
    if invitation is not None and invitation.expires_at <= timezone.now():
        return "The link expired unanswered"
    if invitation is not None and invitation.sent_at:
        return f"No answer after the link and {plural(invitation.reminders_sent, 'reminder')}"
    return readable(note) or "Put on the call list"


def _last_events(case_id) -> dict:  # {(time_point_id, kind): the newest such event}
    events = FollowUpEvent.objects.filter(case_id=case_id, time_point__isnull=False).order_by("chain_seq")
    return {(event.time_point_id, event.kind): event for event in events}


def _latest_invitations(points) -> dict:
    invitations = Invitation.objects.filter(time_point__in=points).order_by("created_at")
    return {invitation.time_point_id: invitation for invitation in invitations}


def state_words(point: TimePoint, invitation, events: dict, sources: set, today: date) -> str:
    if point.state == State.WAITING:
        if point.due_on is None or point.due_on > today:
            return "Not due yet"
        return "Due: the link is emailed with the next round"
    if point.state == State.INVITED:
        return _invitation_words(invitation)
    if point.state == State.CALL:
        event = events.get((point.pk, Kind.CALL_LIST))
        since = f"{timezone.localtime(point.state_changed_at):%Y-%m-%d}"
        return (
            f"On the call list since {since}: {call_reason(point, invitation, event.note if event else '')}"
        )
    if point.state == State.COMPLETED:
        how = " and ".join(sorted(SOURCE_WORDS.get(source, source) for source in sources)) or "answered"
        when = f"{timezone.localtime(point.completed_at):%Y-%m-%d}" if point.completed_at else ""
        return f"Answered {when} {how}".replace("  ", " ")
    event = events.get((point.pk, Kind.UNREACHABLE if point.state == State.UNREACHABLE else Kind.CLOSED))
    label = "Unreachable" if point.state == State.UNREACHABLE else "Closed unanswered"
    if event is None:
        return label
    by = f" ({event.actor_label}, {timezone.localtime(event.created_at):%Y-%m-%d})"
    return f"{label}{by}: {readable(event.note)}"


def can_act(point: TimePoint, course: TreatmentCourse, today: date) -> bool:
    """The desk offers to record answers or "unreachable" once a time point is due: its link went
    out, it is on the call list, or its day has come (an early answer is no answer for that day)."""
    if point.state not in OPEN or point.sandbox or course.facts.final:
        return False
    return point.state != State.WAITING or (point.due_on is not None and point.due_on <= today)


def section(case: Case, course: TreatmentCourse | None) -> dict | None:
    """The case page's "Follow-up": its time points with their state and scores, and a chart per
    instrument. None when the case has no course."""
    if course is None:
        return None
    points = list(TimePoint.objects.filter(course=course).order_by("day"))
    if not points:
        return {"points": [], "charts": []}
    today = timezone.localdate()
    series = follow_up.trajectory(case.pk)
    specs = {line["instrument"]: get_instrument(line["instrument"]) for line in series}
    rows = {(line["instrument"], row["day"]): row for line in series for row in line["points"]}
    events, invitations = _last_events(case.pk), _latest_invitations(points)
    sources: dict = {}
    for response in FormResponse.objects.filter(time_point__in=points, submitted_at__isnull=False):
        sources.setdefault(response.time_point_id, set()).add(response.source)
    for point in points:
        point.name, point.after = day_name(point.day), after_words(point.day)
        point.due_text = due_words(point.due_on, today)
        point.state_text = state_words(
            point, invitations.get(point.pk), events, sources.get(point.pk, set()), today
        )
        point.actionable = can_act(point, course, today)
        point.scores = []
        for key in point.instruments:
            row, spec = rows.get((key, point.day)), specs.get(key)
            if row is None or spec is None or row["score"] is None:
                continue
            point.scores.append(
                SimpleNamespace(
                    title=spec.title,
                    score=number(row["score"]),
                    scale=f"{number(spec.score_min)} to {number(spec.score_max)}",
                    change=change_words(row["improvement"]),
                    verdict=verdict(spec, row),
                )
            )
    return {"points": points, "charts": [chart(line, specs[line["instrument"]]) for line in series]}


# The chart's drawing area in SVG units (desk.css scales it to the page): scores up the left, days
# along the bottom, proportional to the days so a year looks like a year.
WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 420, 210, 40, 14, 14, 46
FRAME = {"width": WIDTH, "height": HEIGHT, "x1": LEFT, "x2": WIDTH - RIGHT, "y1": TOP, "y2": HEIGHT - BOTTOM}
FRAME |= {"plot_width": WIDTH - LEFT - RIGHT, "tick_end": HEIGHT - BOTTOM + 5}
# Each verdict's shape on the chart (desk/follow_up_chart.html), so no colour has to say it alone.
KINDS = {"baseline": "baseline", "responder": "responder", "worsened": "worsened", "not a responder": "not"}


def _ticks(low: float, high: float) -> list[float]:
    span = high - low
    steps = 5 if span % 5 == 0 else 4
    return [low + span * n / steps for n in range(steps + 1)]


def _at(value: float) -> str:
    return f"{value:.1f}"


def _shape(kind: str, x: float, y: float) -> str:
    """A point's outline as SVG path data: the baseline a square, a responder a diamond, a worsening
    a triangle pointing down, any other answer a circle."""
    corners = {
        "baseline": [(-6, -6), (6, -6), (6, 6), (-6, 6)],
        "responder": [(0, -8), (8, 0), (0, 8), (-8, 0)],
        "worsened": [(-7, -5), (7, -5), (0, 8)],
    }.get(kind)
    if corners is None:
        return f"M{_at(x - 6)} {_at(y)} a6 6 0 1 0 12 0 a6 6 0 1 0 -12 0 Z"
    return "M" + " L".join(f"{_at(x + dx)} {_at(y + dy)}" for dx, dy in corners) + " Z"


def chart(line: dict, spec: InstrumentSpec) -> dict:
    """One instrument's scores by day, as desk/follow_up_chart.html draws them: the baseline as a
    dashed line, the band of no clinically important change around it (the MCID either way; for the
    pain scale the smaller of its two thresholds on the better side), each answer a point whose shape
    says responder, not a responder, worsened or no verdict, and the same in words (desc, table)."""
    low, high = spec.score_min, spec.score_max
    days = [row["day"] for row in line["points"]] or [0]
    last = max(max(days), 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day: int) -> float:
        return LEFT + day / last * plot_w

    def y(score: float) -> float:
        return TOP + (high - min(max(score, low), high)) / (high - low) * plot_h

    answered = [row for row in line["points"] if row["score"] is not None]
    baseline = next((row["score"] for row in answered if row["day"] == 0), None)
    drawn, words, table = [], [], []
    for row in line["points"]:
        state = TimePoint.State(row["state"]).label.lower()
        if row["score"] is None:
            words.append(f"{day_name(row['day'])}: not answered ({state}).")
            table.append((day_name(row["day"]), "", "", f"not answered ({state})"))
            continue
        said = verdict(spec, row)
        change = change_words(row["improvement"])
        words.append(
            f"{day_name(row['day'])}: {number(row['score'])}{', ' + change if change else ''}, {said}."
        )
        table.append((day_name(row["day"]), number(row["score"]), change, said))
        px, py, kind = x(row["day"]), y(row["score"]), KINDS.get(said, "plain")
        # The value beside the baseline's point (above it would sit on the axis), above the others.
        above = py - 10 if py > TOP + 16 else py + 20
        at = (px + 10, py + 4, "start") if row["day"] == 0 else (px, above, "middle")
        drawn.append({"x": _at(px), "y": _at(py), "label": (_at(at[0]), _at(at[1]), at[2]), "kind": kind})
        drawn[-1] |= {"score": number(row["score"]), "title": words[-1], "shape": _shape(kind, px, py)}
    band = None
    if baseline is not None and spec.mcid is not None:
        better = 1 if spec.better == "higher" else -1
        respond_at = baseline + better * threshold(spec, baseline)
        worse_at = baseline - better * spec.mcid
        side = "more" if better == 1 else "less"
        top, bottom = y(max(respond_at, worse_at)), y(min(respond_at, worse_at))
        band = {
            "y": _at(top),
            "height": _at(bottom - top),
            "respond_y": _at(y(respond_at)),
            "respond_text": f"responder at {number(round(respond_at, 1))} or {side}",
            # Outside the band, away from the baseline's label.
            "respond_text_y": _at(y(respond_at) + (-5 if better == 1 else 14)),
        }
    direction = "higher is better" if spec.better == "higher" else "lower is better"
    mark = None if baseline is None else {"y": _at(y(baseline)), "text": f"baseline {number(baseline)}"}
    return {
        "key": line["instrument"],
        "title": spec.title,
        "direction": direction,
        "mcid_text": mcid_words(spec),
        "population": spec.population_note,
        "desc": f"{spec.title}, {direction}; {mcid_words(spec)}. " + " ".join(words),
        "frame": FRAME,
        "x_title": (_at(LEFT + plot_w / 2), HEIGHT - 8),
        "y_ticks": [{"y": _at(y(value)), "label": number(value)} for value in _ticks(low, high)],
        "x_ticks": [{"x": _at(x(day)), "label": str(day)} for day in days],
        "baseline": mark,
        "band": band,
        "line": " ".join(f"{p['x']},{p['y']}" for p in drawn),
        "points": drawn,
        "table": table,
    }


def answered_words(point: TimePoint) -> str:
    """After the desk records a time point: each instrument's score and verdict, in one message."""
    parts = []
    for response in FormResponse.objects.filter(time_point=point).order_by("instrument"):
        spec = get_instrument(response.instrument)
        row = {"day": point.day, "baseline": response.baseline_score}
        row |= {"responder": response.responder, "worsening": response.worsening}
        change = change_words(response.improvement)
        said = f" ({change + ', ' if change else ''}{verdict(spec, row)})" if point.day else ""
        parts.append(f"{spec.title}: {number(response.score)}{said}")
    return "; ".join(parts)


def call_rows(points: list[TimePoint]) -> list[TimePoint]:
    """The follow-up call list's rows: each time point with its patient, what is due and why."""
    today = timezone.localdate()
    invitations = _latest_invitations(points)
    events = FollowUpEvent.objects.filter(time_point__in=points, kind=Kind.CALL_LIST).order_by("chain_seq")
    notes = {event.time_point_id: event.note for event in events}
    for point in points:
        point.name, point.after = day_name(point.day), after_words(point.day)
        point.due_text = due_words(point.due_on, today)
        point.overdue = bool(point.due_on and point.due_on < today)
        point.why = call_reason(point, invitations.get(point.pk), notes.get(point.pk, ""))
        point.why_note = readable(notes.get(point.pk, ""))
        point.titles = [get_instrument(key).title for key in point.instruments]
    return points


def calls_count() -> int:
    return TimePoint.objects.filter(state=State.CALL, sandbox=False).count()


def timeline_items(case: Case) -> list[SimpleNamespace]:
    """The follow-up's steps, shaped as desk/case_detail.html draws a timeline entry."""
    return [
        SimpleNamespace(
            created_at=event.created_at,
            chain_seq=event.chain_seq,
            kind="status",
            to_status_label=_heading(event.get_kind_display()),  # "Follow-up scheduled" as it is
            actor_label=event.actor_label,
            note_text=readable(event.note),
        )
        for event in FollowUpEvent.objects.filter(case_id=case.pk).order_by("chain_seq")
    ]


def _heading(kind: str) -> str:
    return kind if kind.startswith("Follow-up") else f"Follow-up: {kind.lower()}"


def board_version() -> str:
    """When the follow-up last changed (every step is an event row): the board redraws."""
    latest = FollowUpEvent.objects.aggregate(latest=Max("created_at"))["latest"]
    return latest.isoformat() if latest else ""
