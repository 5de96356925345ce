"""The treatment record: entered (a draft until its performer signs it), signed into the case's
audit chain, corrected only by addenda (DESIGN.md, "Treatment record"). No delete path: 21 CFR
1271.270(d) keeps it ten years. What signing sets off (referral.treated) is registered with
`on_treated` and runs inside the signing transaction."""

import math
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from clinic.aftercare.courses import move_course, record_course_note, when
from clinic.aftercare.errors import AftercareError, WrongState
from clinic.aftercare.models import TreatmentAddendum, TreatmentCourse, TreatmentEntry, TreatmentRecord
from clinic.aftercare.product_codes import phi_in_code
from clinic.aftercare.statuses import COURSE, CourseState
from clinic.aftercare.vocabulary import ImageGuidance, PerformerRole, ProductSource
from intake import chain
from intake.vocabulary.body_sites import BODY_SITES
from intake.workflow import Actor
from recommendations.decision_protocols import TREATMENT_ROUTES
from recommendations.models import FinalRoute, SpecialistProfile

# The names a form or the API gives; protocol id, version and basis come from the decision.
TREATMENT_FIELDS: tuple[str, ...] = tuple(
    "session performer performer_role administered_at route route_reason sites image_guidance "
    "product_kind product_source processing_facility lot distinct_code label_legends dose_tnc "
    "viability_percent volume_ml notes".split()
)
# A clock a little ahead of the server's (a desk PC) must not make "now" the future.
CLOCK_SKEW = timedelta(minutes=2)
MAX_VOLUME_ML = 1000.0
MAX_DOSE_TNC = 10**13
REQUIRED_TEXT = {
    "product_kind": (200, "Name the product, for example: bone marrow aspirate concentrate."),
    "processing_facility": (200, "Name the facility that processed the product (the label says it)."),
    "lot": (100, "Give the product's lot number as its label shows it."),
    "distinct_code": (100, "Give the distinct identification code (21 CFR 1271.290) from the label."),
}
SANDBOX = "This is a sandbox partner's test course: its treatment is simulated. Nothing was changed."
ALREADY_SIGNED = "This entry is already signed; correct the signed record with an addendum instead."
NO_SIGNING_PROFILE = (
    "{who} has no complete signing profile (full name and credentials), so cannot be the performer: "
    "ask an administrator to complete it (Admin, Specialist profiles)."
)

TreatedHandler = Callable[[TreatmentRecord], None]
_treated_handlers: list[TreatedHandler] = []


def on_treated(handler: TreatedHandler) -> None:
    """Register what follows a signed record, run in its transaction; registering twice is a no-op."""
    if handler not in _treated_handlers:
        _treated_handlers.append(handler)


def _profile(user) -> SpecialistProfile | None:
    profile = SpecialistProfile.objects.filter(user_id=getattr(user, "pk", None)).first()
    return profile if profile is not None and profile.complete else None


def _int(value) -> int | None:
    number = value if isinstance(value, int) and not isinstance(value, bool) else _float(value)
    return int(number) if number is not None and float(number).is_integer() else None


def _float(value) -> float | None:
    if isinstance(value, str):
        value = value.strip().replace("_", "").replace(" ", "")
    try:
        number = float(value) if isinstance(value, int | float | Decimal | str) else None
    except ValueError:
        return None
    return number if number is not None and not isinstance(value, bool) and math.isfinite(number) else None


def _datetime(value) -> datetime | None:
    if isinstance(value, str):
        try:
            value = parse_datetime(value.strip())
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _texts(value, *, split_lines: bool = False) -> list[str] | None:
    """A list of non-blank texts, each once (a form may give one text, lines for legends)."""
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = value.splitlines() if split_lines else [value]
    if not isinstance(value, list | tuple) or not all(isinstance(text, str) for text in value):
        return None
    return list(dict.fromkeys(text.strip() for text in value if text.strip()))


def _site_names(codes) -> str:
    return ", ".join(BODY_SITES.get(code, code).lower() for code in codes) or "none"


CHOICES = {
    "performer_role": (PerformerRole, f"Choose the performer's role: {', '.join(PerformerRole.labels)}."),
    "image_guidance": (ImageGuidance, f"Choose the image guidance used: {', '.join(ImageGuidance.labels)}."),
    "product_source": (
        ProductSource,
        "Choose whether the cells are autologous (the patient's own) or allogeneic (a donor's).",
    ),
}
# field -> (parse, in range, may be left empty, what to give)
NUMBERS = {
    "dose_tnc": (
        _int,
        lambda n: 0 < n <= MAX_DOSE_TNC,
        True,
        "Give the total nucleated cells as a whole positive number, for example 1200000000; "
        "leave it empty if not counted.",
    ),
    "viability_percent": (
        _float,
        lambda n: 0 <= n <= 100,
        True,
        "Give the viability as a percentage from 0 to 100, for example 92.5; leave it empty if not measured.",
    ),
    "volume_ml": (
        _float,
        lambda n: 0 < n < MAX_VOLUME_ML,
        False,
        f"Give the volume administered in mL, more than 0 and less than {MAX_VOLUME_ML:.0f}, for example 6.",
    ),
}
PHI_IN_CODE = (
    "This code contains {found}. 21 CFR 1271.290(c) forbids a distinct identification code that is or "
    "contains the patient's name, Social Security number, medical record number or birth date: give the "
    "code the processing facility assigned to the product."
)


def _performer(value, course: TreatmentCourse) -> tuple[object, str | None]:
    user_id = getattr(value, "pk", value)
    user = get_user_model().objects.filter(pk=user_id).first() if _int(user_id) is not None else None
    if user is None:
        return None, "Choose the clinician who gave the treatment."
    if _profile(user) is None:
        return user, NO_SIGNING_PROFILE.format(who=user.get_username())
    if not user.is_active and not course.sandbox:
        return user, f"{user.get_username()}'s account is inactive; choose the clinician who gave it."
    return user, None


def _session(value, course: TreatmentCourse) -> tuple[int | None, str | None]:
    signed = set(TreatmentRecord.objects.filter(course=course).values_list("session", flat=True))
    session = _int(value)
    if session is None or session < 1:
        return (
            session,
            "Give the session's number: 1 for the first treatment, 2 for the next of a staged plan.",
        )
    if session in signed:
        return session, f"Session {session} is already signed: record the next one, or add an addendum to it."
    if session > len(signed) + 1:
        return session, f"Session {len(signed) + 1} comes first: record the sessions in order."
    return session, None


def clean_treatment(*, course: TreatmentCourse, values: dict) -> dict:
    """The values of a treatment session as the record stores them, or ValidationError naming each
    field that is wrong and what to give instead. The protocol (id, version, basis) is the
    decision's."""
    errors: dict[str, list[str]] = {}
    decision, patient = course.decision, course.case.patient

    def bad(field: str, message: str | None) -> None:
        if message:
            errors.setdefault(field, []).append(message)

    clean: dict = {}
    clean["session"], problem = _session(values.get("session", 1), course)
    bad("session", problem)
    clean["performer"], problem = _performer(values.get("performer"), course)
    bad("performer", problem)
    for field, (choices, ask) in CHOICES.items():
        value = values.get(field)
        clean[field] = value if isinstance(value, str) and value in choices.values else None
        bad(field, None if clean[field] else ask)

    administered_at = clean["administered_at"] = _datetime(values.get("administered_at"))
    if administered_at is None:
        bad("administered_at", "Give the date and time it was administered, for example 2026-11-20 09:30.")
    elif administered_at < decision.decided_at:
        bad("administered_at", f"Give a time on or after the decision ({when(decision.decided_at)}).")
    elif administered_at > timezone.now() + CLOCK_SKEW:
        bad("administered_at", "Give the time it was given: a treatment is recorded once given, not before.")

    route = clean["route"] = values.get("route") or course.route
    clean["route_reason"] = str(values.get("route_reason") or "").strip()
    if route not in TREATMENT_ROUTES:
        bad("route", "Choose the route it was given by: local injection or intravenous infusion.")
    elif route != course.route and not clean["route_reason"]:
        bad(
            "route_reason",
            f"The decision's route is {FinalRoute(course.route).label.lower()}: say why this session was "
            f"given as {FinalRoute(route).label.lower()}, or choose the decision's route.",
        )

    sites, allowed = _texts(values.get("sites")), list(decision.sites or [])
    clean["sites"] = sites or []
    if sites is None:
        bad("sites", 'Give the sites as a list of body site codes, for example ["right_knee"].')
    elif outside := [site for site in sites if site not in allowed]:
        bad(
            "sites",
            f"{_site_names(outside).capitalize()}: not among the sites the decision was signed for "
            f"({_site_names(allowed)}). Choose among those; another site needs a new referral.",
        )
    elif route == FinalRoute.LOCAL_INJECTION and not sites:
        bad("sites", f"Choose the site(s) injected, among the decision's: {_site_names(allowed)}.")

    for field, (limit, ask) in REQUIRED_TEXT.items():
        text = clean[field] = str(values.get(field) or "").strip()
        bad(field, ask if not text else None)
        bad(
            field,
            f"Shorten it to {limit} characters at most (it has {len(text)})." if len(text) > limit else None,
        )
    if clean["distinct_code"]:
        found = phi_in_code(
            clean["distinct_code"],
            given_name=patient.given_name,
            family_name=patient.family_name,
            mrn=patient.mrn,
            birth_date=patient.birth_date,
        )
        bad("distinct_code", PHI_IN_CODE.format(found=found) if found else None)

    legends = _texts(values.get("label_legends"), split_lines=True)
    clean["label_legends"] = legends or []
    if legends is None or any(len(legend) > 200 for legend in clean["label_legends"]):
        bad("label_legends", 'Give the label legends as a list of texts, e.g. ["FOR AUTOLOGOUS USE ONLY"].')

    for field, (parse, in_range, optional, ask) in NUMBERS.items():
        raw = values.get(field)
        number = clean[field] = None if raw in (None, "") else parse(raw)
        if not (raw in (None, "") and optional) and (number is None or not in_range(number)):
            bad(field, ask)

    clean["notes"] = str(values.get("notes") or "").strip()
    if len(clean["notes"]) > 5000:
        bad("notes", f"Shorten the notes to 5000 characters at most (they have {len(clean['notes'])}).")

    if errors:
        raise ValidationError(errors)
    protocol = course.protocol or {}
    return clean | {
        "protocol_id": protocol.get("id", ""),
        "protocol_version": protocol.get("version"),
        "basis": protocol.get("basis", ""),
    }


def _refuse_closed(course: TreatmentCourse) -> None:
    if COURSE[course.state].final:
        why = f" ({course.close_reason})" if course.close_reason else ""
        raise WrongState(
            f"This course is {CourseState(course.state).label.lower()}{why}: no treatment can be recorded on "
            "it. Nothing was changed."
        )


def _locked_course(course_id) -> TreatmentCourse:
    courses = TreatmentCourse.objects.select_for_update(of=("self",))
    return courses.select_related("decision", "case__patient").get(pk=course_id)


def _locked_entry(entry_id, course: TreatmentCourse) -> TreatmentEntry:
    """An unsigned entry of `course`, locked after the course, as everywhere (no deadlock)."""
    entry = TreatmentEntry.objects.select_for_update().get(pk=entry_id, course=course)
    if entry.signed_record_id:
        raise WrongState(ALREADY_SIGNED)
    return entry


def values_of(entry: TreatmentEntry) -> dict:
    """An entry's values as a form or sign_treatment takes them."""
    values = {name: getattr(entry, name) for name in TREATMENT_FIELDS if name != "performer"}
    return values | {"performer": entry.performer_id}


@transaction.atomic
def save_treatment_entry(
    *, course_id, user, values: dict, entry_id: uuid.UUID | str | None = None
) -> TreatmentEntry:
    """Enter (or change) a treatment record for its performer to sign; it stays a draft until then."""
    course = _locked_course(course_id)
    _refuse_closed(course)
    if course.sandbox:
        raise AftercareError(SANDBOX)
    entry = _locked_entry(entry_id, course) if entry_id is not None else None
    clean = clean_treatment(course=course, values=values)
    fields = {name: clean[name] for name in (*TREATMENT_FIELDS, "protocol_id", "protocol_version", "basis")}
    if entry is None:
        entry = TreatmentEntry.objects.create(
            course=course, case_id=course.case_id, entered_by=user, **fields
        )
        verb = "entered"
    else:
        TreatmentEntry.objects.filter(pk=entry.pk).update(updated_at=timezone.now(), **fields)
        entry.refresh_from_db()
        verb = "changed"
    note = f"Treatment record of session {entry.session} {verb}; awaiting the performer's signature"
    record_course_note(course=course, actor=Actor.of_user(user), note=note)
    return entry


@transaction.atomic
def sign_treatment(
    *, user, entry_id: uuid.UUID | str | None = None, course_id=None, values: dict | None = None
) -> TreatmentRecord:
    """The performer signs a session's record (an entry, or values given now); the first signed
    record moves the course to treated. The record then never changes."""
    if (entry_id is None) == (values is None):
        raise ValueError("sign_treatment takes an entry_id, or a course_id with values.")
    if entry_id is not None:  # read without a lock: the course's lock comes first
        course_id = TreatmentEntry.objects.values_list("course_id", flat=True).get(pk=entry_id)
    course = _locked_course(course_id)
    entry = _locked_entry(entry_id, course) if entry_id is not None else None
    _refuse_closed(course)
    if course.sandbox and user.is_active:
        raise AftercareError(SANDBOX)
    clean = clean_treatment(course=course, values=values_of(entry) if entry is not None else values)
    performer = clean["performer"]
    if performer.pk != user.pk:
        raise AftercareError(
            f"Only the performer, {_profile(performer).full_name}, can sign this record (they sign with "
            "their own signing profile); it stays a draft until they do."
        )
    profile = _profile(user)
    record = chain.append(
        TreatmentRecord(
            course=course,
            case_id=course.case_id,
            entered_by=entry.entered_by if entry else user,
            signed_name=profile.full_name.strip(),
            signed_credentials=profile.credentials.strip(),
            **clean,
        )
    )
    actor = Actor.of_user(user)
    note = f"Session {record.session} signed by {record.signature}"
    if course.state == CourseState.SCHEDULED:
        move_course(
            course=course,
            to_state=CourseState.TREATED,
            actor=actor,
            note=note,
            treated_at=record.administered_at,
        )
    else:
        record_course_note(course=course, actor=actor, note=note)
    if entry is not None:
        TreatmentEntry.objects.filter(pk=entry.pk, signed_record__isnull=True).update(signed_record=record)
    for handler in _treated_handlers:
        handler(record)
    return record


@transaction.atomic
def add_treatment_addendum(*, record_id: uuid.UUID | str, user, reason: str) -> TreatmentAddendum:
    """Append a correction to a signed record, signed by its author; the record never changes."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Write the correction and why it is needed."]})
    profile = _profile(user)
    if profile is None:
        raise AftercareError(
            "An addendum is signed with your full name and credentials, and your signing profile does not "
            "have both yet: ask an administrator to complete it (Admin, Specialist profiles). Nothing was "
            "changed."
        )
    record = TreatmentRecord.objects.select_related("course").get(pk=record_id)
    if record.course.sandbox:
        raise AftercareError(SANDBOX)
    return chain.append(
        TreatmentAddendum(
            record=record,
            case_id=record.case_id,
            author=user,
            signed_name=profile.full_name.strip(),
            signed_credentials=profile.credentials.strip(),
            reason=reason,
        )
    )
