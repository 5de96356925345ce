"""An adverse event, its changes and its clocks in the words the review desk reads (no codes)."""

from dataclasses import dataclass

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.text import Truncator
from django.utils.timesince import timesince

from clinic.aftercare import clocks
from clinic.aftercare.admin.forms import CTCAE_GRADES
from clinic.aftercare.models import AdverseEvent, AdverseEventChange, ReportingClock
from clinic.aftercare.vocabulary import (
    AdverseEventOutcome,
    AdverseEventSource,
    ClockState,
    Relatedness,
    ReporterQualification,
    SeriousnessCriterion,
    Triage,
)

FIELD_LABELS = {
    "onset": "Onset",
    "description": "Description",
    "ctcae_grade": "CTCAE grade",
    "serious": "Serious",
    "seriousness_criteria": "Seriousness criteria",
    "communicable_disease": "Communicable disease",
    "device_involved": "Device involved",
    "relatedness_harvest": "Related to the harvest procedure",
    "relatedness_product": "Related to the product",
    "relatedness_device": "Related to the device",
    "relatedness_opinion": "Reporter's view of relatedness",
    "expected": "Expected",
    "outcome": "Outcome",
    "action_taken": "Action taken",
    "triage": "Triage",
    "note": "Note",
    "reporter_name": "Reporter",
    "reporter_qualification": "Reporter's qualification",
    "external_id": "Partner's reference",
    "clocks_opened": "Reporting clocks opened",
    "clocks_not_required": "Reporting clocks no longer required",
    "clock": "Reporting clock",
    "submitted_at": "Submitted on",
    "recipient": "Submitted to",
    "reference": "Their reference",
}
# Rule keys (clinic.aftercare.clocks) as the citation and recipient a person reads.
CLOCK_FIELDS = ("clocks_opened", "clocks_not_required", "clock")
GRADE_WORDS = {grade: words.split(":", 1)[1].split(";", 1)[0].strip() for grade, words in CTCAE_GRADES}


def _choice(choices, value) -> str:
    return choices(value).label if value in choices.values else str(value)


def _rule(key: str) -> str:
    rule = clocks.RULES.get(key)
    return f"{rule.citation} (to {rule.recipient})" if rule else key


def in_words(field: str, value) -> str:
    """One field's value as a person reads it."""
    if field in CLOCK_FIELDS:
        return "; ".join(_rule(key) for key in ([value] if isinstance(value, str) else value or []))
    if field == "submitted_at" and isinstance(value, str):
        moment = parse_datetime(value)
        return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}" if moment else value
    if field == "reporter_qualification":
        return _choice(ReporterQualification, value)
    if field == "triage":
        return _choice(Triage, value)
    if field == "description":
        return Truncator(str(value)).chars(160)
    if value is None or value == "":
        return "not assessed yet" if field != "action_taken" else "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if field == "ctcae_grade":
        return f"{value} ({GRADE_WORDS.get(int(value), '')})"
    if field == "seriousness_criteria":
        return ", ".join(_choice(SeriousnessCriterion, code) for code in value) or "none"
    if field.startswith("relatedness"):
        return _choice(Relatedness, value)
    if field == "outcome":
        return _choice(AdverseEventOutcome, value)
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


@dataclass(frozen=True)
class ChangeRow:
    at: str
    kind: str
    by: str
    changes: list[tuple[str, str]]
    note: str


def history(event: AdverseEvent) -> list[ChangeRow]:
    rows = []
    for change in AdverseEventChange.objects.filter(adverse_event=event).order_by("chain_seq"):
        items = (change.changes or {}).items()
        if change.kind == AdverseEventChange.Kind.REPORTED:
            # A first report lists what it said; what it left blank is no change.
            items = [(name, value) for name, value in items if value not in (None, "", [])]
        changed = [
            (FIELD_LABELS.get(name, name.replace("_", " ")), in_words(name, value)) for name, value in items
        ]
        rows.append(
            ChangeRow(
                at=f"{timezone.localtime(change.received_at):%Y-%m-%d %H:%M}",
                kind=change.get_kind_display(),
                by=change.actor_label,
                changes=changed,
                note=change.note,
            )
        )
    return rows


def reported_facts(event: AdverseEvent) -> list[tuple[str, str]]:
    """What was reported, and by whom: the part of the event the assessment does not change."""
    source = _choice(AdverseEventSource, event.source)
    if event.partner_id:
        source = f"{source}: {event.partner.name}"
    facts = [
        ("Source", source),
        ("Received", f"{timezone.localtime(event.received_at):%Y-%m-%d %H:%M}"),
        ("Onset", f"{event.onset:%Y-%m-%d}"),
    ]
    if event.reporter_name:
        qualification = _choice(ReporterQualification, event.reporter_qualification)
        facts.append(("Reporter", f"{event.reporter_name} ({qualification})"))
    if event.relatedness_opinion:
        facts.append(("Reporter's view of relatedness", _choice(Relatedness, event.relatedness_opinion)))
    facts.append(("Triage", event.get_triage_display()))
    return facts


def form_words(form: str) -> str:
    """ "Form 3500A", "Form 3500A or narrative", "The sponsor's form"."""
    return f"Form {form}" if form[:1].isdigit() else form


def clock_due(clock: ReportingClock) -> str:
    """ "Overdue by 2 days", "due in 5 hours", "no deadline (voluntary)" or what was recorded."""
    if clock.state == ClockState.SUBMITTED:
        return f"submission recorded {timezone.localtime(clock.submitted_at):%Y-%m-%d}"
    if clock.state == ClockState.NOT_REQUIRED:
        return "no longer required"
    if clock.due_at is None:
        return "no deadline (voluntary)"
    now = timezone.now()
    if clock.due_at < now:
        return f"overdue by {timesince(clock.due_at, now, depth=2)}"
    return f"due in {timesince(now, clock.due_at, depth=2)}"
