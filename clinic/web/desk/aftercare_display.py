"""What the desk's pages show of a treatment course and its adverse events, in words: the treatment
section of the case page, the course's steps merged into the case timeline, due times said as
"overdue by 2 days" (never by colour alone), the board's course cards and clock rows. Reads only."""

from datetime import datetime, timedelta
from types import SimpleNamespace

from django.db.models import Max
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from clinic.aftercare import clocks, reporting
from clinic.aftercare import selectors as aftercare
from clinic.aftercare.models import (
    AdverseEvent,
    AdverseEventChange,
    CourseEvent,
    TreatmentAddendum,
    TreatmentCourse,
    TreatmentRecord,
)
from clinic.aftercare.statuses import CourseState
from clinic.aftercare.vocabulary import AdverseEventOutcome, ClockState, SeriousnessCriterion
from clinic.web.desk.wording import readable
from intake.models import Case
from intake.vocabulary.body_sites import BODY_SITES
from recommendations.decision_protocols import TREATMENT_ROUTES
from recommendations.models import FinalRoute

# CTCAE v5.0's general grade definitions: severity, never seriousness.
CTCAE_GRADES = [
    (1, "1 Mild: no or mild symptoms; observation only; no intervention needed"),
    (2, "2 Moderate: minimal, local or non-invasive intervention; limits instrumental daily activities"),
    (3, "3 Severe or medically significant, not immediately life-threatening; limits self-care"),
    (4, "4 Life-threatening consequences; urgent intervention needed"),
    (5, "5 Death related to the adverse event"),
]
# 21 CFR 1271.90(c): the legends a product exempt from donor eligibility carries, as they apply.
LABEL_LEGENDS = [
    (legend, legend)
    for legend in (
        "FOR AUTOLOGOUS USE ONLY",
        "NOT EVALUATED FOR INFECTIOUS SUBSTANCES",
        "WARNING: Advise patient of communicable disease risks",
        "WARNING: Reactive test results for communicable disease agent(s)",
    )
]
GRADE_WORDS = {1: "mild", 2: "moderate", 3: "severe", 4: "life-threatening", 5: "death"}
CRITERIA = dict(SeriousnessCriterion.choices)
OUTCOMES = dict(AdverseEventOutcome.choices)
# The treatment routes a course has (a decision of another route opens none).
ROUTE_LABELS = {route: FinalRoute(route).label for route in TREATMENT_ROUTES}


def span(delta: timedelta) -> str:
    """A length of time as a person says it: "15 days" (whole days from a day and a half on, rounded),
    "1 day 4 hours", "3 hours", "12 minutes"."""
    minutes = max(round(delta.total_seconds() / 60), 1)

    def n(count: int, unit: str) -> str:
        return f"{count} {unit}{'s' if count != 1 else ''}"

    if minutes >= 36 * 60:
        return n(round(minutes / 1440), "day")
    hours = minutes // 60
    if hours >= 24:
        return n(1, "day") + (f" {n(hours - 24, 'hour')}" if hours > 24 else "")
    return n(hours, "hour") if hours else n(minutes, "minute")


def due_words(due_at: datetime | None, now: datetime) -> tuple[str, bool]:
    """("overdue by 2 days", True), ("due in 5 hours", False), or no deadline."""
    if due_at is None:
        return "no deadline (a voluntary report)", False
    if due_at < now:
        return f"overdue by {span(now - due_at)}", True
    return f"due in {span(due_at - now)}", False


def local(moment: datetime | None) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}" if moment else ""


def sites_text(codes) -> str:
    return ", ".join(BODY_SITES.get(code, code) for code in codes) or "none (systemic)"


def signer_name(user) -> str:
    profile = getattr(user, "specialist_profile", None)
    if profile is not None and profile.complete:
        return str(profile)
    return user.get_username()


def sign_url(entry) -> str | None:
    """The review desk's page where the performer signs the entry (None until it exists)."""
    try:
        return reverse("admin:aftercare_treatmententry_sign", args=[entry.pk])
    except NoReverseMatch:
        pass
    try:
        return reverse("admin:aftercare_treatmententry_changelist") + f"{entry.pk}/sign/"
    except NoReverseMatch:
        return None


def clock_row(clock, now: datetime):
    # "Report to the IRB", mid-sentence.
    recipient = clock.recipient
    clock.recipient_text = "the" + recipient[3:] if recipient.startswith("The ") else recipient
    clock.due_text, clock.overdue = due_words(clock.due_at, now)
    clock.due_local = local(clock.due_at)
    return clock


def event_summary(event: AdverseEvent) -> str:
    grade = (
        f"grade {event.ctcae_grade} ({GRADE_WORDS[event.ctcae_grade].lower()})"
        if event.ctcae_grade
        else "not graded"
    )
    if event.serious is None:
        serious = "seriousness not assessed"
    elif event.serious:
        serious = "serious: " + ", ".join(CRITERIA.get(c, c).lower() for c in event.seriousness_criteria)
    else:
        serious = "not serious"
    return f"{grade}, {serious}"


def _annotated(event: AdverseEvent, now: datetime) -> AdverseEvent:
    event.summary = event_summary(event)
    event.grade_words = GRADE_WORDS.get(event.ctcae_grade, "")
    event.criteria_labels = [CRITERIA.get(c, c) for c in event.seriousness_criteria]
    event.all_clocks = [clock_row(c, now) for c in event.clocks.order_by("due_at", "created_at")]
    event.open_clocks = [c for c in event.all_clocks if c.state == ClockState.OPEN]
    return event


def treatment(case: Case, course: TreatmentCourse | None) -> dict:
    """The case page's "Treatment" section (empty when the case has no course)."""
    if course is None:
        return {"course": None}
    now = timezone.now()
    records = list(course.records.order_by("session", "signed_at").prefetch_related("addenda"))
    for record in records:
        record.route_label = ROUTE_LABELS.get(record.route, record.route)
        record.sites_text = sites_text(record.sites)
    entries = list(
        course.entries.filter(signed_record__isnull=True)
        .select_related("performer__specialist_profile")
        .order_by("session", "entered_at")
    )
    for entry in entries:
        entry.performer_name = signer_name(entry.performer)
        entry.sign_url = sign_url(entry)
        entry.route_label = ROUTE_LABELS.get(entry.route, entry.route)
    events = [_annotated(e, now) for e in reporting.adverse_events_of(case.pk)]
    nxt = course.facts.next
    appointment_text, appointment_passed = "", False
    if course.appointment_at and course.state != CourseState.SCHEDULED:
        appointment_text = local(course.appointment_at)
    elif course.appointment_at:
        appointment_passed = course.appointment_at < now
        words = due_words(course.appointment_at, now)[0]
        words = words.replace("overdue by", "passed").replace("due in", "in")
        appointment_text = f"{local(course.appointment_at)} ({words}{' ago' if appointment_passed else ''})"
    return {
        "course": course,
        "route_label": ROUTE_LABELS.get(course.route, course.route),
        "appointment_text": appointment_text,
        "appointment_passed": appointment_passed,
        "records": records,
        "entries": entries,
        "adverse_events": events,
        "can_schedule": course.state == CourseState.SCHEDULED,
        "can_cancel": CourseState.CANCELLED in nxt,
        "can_complete": CourseState.COMPLETED in nxt,
        "can_follow_up": CourseState.FOLLOWING_UP in nxt,
        "can_lose": CourseState.LOST_TO_FOLLOW_UP in nxt,
        "can_enter": not course.facts.final,
    }


def _item(at, seq, heading: str, actor: str, note: str = "") -> SimpleNamespace:
    # The shape of a case event as desk/case_detail.html draws it (a bold heading, who, a note).
    return SimpleNamespace(
        created_at=at,
        chain_seq=seq,
        kind="status",
        to_status_label=heading,
        actor_label=actor,
        note_text=note,
    )


# What a change row's names read as on the pages; the description and empty values are left out.
CHANGE_WORDS = {
    "onset": "onset",
    "ctcae_grade": "grade",
    "serious": "serious",
    "seriousness_criteria": "criteria",
    "communicable_disease": "communicable disease",
    "device_involved": "device involved",
    "expected": "expected",
    "relatedness_product": "product relatedness",
    "relatedness_harvest": "harvest relatedness",
    "relatedness_device": "device relatedness",
    "outcome": "outcome",
    "triage": "triage",
    "clocks_opened": "reporting clock opened",
    "clocks_not_required": "reporting clock no longer required",
    "recipient": "sent to",
    "reference": "reference",
}


def _change_value(name: str, value) -> str:
    if name == "seriousness_criteria":
        return ", ".join(CRITERIA.get(code, code).lower() for code in value)
    if name.startswith("clocks_"):
        return ", ".join(clocks.RULES[key].citation if key in clocks.RULES else key for key in value)
    if name == "outcome":
        return OUTCOMES.get(value, value).lower()
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _change_note(change: AdverseEventChange) -> str:
    words = [
        f"{CHANGE_WORDS[name]} {_change_value(name, value)}"
        for name, value in (change.changes or {}).items()
        if name in CHANGE_WORDS and value not in ("", None, [])
    ]
    text = "; ".join(words)
    return f"{change.note} ({text})" if change.note and text else change.note or text


def timeline(case: Case, course: TreatmentCourse | None, case_events: list) -> list:
    """The case's events with the course's steps, its records and addenda, and every adverse event
    change, in the order they happened."""
    if course is None:
        return case_events
    items = list(case_events)
    for row in aftercare.course_timeline(course):
        if isinstance(row, CourseEvent):
            heading = (
                f"Treatment course: {row.to_state_label}"
                if row.kind == CourseEvent.Kind.STATE
                else "Treatment course"
            )
            items.append(_item(row.created_at, row.chain_seq, heading, row.actor_label, readable(row.note)))
        elif isinstance(row, TreatmentRecord):
            note = f"{ROUTE_LABELS.get(row.route, row.route)}, {sites_text(row.sites)}; lot {row.lot}"
            items.append(
                _item(
                    row.signed_at,
                    row.chain_seq,
                    f"Treatment record signed (session {row.session})",
                    row.signature,
                    note,
                )
            )
        elif isinstance(row, TreatmentAddendum):
            heading = f"Addendum to treatment record (session {row.record.session})"
            items.append(
                _item(
                    row.created_at,
                    row.chain_seq,
                    heading,
                    f"{row.signed_name}, {row.signed_credentials}",
                    row.reason,
                )
            )
    for event in reporting.adverse_events_of(case.pk):
        for change in event.changes.all():
            heading = f"Adverse event: {change.get_kind_display().lower()}"
            items.append(
                _item(change.received_at, change.chain_seq, heading, change.actor_label, _change_note(change))
            )
    return sorted(items, key=lambda e: (e.created_at, e.chain_seq or 0))


def course_card(course: TreatmentCourse, now: datetime) -> SimpleNamespace:
    """A board card: whose course, its state and what is due."""
    unbooked = course.state == CourseState.SCHEDULED and course.appointment_at is None
    passed = course.state == CourseState.SCHEDULED and bool(
        course.appointment_at and course.appointment_at < now
    )
    if unbooked:
        due = "No appointment yet: book it on the case page"
    elif course.state == CourseState.SCHEDULED:
        words = due_words(course.appointment_at, now)[0]
        due = f"Appointment {local(course.appointment_at)}, " + (
            words.replace("overdue by", "passed") + " ago: record it or rebook"
            if passed
            else words.replace("due ", "")
        )
    else:
        due = f"{course.get_state_display()} since {local(course.state_changed_at)}"
    return SimpleNamespace(
        course=course,
        case=course.case,
        unbooked=unbooked,
        passed=passed,
        due=due,
        route_label=ROUTE_LABELS.get(course.route, course.route),
    )


def adverse_event(event: AdverseEvent) -> dict:
    """The adverse event page: the event with its clocks, its changes in order."""
    _annotated(event, timezone.now())
    changes = list(event.changes.order_by("chain_seq"))
    for change in changes:
        change.note_text = _change_note(change)
    return {"changes": changes}


def board_lists() -> dict:
    """The board's treatment courses and open reporting clocks, each ordered by what is due."""
    now = timezone.now()
    return {
        "courses": [course_card(c, now) for c in aftercare.courses_for_board()],
        "clocks": [clock_row(c, now) for c in reporting.open_clocks()],
        "clock_counts": reporting.open_clock_counts(),
    }


def board_version() -> str:
    """When a course or an adverse event last changed (each change is an event row)."""
    course = CourseEvent.objects.aggregate(latest=Max("created_at"))["latest"]
    event = AdverseEventChange.objects.aggregate(latest=Max("received_at"))["latest"]
    return "|".join(moment.isoformat() if moment else "" for moment in (course, event))
