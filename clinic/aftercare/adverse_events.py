"""Adverse events: a report (staff, partner or patient), a partner's updates, the clinic's assessment
and triage, a recorded submission, and the reporting clocks they open (DESIGN.md, "Adverse events").

One function per use case, each in one transaction. An event changes only here: every change appends
an AdverseEventChange to the case's audit chain in the same transaction, and nothing is deleted. An
edit names the version it was made on and runs under the event's row lock, so of two edits made at
once one wins and the other gets StaleEdit; a partner's repeated external_id meets the unique
constraint, so the same report posted twice at once makes one event (DuplicateReport)."""

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic.aftercare.adverse_event_values import (
    TEXT_LIMIT,
    clean_assessment,
    clean_report_values,
    clean_update_values,
    coherence_errors,
    plain,
    text,
)
from clinic.aftercare.errors import DuplicateReport, DuplicateUpdate, StaleEdit, WrongState
from clinic.aftercare.models import AdverseEvent, AdverseEventChange, ReportingClock, TreatmentCourse
from clinic.aftercare.reporting import qualifies, sync_clocks
from clinic.aftercare.vocabulary import AdverseEventSource, ClockState, Triage
from intake import chain
from intake.roles import is_desk_user
from intake.workflow import Actor
from recommendations.review import is_specialist

# The contract's names for a partner's report and update (DESIGN.md, "Partner reports"), and what
# the clinic's assessment records.
REPORT_FIELDS = tuple(
    "external_id onset description ctcae_grade serious seriousness_criteria outcome action_taken reporter "
    "relatedness_opinion".split()
)
UPDATE_FIELDS = ("external_id", "outcome", "ctcae_grade", "serious", "seriousness_criteria", "note")
ASSESSMENT_FIELDS = tuple(
    "ctcae_grade serious seriousness_criteria communicable_disease device_involved relatedness_harvest "
    "relatedness_product relatedness_device expected outcome action_taken".split()
)
PATIENT = Actor(label="patient (follow-up form)")

Handler = Callable[[AdverseEvent], None]
_serious_confirmed: list[Handler] = []


def on_serious_confirmed(handler: Handler) -> None:
    """Register what follows staff confirming a serious event, or an update making one serious (the
    partner's referral.adverse_event row): called in the transaction. Twice is a no-op."""
    if handler not in _serious_confirmed:
        _serious_confirmed.append(handler)


def clean_report(*, course: TreatmentCourse, values: dict, source: str = AdverseEventSource.PARTNER) -> dict:
    """The report's values under the model's field names, or ValidationError keyed by the contract's
    names. A partner must send external_id and the reporter; staff may add the assessment's fields."""
    return clean_report_values(values, source=source, decided_on=_decided_on(course))


def _decided_on(course: TreatmentCourse):
    return timezone.localdate(course.decision.decided_at)


# --- writing ------------------------------------------------------------------------------------


def _stamp(ae: AdverseEvent, now: datetime, *, learned_at: datetime | None = None) -> None:
    """serious_at: when the clinic learned what makes it serious, where rows counted from receipt
    start. That is the event's receipt unless a partner's update made it serious (`learned_at`, the
    update's own receipt): staff judging it serious later, in an assessment or at triage, learned of
    the event when it arrived, so a 24-hour or 10-work-day row is not late by their delay.
    qualified_at: when what makes 312.32(c) apply was recorded. Each is cleared when it stops; the
    clock rows keep their first start all the same (reporting.sync_clocks)."""
    if ae.serious is not True:
        ae.serious_at = None
    elif ae.serious_at is None:
        ae.serious_at = learned_at or ae.received_at
    if not qualifies(ae):
        ae.qualified_at = None
    elif ae.qualified_at is None:
        ae.qualified_at = now


def _locked(adverse_event_id: uuid.UUID | str, **filters) -> AdverseEvent:
    return (
        AdverseEvent.objects.select_for_update(of=("self",))
        .select_related("course__decision")
        .get(pk=adverse_event_id, **filters)
    )


def _check_version(ae: AdverseEvent, version: int) -> None:
    if ae.version != version:
        raise StaleEdit(
            f"Someone else changed this adverse event after you opened it (it is now at version "
            f"{ae.version}, you edited version {version}). Reload it, look at their change, then make "
            "yours again; nothing was changed."
        )


def _save(ae: AdverseEvent, fields: dict, *, now: datetime, learned_at: datetime | None = None) -> None:
    """Write `fields` and the stamps with a compare-and-set on the version the lock read."""
    for name, value in fields.items():
        setattr(ae, name, value)
    _stamp(ae, now, learned_at=learned_at)
    written = AdverseEvent.objects.filter(pk=ae.pk, version=ae.version).update(
        **fields,
        serious_at=ae.serious_at,
        qualified_at=ae.qualified_at,
        triaged_at=ae.triaged_at,
        triaged_by=ae.triaged_by,
        triage=ae.triage,
        version=ae.version + 1,
        updated_at=now,
    )
    if written != 1:  # only without the lock (a caller's bug): refuse rather than overwrite
        raise StaleEdit("This adverse event changed while it was being saved; reload it and try again.")
    ae.version += 1
    ae.updated_at = now


def _change(
    ae: AdverseEvent, *, kind: str, actor: Actor, source: str, now: datetime, **fields
) -> AdverseEventChange:
    return chain.append(
        AdverseEventChange(
            adverse_event=ae,
            case_id=ae.case_id,
            kind=kind,
            source=source,
            actor=actor.user,
            actor_label=actor.label,
            received_at=now,
            **fields,
        )
    )


def _announce(ae: AdverseEvent, *, was_serious: bool, was_confirmed: bool, by_update: bool = False) -> None:
    """Staff confirmed a serious event, or a partner's update made one serious: tell the handlers."""
    if ae.serious is not True or ae.triage == Triage.DISMISSED:
        return
    confirmed_now = ae.triage == Triage.CONFIRMED and not (was_serious and was_confirmed)
    if confirmed_now or (by_update and not was_serious):
        for handler in _serious_confirmed:
            handler(ae)


@transaction.atomic
def report_adverse_event(
    *,
    course_id: uuid.UUID | str,
    source: str,
    actor: Actor,
    values: dict,
    partner=None,
    external_id: str | None = None,
) -> AdverseEvent:
    """Record a report. A partner's waits for triage (received); staff entering one is the triage
    (confirmed); a sandbox course's report is a test (no clocks, never triaged)."""
    course = TreatmentCourse.objects.select_related("decision").get(pk=course_id)
    if source not in AdverseEventSource.values:
        raise ValueError(f"Unknown adverse-event source {source!r}")
    if (source == AdverseEventSource.PARTNER) != (partner is not None):
        raise ValueError("A partner's report names its partner, and only a partner's report does.")
    if external_id is not None:
        values = {**values, "external_id": external_id}
    cleaned = clean_report(course=course, values=values, source=source)
    now = timezone.now()
    staff = source == AdverseEventSource.STAFF
    ae = AdverseEvent(
        case_id=course.case_id,
        course=course,
        source=source,
        partner=partner,
        received_at=now,
        updated_at=now,
        sandbox=course.sandbox,
        triage=Triage.CONFIRMED if staff else Triage.RECEIVED,
        triaged_at=now if staff else None,
        triaged_by=actor.user if staff else None,
        **cleaned,
    )
    _stamp(ae, now)
    if partner is not None:
        _insert_once(ae, partner=partner)
    else:
        ae.save(force_insert=True)
    clock_keys = sync_clocks(ae)
    _change(
        ae,
        kind=AdverseEventChange.Kind.REPORTED,
        actor=actor,
        source=source,
        now=now,
        changes={name: plain(value) for name, value in cleaned.items()} | clock_keys,
    )
    _announce(ae, was_serious=False, was_confirmed=False)
    return ae


def _insert_once(ae: AdverseEvent, *, partner) -> None:
    """Insert a partner's report unless its external_id is taken: the unique constraint decides, so
    of two identical posts racing one inserts and the other waits for it, then gets DuplicateReport."""
    try:
        with transaction.atomic():
            ae.save(force_insert=True)
    except IntegrityError:
        first = AdverseEvent.objects.filter(partner=partner, external_id=ae.external_id).first()
        if first is None:
            raise
        raise DuplicateReport(
            f"You already reported an adverse event with external_id {ae.external_id!r} (adverse event "
            f"{first.pk}); send new information as an update to it.",
            adverse_event_id=first.pk,
        ) from None


@transaction.atomic
def update_from_partner(
    *, adverse_event_id: uuid.UUID | str, partner, external_id: str, values: dict
) -> AdverseEventChange:
    """Append a partner's new information to its own report (AdverseEvent.DoesNotExist for another's).
    The same external_id twice on one report is DuplicateUpdate; an update that makes the event
    serious starts the serious clock at its own received_at."""
    ae = _locked(adverse_event_id, partner=partner)
    cleaned, note = clean_update_values({**values, "external_id": external_id}, current=ae)
    earlier = AdverseEventChange.objects.filter(adverse_event=ae, external_id=cleaned["external_id"]).first()
    if earlier is not None:
        raise DuplicateUpdate(
            f"This report already has an update with external_id {earlier.external_id!r} "
            f"(update {earlier.pk}); nothing was added.",
            change_id=earlier.pk,
        )
    external_id = cleaned.pop("external_id")
    was_serious, was_confirmed = ae.serious is True, ae.triage == Triage.CONFIRMED
    now = timezone.now()
    _save(ae, cleaned, now=now, learned_at=now)
    clock_keys = sync_clocks(ae)
    change = _change(
        ae,
        kind=AdverseEventChange.Kind.UPDATE,
        actor=Actor(label=f"partner: {partner.name}"),
        source=AdverseEventSource.PARTNER,
        now=now,
        external_id=external_id,
        note=note,
        changes={name: plain(value) for name, value in cleaned.items()} | clock_keys,
    )
    _announce(ae, was_serious=was_serious, was_confirmed=was_confirmed, by_update=True)
    return change


@transaction.atomic
def assess_adverse_event(
    *, adverse_event_id: uuid.UUID | str, user, version: int, values: dict
) -> AdverseEvent:
    """A specialist records the clinic's assessment (grade, seriousness, relatedness, expectedness,
    outcome...). Only the fields given change; the clocks follow."""
    if not is_specialist(user):
        raise PermissionDenied("Only specialists may assess adverse events.")
    ae = _locked(adverse_event_id)
    _check_version(ae, version)
    cleaned = clean_assessment(values)
    errors = coherence_errors({name: getattr(ae, name) for name in ASSESSMENT_FIELDS} | cleaned)
    if errors:
        raise ValidationError(errors)
    changed = {name: value for name, value in cleaned.items() if getattr(ae, name) != value}
    if not changed:
        return ae
    was_serious, was_confirmed = ae.serious is True, ae.triage == Triage.CONFIRMED
    now = timezone.now()
    _save(ae, changed, now=now)
    clock_keys = sync_clocks(ae)
    _change(
        ae,
        kind=AdverseEventChange.Kind.ASSESSMENT,
        actor=Actor.of_user(user),
        source=AdverseEventSource.STAFF,
        now=now,
        changes={name: plain(value) for name, value in changed.items()} | clock_keys,
    )
    _announce(ae, was_serious=was_serious, was_confirmed=was_confirmed)
    return ae


@transaction.atomic
def triage_adverse_event(
    *, adverse_event_id: uuid.UUID | str, user, version: int, confirm: bool, note: str = ""
) -> AdverseEvent:
    """Staff confirm a received report as an adverse event, or dismiss it (with a reason): a
    dismissed one stops its clocks; a confirmed serious one is announced to the partner."""
    if not is_desk_user(user):
        raise PermissionDenied("Only clinic staff may triage adverse events.")
    ae = _locked(adverse_event_id)
    if ae.sandbox:
        raise WrongState("This report came from a sandbox partner: it is a test and is never triaged.")
    _check_version(ae, version)
    note = text(note, "note", required=not confirm, limit=TEXT_LIMIT, what="why this is not an adverse event")
    to = Triage.CONFIRMED if confirm else Triage.DISMISSED
    if ae.triage == to:
        raise WrongState(f"This report is already {Triage(to).label.lower()}; nothing was changed.")
    was_serious, was_confirmed = ae.serious is True, ae.triage == Triage.CONFIRMED
    now = timezone.now()
    ae.triage, ae.triaged_at, ae.triaged_by = to, now, user
    _save(ae, {}, now=now)
    clock_keys = sync_clocks(ae)
    _change(
        ae,
        kind=AdverseEventChange.Kind.TRIAGE,
        actor=Actor.of_user(user),
        source=AdverseEventSource.STAFF,
        now=now,
        note=note,
        changes={"triage": str(to)} | clock_keys,
    )
    _announce(ae, was_serious=was_serious, was_confirmed=was_confirmed)
    return ae


def submission_floor(clock: ReportingClock) -> datetime:
    """The earliest a submission for `clock` may be dated: when the clinic learned of the event, to the
    minute the forms give (not the row's start: a 312.32(c) report may go out before it is recorded)."""
    return min(clock.starts_at, clock.adverse_event.received_at).replace(second=0, microsecond=0)


@transaction.atomic
def record_submission(
    *, clock_id: uuid.UUID | str, user, submitted_at: datetime, recipient: str, reference: str
) -> ReportingClock:
    """Record that a person submitted the report a clock asks for: the software submits nothing and
    shows a row as reported only after this."""
    if not is_desk_user(user):
        raise PermissionDenied("Only clinic staff may record a submission.")
    clock = ReportingClock.objects.select_for_update().select_related("adverse_event").get(pk=clock_id)
    if clock.state == ClockState.SUBMITTED:
        raise WrongState(
            f"A submission to {clock.submitted_to} was already recorded for this row on "
            f"{timezone.localtime(clock.submitted_at):%Y-%m-%d %H:%M} (reference "
            f"{clock.submission_reference}); nothing was changed."
        )
    errors: dict[str, list[str]] = {}
    if not isinstance(submitted_at, datetime):
        errors["submitted_at"] = ["Give the date and time the report was sent, e.g. 2026-11-20 14:05."]
    else:
        if timezone.is_naive(submitted_at):
            submitted_at = timezone.make_aware(submitted_at)
        if submitted_at > timezone.now() + timedelta(minutes=5):
            errors["submitted_at"] = ["Give the time the report was sent: it cannot be in the future."]
        elif submitted_at < (learned := submission_floor(clock)):
            errors["submitted_at"] = [
                f"The clinic learned of this adverse event on {timezone.localtime(learned):%Y-%m-%d %H:%M}; "
                "a report of it cannot have been sent before then: check the date."
            ]
    fields = {}
    for name, value, what in (
        ("recipient", recipient, "who received the report (e.g. FDA MedWatch, the sponsor)"),
        ("reference", reference, "the reference you got (a report number, or how and to whom it was sent)"),
    ):
        try:
            fields[name] = text(value, name, required=True, limit=200, what=what)
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    ReportingClock.objects.filter(pk=clock.pk, state=clock.state).update(
        state=ClockState.SUBMITTED,
        submitted_at=submitted_at,
        submitted_to=fields["recipient"],
        submission_reference=fields["reference"],
        recorded_by=user,
    )
    _change(
        clock.adverse_event,
        kind=AdverseEventChange.Kind.SUBMISSION,
        actor=Actor.of_user(user),
        source=AdverseEventSource.STAFF,
        now=now,
        changes={"clock": clock.rule, "submitted_at": plain(submitted_at)} | fields,
    )
    clock.refresh_from_db()
    return clock


@transaction.atomic
def flag_from_patient(*, course_id: uuid.UUID | str, description: str, onset=None) -> AdverseEvent:
    """A patient's "yes, something unexpected happened" in a follow-up form: a report for staff to
    triage, which never leaves the clinic until they do. Without an onset, the day it was flagged."""
    values = {"description": description, "onset": onset or timezone.localdate()}
    return report_adverse_event(
        course_id=course_id, source=AdverseEventSource.PATIENT, actor=PATIENT, values=values
    )
