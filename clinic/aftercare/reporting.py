"""Who reports what, by when: which rows of DESIGN.md's table apply to an adverse event, keeping its
ReportingClock rows in step with them, and the reads the board, the specialists' queue, the desk and
the partner events use.

The rules themselves are pure (clinic.aftercare.clocks); this module feeds them the event, the
protocol it was treated under and the DEVICE_USER_FACILITY setting. Sandbox events have no clocks and
appear in no list of work."""

import uuid
from datetime import datetime, tzinfo

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from clinic.aftercare import clocks
from clinic.aftercare.models import AdverseEvent, ReportingClock, TreatmentCourse
from clinic.aftercare.vocabulary import (
    DEFAULT_CLINIC_ROLE,
    REASONABLE_POSSIBILITY,
    AdverseEventSource,
    ClinicRole,
    ClockState,
    Triage,
)
from recommendations.models import Protocol

# 21 CFR 803.3: a serious injury is life-threatening, permanent impairment or damage, or needs
# intervention to prevent it (a hospitalization alone is not one).
DEVICE_SERIOUS_INJURY = frozenset({"life_threatening", "disability", "medical_intervention"})


def protocol_terms(course: TreatmentCourse) -> tuple[str, str, int | None]:
    """(basis, clinic role, irb_report_days): the basis from the decision's protocol snapshot, the
    role and days from the protocol version it names (a version is never edited), else the basis's
    default role (vocabulary.DEFAULT_CLINIC_ROLE), else user. A course without a protocol (a v1 or v2
    decision) has no basis and so no basis row."""
    snapshot = course.protocol or course.decision.protocol or {}
    basis = snapshot.get("basis") or ""
    row = None
    if snapshot.get("id") and snapshot.get("version"):
        row = Protocol.objects.filter(protocol_id=snapshot["id"], version=snapshot["version"]).first()
    role = (row.clinic_role if row else "") or DEFAULT_CLINIC_ROLE.get(basis, ClinicRole.USER)
    return basis, str(role), row.irb_report_days if row else None


def reasonable_possibility(ae: AdverseEvent) -> bool | None:
    """A reasonable possibility (312.32(a)) that the harvest or the product caused it: WHO-UMC
    certain, probable or possible on either. None while neither is assessed."""
    opinions = [value for value in (ae.relatedness_harvest, ae.relatedness_product) if value]
    return any(value in REASONABLE_POSSIBILITY for value in opinions) if opinions else None


def qualifies(ae: AdverseEvent) -> bool:
    """Serious, unexpected and a suspected adverse reaction: what makes 312.32(c) apply."""
    return ae.serious is True and ae.expected is False and reasonable_possibility(ae) is True


def rules_for_event(ae: AdverseEvent) -> list[clocks.ClockRule]:
    """The rows that apply to the event as it stands (none for a sandbox or dismissed report)."""
    if ae.sandbox or ae.triage == Triage.DISMISSED:
        return []
    basis, role, days = protocol_terms(ae.course)
    criteria = set(ae.seriousness_criteria or [])
    # 803.30: information that reasonably suggests the device caused or contributed; an unassessed
    # device relatedness does not hold the row back.
    device_possible = ae.relatedness_device in ("", *REASONABLE_POSSIBILITY)
    return clocks.rules_for(
        basis=basis,
        clinic_role=role,
        serious=ae.serious,
        expected=ae.expected,
        fatal_or_life_threatening=bool(criteria & {"death", "life_threatening"}),
        communicable_disease=ae.communicable_disease,
        reasonable_possibility=reasonable_possibility(ae),
        device_involved=ae.device_involved,
        device_related_death_or_injury=bool(
            ae.serious and device_possible and criteria & (DEVICE_SERIOUS_INJURY | {"death"})
        ),
        device_user_facility=bool(getattr(settings, "DEVICE_USER_FACILITY", False)),
        irb_report_days=days,
        device_death="death" in criteria,
        confirmed=ae.triage == Triage.CONFIRMED,
    )


def clock_start(ae: AdverseEvent, rule: clocks.ClockRule) -> datetime | None:
    if rule.starts_from == clocks.QUALIFIED:
        return ae.qualified_at
    if rule.starts_from == clocks.SERIOUS:
        return ae.serious_at or ae.received_at
    return ae.received_at


def clinic_zone() -> tzinfo:
    """The clinic's time zone (settings.TIME_ZONE, read from the environment): calendar and work
    days are counted there, whatever zone a request or a task has active."""
    return timezone.get_default_timezone()


def sync_clocks(ae: AdverseEvent) -> dict[str, list[str]]:
    """Make the event's clock rows match the rules that apply; the caller (clinic.aftercare.
    adverse_events) holds the event's row lock, so one writer at a time. A new row opens; a row that
    no longer applies becomes not_required (never deleted) and opens again if it applies again; a
    recorded submission stays as recorded. A row, once it has existed, keeps its first start and
    deadline: an assessment that flips and flips back, or an update arriving later, cannot restart
    a clock, so an overdue report stays overdue and its escalation still applies. Returns the keys
    opened and stopped, for the change row."""
    if ae.sandbox:
        return {}
    opened: list[str] = []
    stopped: list[str] = []
    existing = {row.rule: row for row in ReportingClock.objects.filter(adverse_event=ae)}
    wanted: set[str] = set()
    for rule in rules_for_event(ae):
        start = clock_start(ae, rule)
        if start is None:
            continue
        wanted.add(rule.key)
        terms = dict(recipient=rule.recipient, citation=rule.citation, form=rule.form)
        row = existing.get(rule.key)
        if row is None:
            due = clocks.deadline(start, rule, zone=clinic_zone())
            ReportingClock.objects.create(
                adverse_event=ae, case_id=ae.case_id, rule=rule.key, starts_at=start, due_at=due, **terms
            )
            opened.append(rule.key)
        elif row.state == ClockState.NOT_REQUIRED:
            ReportingClock.objects.filter(pk=row.pk).update(state=ClockState.OPEN, **terms)
            opened.append(rule.key)
    for key, row in existing.items():
        if key not in wanted and row.state == ClockState.OPEN:
            ReportingClock.objects.filter(pk=row.pk).update(state=ClockState.NOT_REQUIRED)
            stopped.append(key)
    return {
        name: keys for name, keys in (("clocks_opened", opened), ("clocks_not_required", stopped)) if keys
    }


def rule_note(key: str) -> str:
    """The sentence that goes with a row (who owes what, why there is no deadline), for the pages."""
    rule = clocks.RULES.get(key)
    return rule.note if rule else ""


# --- reads ----------------------------------------------------------------------------------------


def _open() -> "Q":
    return Q(state=ClockState.OPEN, adverse_event__sandbox=False)


def open_clocks(*, limit: int = 100) -> list[ReportingClock]:
    """Open rows, overdue first, then the soonest due; rows with no deadline (voluntary) last."""
    return list(
        ReportingClock.objects.filter(_open())
        .select_related("adverse_event", "case", "case__patient")
        .order_by(F("due_at").asc(nulls_last=True), "created_at")[:limit]
    )


def open_clock_counts() -> dict:
    """{"open": n, "overdue": m} for the board's and the queue's headers."""
    rows = ReportingClock.objects.filter(_open())
    return {"open": rows.count(), "overdue": rows.filter(due_at__lt=timezone.now()).count()}


def adverse_events_of(case_id: uuid.UUID | str, *, shared_only: bool = False) -> list[AdverseEvent]:
    """The case's adverse events, newest first. shared_only: only what may leave the clinic (a
    patient's flag once staff confirmed it; never a dismissed one)."""
    events = AdverseEvent.objects.filter(case_id=case_id).select_related("partner")
    if shared_only:
        events = events.exclude(triage=Triage.DISMISSED).exclude(
            Q(source=AdverseEventSource.PATIENT) & ~Q(triage=Triage.CONFIRMED)
        )
    return list(events.order_by("-received_at"))


def triage_queue(*, limit: int = 100) -> list[AdverseEvent]:
    """Reports waiting for staff to triage, oldest first; never a sandbox partner's test."""
    return list(
        AdverseEvent.objects.filter(triage=Triage.RECEIVED, sandbox=False)
        .select_related("case", "case__patient", "partner")
        .order_by("received_at")[:limit]
    )


def partner_adverse_event_data(ae: AdverseEvent) -> dict:
    """referral.adverse_event's `adverse_event` member (DESIGN.md, "Partners: events after the
    decision"): no description, reporter, relatedness or free text."""
    return {
        "id": str(ae.pk),
        "onset": ae.onset.isoformat(),
        "ctcae_grade": ae.ctcae_grade,
        "serious": ae.serious,
        "seriousness_criteria": list(ae.seriousness_criteria or []),
        "outcome": ae.outcome,
        "received_at": ae.received_at.isoformat(),
        "source": ae.source,
    }
