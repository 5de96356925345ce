"""Intake use cases: register patients, open cases, withdraw them."""

import secrets
import uuid
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from intake.clinical import Answer, answered_changes, validate_clinical, validate_v3_intake
from intake.matching import phone_key
from intake.models import (
    CONTRAINDICATION_LABELS,
    CONTRAINDICATIONS,
    Case,
    CaseSource,
    CaseStatus,
    ConsentBy,
    Partner,
    Patient,
    Priority,
)
from intake.text import invisible_characters_message
from intake.vocabulary import icd10cm
from intake.vocabulary.body_sites import BODY_SITES
from intake.vocabulary.findings_display import condition_rows, finding_rows
from intake.workflow import Actor, TransitionError, open_case, record_note, transition


def _new_mrn() -> str:
    return f"MRN{secrets.randbelow(10**8):08d}"


def _insert_once(model, submission_key: uuid.UUID | None, save):
    """Run `save()` in a savepoint; when a row with the same one-time key exists
    (a double click, a resubmit, the back button), return that row instead."""
    existing = model.objects.filter(submission_key=submission_key).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return save()
    except IntegrityError:
        existing = model.objects.filter(submission_key=submission_key).first()
        if existing:
            return existing
        raise


def patient_from_submission(submission_key: uuid.UUID | None) -> Patient | None:
    """The patient a desk form already registered, if this is the same form again."""
    return Patient.objects.filter(submission_key=submission_key).first() if submission_key else None


def create_patient(
    *,
    given_name: str,
    family_name: str,
    birth_date: date,
    sex: str,
    phone: str = "",
    email: str = "",
    mrn: str = "",
    submission_key: uuid.UUID | None = None,
    retried_by_caller: bool = False,
    sandbox: bool = False,
) -> Patient:
    """Register a patient; an MRN is issued when the clinic did not give one.

    An issued MRN that collides is drawn again, under a savepoint; a caller that
    reruns its whole transaction on IntegrityError (submit_referral) passes
    `retried_by_caller` and saves the two statements of that savepoint. Every check runs
    before the one INSERT, so a refusal leaves the caller's transaction usable."""
    fields = dict(
        given_name=given_name.strip(),
        family_name=family_name.strip(),
        birth_date=birth_date,
        sex=sex,
        phone=phone.strip(),
        phone_key=phone_key(phone),
        email=email.strip().lower(),
        submission_key=submission_key,
        sandbox=sandbox,
    )
    if submission_key and (existing := patient_from_submission(submission_key)):
        return existing
    invisible = {
        name: [message]
        for name, value in (("given_name", given_name), ("family_name", family_name), ("mrn", mrn))
        if (message := invisible_characters_message(value))
    }
    if invisible:
        raise ValidationError(invisible)
    if mrn.strip():
        taken = ValidationError({"mrn": [f"MRN {mrn.strip()} belongs to another patient."]})
        if Patient.objects.filter(mrn__iexact=mrn.strip()).exists():
            raise taken
        patient = _checked(Patient(mrn=mrn.strip(), **fields), exclude=["submission_key"])
        try:
            return _insert(Patient, submission_key, patient)
        except IntegrityError:
            raise taken from None  # registered by someone else at this very moment
    if retried_by_caller and not submission_key:
        return _saved(_checked(Patient(mrn=_new_mrn(), **fields), exclude=["mrn", "submission_key"]))
    for _ in range(5):
        patient = _checked(Patient(mrn=_new_mrn(), **fields), exclude=["mrn", "submission_key"])
        try:
            return _insert(Patient, submission_key, patient)
        except IntegrityError:
            continue  # an issued MRN collided; draw another
    raise RuntimeError("Could not issue a unique MRN after 5 attempts.")


def _checked(patient: Patient, *, exclude: list[str]) -> Patient:
    # Field checks only: the unique indexes and the check constraint are the
    # database's to enforce, and querying for them first costs a round trip each.
    patient.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    return patient


def _insert(model, submission_key: uuid.UUID | None, instance):
    if submission_key:
        return _insert_once(model, submission_key, lambda: _saved(instance))
    with transaction.atomic():
        return _saved(instance)


def _saved(instance):
    instance.save()
    return instance


def _next_case_number() -> int | None:
    """The next case number (for the reference C-2026-000123). None on PostgreSQL, where the
    column's default draws it from a sequence in the INSERT itself (concurrent intakes never
    wait for each other); on the embedded SQLite default, which has one writer at a time,
    the highest number plus one."""
    if connection.vendor == "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(number), 0) + 1 FROM intake_case")
        return cursor.fetchone()[0]


def _due_at(priority: int):
    hours = (
        settings.REVIEW_DUE_HOURS_URGENT if priority == Priority.URGENT else settings.REVIEW_DUE_HOURS_ROUTINE
    )
    return timezone.now() + timedelta(hours=hours)


@transaction.atomic(savepoint=False)
def create_case(
    *,
    patient: Patient,
    actor: Actor,
    condition_code: str,
    affected_sites: list[str],
    contraindications: dict[str, bool | None],
    consent_obtained: bool,
    condition_text: str = "",
    consent_form_version: str = "",
    goals: str = "",
    notes: str = "",
    priority: int = Priority.ROUTINE,
    partner: Partner | None = None,
    external_id: str | None = None,
    submission_key: uuid.UUID | None = None,
    patient_needs_review: bool = False,
    findings: dict | None = None,
    additional_conditions: list[dict] | None = None,
    consent_by: str = "",
    assent: bool | None = None,
    breastfeeding: bool | None = None,
) -> Case:
    """Open a case; once the transaction commits, its draft is queued (see recommendations.apps).

    With a `submission_key`, a second call with the same key returns the first
    case instead of opening another."""
    code = validate_clinical(
        condition_code=condition_code,
        affected_sites=affected_sites,
        contraindications=contraindications,
    )
    findings, additional_conditions, consent_by = validate_v3_intake(
        condition_code=code,
        findings=findings,
        additional_conditions=additional_conditions,
        consent_obtained=consent_obtained,
        consent_by=consent_by,
        anticoagulant_therapy=contraindications.get("anticoagulant_therapy"),
        today=timezone.localdate(),
    )
    sandbox = partner is not None and partner.is_sandbox
    if patient.sandbox != sandbox:
        # A real patient never gets a test case, nor a test patient a real one.
        raise ValidationError({"patient": ["A sandbox case needs a sandbox patient, and only it does."]})
    case = Case(
        patient=patient,
        source=CaseSource.PARTNER if partner else CaseSource.FRONT_DESK,
        partner=partner,
        external_id=external_id,
        created_by=actor.user,
        condition_code=code,
        condition_text=condition_text.strip(),
        affected_sites=list(dict.fromkeys(affected_sites)),
        consent_obtained=consent_obtained,
        consent_form_version=consent_form_version.strip(),
        findings=findings,
        additional_conditions=additional_conditions,
        consent_by=consent_by,
        assent=assent,
        breastfeeding=breastfeeding,
        goals=goals.strip(),
        notes=notes.strip(),
        priority=priority,
        due_at=_due_at(priority),
        submission_key=submission_key,
        patient_needs_review=patient_needs_review,
        sandbox=sandbox,
        **({} if (number := _next_case_number()) is None else {"number": number}),
        **{name: contraindications[name] for name in CONTRAINDICATIONS},
    )
    if submission_key:
        # Announced like a move: the recommendations app queues the draft once this commits.
        return _insert_once(Case, submission_key, lambda: open_case(case=case, actor=actor))
    return open_case(case=case, actor=actor)


@transaction.atomic
def withdraw_case(*, case: Case, actor: Actor, reason: str) -> Case:
    if not reason.strip():
        raise ValidationError({"reason": ["Say why the case is withdrawn."]})
    return transition(case=case, to_status=CaseStatus.WITHDRAWN, actor=actor, note=reason.strip())


@transaction.atomic
def answer_information(*, case: Case, actor: Actor, answer: Answer) -> Case:
    """Answer a specialist's question and send the case back to drafting.

    The answer may also correct the condition code, its description or the
    affected sites, and record consent obtained since the intake; the next draft
    reads them, and the timeline says what changed."""
    text = (answer.answer or "").strip()
    if not text:
        raise ValidationError({"answer": ["Write the answer to the specialist's question."]})
    if case.status != CaseStatus.NEEDS_INFORMATION:
        raise TransitionError(
            f"This case is {case.get_status_display().lower()}; there is no open question to answer."
        )
    changes = answered_changes(case, answer)
    changed = "; ".join(changed_text(case, changes))
    note = f"Answer: {text}" + (f" (changed: {changed})" if changed else "")
    case = transition(
        case=case,
        to_status=CaseStatus.DRAFTING,
        actor=actor,
        note=note,
        open_question="",
        draft_enqueued_at=timezone.now(),
        **changes,
    )
    return case


def _yes_no(value: bool | None, unknown: str = "not asked") -> str:
    return unknown if value is None else ("yes" if value else "no")


def changed_text(case: Case, changes: dict[str, object]) -> list[str]:
    """What an answer changed, as a person reads it on the timeline: labels, not field names
    ("affected sites now Left knee", never "affected_sites now ['left_knee']")."""
    parts: list[str] = []
    for name, value in changes.items():
        if name == "affected_sites":
            sites = ", ".join(BODY_SITES.get(site, site) for site in value) or "none"
            parts.append(f"affected sites now {sites}")
        elif name == "condition_code":
            found = icd10cm.get(str(value))
            parts.append(f"condition now {value}" + (f" {found.descriptor}" if found else ""))
        elif name == "condition_text":
            parts.append(f"condition description now “{value}”")
        elif name == "findings":
            before = case.findings or {}
            parts += [
                f"{row.label} now {row.value}"
                for row in finding_rows({key: v for key, v in value.items() if before.get(key) != v})
            ]
        elif name == "additional_conditions":
            codes = ", ".join(row.code for row in condition_rows(value)) or "none"
            parts.append(f"other conditions now {codes}")
        elif name == "consent_obtained":
            parts.append("consent now obtained" if value else "consent now not obtained")
        elif name == "consent_by":
            by = ConsentBy(value).label if value in ConsentBy.values else "nobody"
            parts.append(f"consent given by {by[:1].lower()}{by[1:]}")
        elif name == "consent_form_version":
            parts.append(f"consent form version now {value}")
        elif name == "assent":
            parts.append(f"the minor's assent now {_yes_no(value, 'not recorded')}")
        elif name == "breastfeeding":
            parts.append(f"breastfeeding now {_yes_no(value)}")
        elif name in CONTRAINDICATION_LABELS:
            parts.append(f"{CONTRAINDICATION_LABELS[name].lower()} now {_yes_no(value)}")
        else:  # a field added later: its name read as words rather than left out
            parts.append(f"{name.replace('_', ' ')} changed")
    return parts


# What the admin's patient form (and anyone else) may change on a registered patient.
AMENDABLE_PATIENT_FIELDS = ("mrn", "given_name", "family_name", "birth_date", "sex", "phone", "email")


@transaction.atomic
def amend_patient(*, patient_id: uuid.UUID | str, actor: Actor, changes: dict[str, object]) -> Patient:
    """Change a registered patient's details. Each of the patient's cases records which fields
    changed (by name, not value) in its audit chain, which seals the new details into it: a change
    made any other way shows in `verify_audit`."""
    refused = set(changes) - set(AMENDABLE_PATIENT_FIELDS)
    if refused:
        raise ValidationError(
            {name: ["This field cannot be changed on a registered patient."] for name in refused}
        )
    cleaned = {
        name: (value.strip().lower() if name == "email" else value.strip())
        if isinstance(value, str)
        else value
        for name, value in changes.items()
    }
    invisible = {
        name: [message]
        for name in ("given_name", "family_name", "mrn")
        if name in cleaned and (message := invisible_characters_message(str(cleaned[name])))
    }
    if invisible:
        raise ValidationError(invisible)
    # Cases first, then the patient: the order intake.chain takes them in (no deadlock).
    list(Case.objects.select_for_update().filter(patient_id=patient_id).order_by("pk").values_list("pk"))
    patient = Patient.objects.select_for_update().get(pk=patient_id)
    changed = [
        name
        for name in AMENDABLE_PATIENT_FIELDS
        if name in cleaned and getattr(patient, name) != cleaned[name]
    ]
    if not changed:
        return patient
    if (
        "mrn" in changed
        and Patient.objects.filter(mrn__iexact=cleaned["mrn"]).exclude(pk=patient.pk).exists()
    ):
        raise ValidationError({"mrn": [f"MRN {cleaned['mrn']} belongs to another patient."]})
    for name in changed:
        setattr(patient, name, cleaned[name])
    patient.phone_key = phone_key(patient.phone)
    _checked(patient, exclude=["submission_key"])
    patient.save(update_fields=[*changed, "phone_key"])
    labels = ", ".join(str(Patient._meta.get_field(name).verbose_name) for name in changed)
    for case in Case.objects.filter(patient_id=patient.pk).only("id").order_by("created_at"):
        record_note(case=case, actor=actor, note=f"Patient details changed: {labels}")
    return patient
