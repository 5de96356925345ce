"""Partner referrals: open a case from the contract's JSON, matching the patient
conservatively, and the partner's own follow-ups (answer, withdraw)."""

import logging

from django.db import IntegrityError, transaction

from intake.contacts import keep_contact_update
from intake.idempotency import UNIQUE_CONFLICT_ATTEMPTS
from intake.matching import likely_duplicates, phone_key, same_person_exactly, same_text
from intake.models import Case, Partner, Patient, Priority
from intake.services import create_case, create_patient
from intake.workflow import Actor

log = logging.getLogger(__name__)


class DuplicateReferral(Exception):
    """The partner already sent a referral with this external_id."""

    def __init__(self, existing: Case):
        self.existing = existing
        super().__init__(f"Referral {existing.external_id} already exists as {existing.pk}.")


def partner_actor(partner: Partner, *, via: str = "") -> Actor:
    """`via` names the door (FHIR) when it is not the JSON API, for the timeline."""
    return Actor(label=f"partner: {partner.name}" + (f" (via {via})" if via else ""))


def _contradicts(patient: Patient, *, phone: str, email: str) -> bool:
    """Contact details both sides have, and that differ."""
    phone_differs = bool(phone and patient.phone_key and phone_key(phone) != patient.phone_key)
    email_differs = bool(email and patient.email and email.strip().lower() != patient.email)
    return phone_differs or email_differs


def _certain(patient: Patient, person: dict) -> bool:
    """Same birth date, the same name as written (only Unicode's equivalent encodings aside)
    with at least two letters, and no contact detail that contradicts. A partner sees the
    patient's stored name (FHIR subject.display): reusing a record spelt otherwise ("José" for
    "JOSE", another script) would show it the desk's or another partner's spelling."""
    given, family, born = person["given_name"], person["family_name"], person["birth_date"]
    return (
        same_person_exactly(patient, given_name=given, family_name=family, birth_date=born)
        and same_text(patient.given_name, given)
        and same_text(patient.family_name, family)
        and not _contradicts(patient, phone=person.get("phone", ""), email=person.get("email", ""))
    )


def certain_match(person: dict, *, sandbox: bool = False) -> tuple[Patient | None, bool]:
    """The existing patient when the match is certain, else None; and whether there were likely
    duplicates at all. Certain means: exactly one likely duplicate, and that one certain (_certain)."""
    matches = likely_duplicates(
        given_name=person["given_name"],
        family_name=person["family_name"],
        birth_date=person["birth_date"],
        phone=person.get("phone", ""),
        email=person.get("email", ""),
        sandbox=sandbox,
    )
    if len(matches) == 1 and _certain(matches[0].patient, person):
        return matches[0].patient, True
    return None, bool(matches)


def match_or_create_patient(person: dict, *, sandbox: bool = False) -> tuple[Patient, bool]:
    """The existing patient when the match is certain, else a new one.

    Anything less than certain creates a new patient and says so (True), so the desk reviews it;
    records are never merged silently, and a name written in another script is only ever a reason
    to review."""
    existing, had_matches = certain_match(person, sandbox=sandbox)
    if existing is not None:
        return existing, False
    return _new_patient(person, sandbox=sandbox), had_matches


def _new_patient(person: dict, *, sandbox: bool) -> Patient:
    return create_patient(
        given_name=person["given_name"],
        family_name=person["family_name"],
        birth_date=person["birth_date"],
        sex=person["sex"],
        phone=person.get("phone", ""),
        email=person.get("email", ""),
        retried_by_caller=True,
        sandbox=sandbox,
    )


def submit_referral(*, partner: Partner, referral: dict, via: str = "") -> Case:
    """Open a case from a validated referral body (clinic.web.api.serializers.ReferralSerializer).

    The case is written without savepoints, so a unique index that refuses a row (an external_id
    already used, or an issued MRN drawn twice) fails the whole transaction; it then runs again,
    and the external_id check sees the case that holds it. Inside a caller's transaction
    (intake.idempotency.run_once) the check comes first, and the caller runs it again."""
    in_callers_transaction = transaction.get_connection().in_atomic_block
    for attempt in range(1, UNIQUE_CONFLICT_ATTEMPTS + 1):
        # A repeated external_id is rare: on our own first attempt the case's unique index finds
        # it (one statement fewer for every new referral), and the attempt after the refusal names
        # the case that holds it. A caller's transaction cannot be run again by us: check first.
        if (attempt > 1 or in_callers_transaction) and (existing := _holding(partner, referral)) is not None:
            raise DuplicateReferral(existing)
        try:
            case = _open_referral(partner=partner, referral=referral, via=via)
        except IntegrityError:
            if in_callers_transaction or attempt == UNIQUE_CONFLICT_ATTEMPTS:
                raise

        else:
            log.info(
                "referral opened as case %s",
                case.reference,
                extra={"case_id": str(case.pk), "partner_id": str(partner.pk)},
            )
            return case


def _holding(partner: Partner, referral: dict) -> Case | None:
    """The partner's case that already holds the referral's external_id."""
    return Case.objects.filter(partner=partner, external_id=referral["external_id"]).first()


@transaction.atomic(savepoint=False)
def _open_referral(*, partner: Partner, referral: dict, via: str) -> Case:
    person = referral["patient"]
    existing, had_matches = certain_match(person, sandbox=partner.is_sandbox)
    patient = existing or _new_patient(person, sandbox=partner.is_sandbox)
    actor = partner_actor(partner, via=via)
    case = create_case(
        patient=patient,
        actor=actor,
        partner=partner,
        external_id=referral["external_id"],
        condition_code=referral["condition"]["icd10"],
        condition_text=referral["condition"].get("description", ""),
        affected_sites=referral["affected_sites"],
        contraindications=referral["contraindications"],
        consent_obtained=referral["consent_obtained"],
        goals=referral.get("goals", ""),
        notes=referral.get("notes", ""),
        patient_needs_review=existing is None and had_matches,
        # Rule set v3 members and priority, as ReferralSerializer.validate normalises them.
        consent_by=referral.get("consent_by", ""),
        consent_form_version=referral.get("consent_form_version", ""),
        assent=referral.get("assent"),
        breastfeeding=referral.get("breastfeeding"),
        findings=referral.get("findings"),
        additional_conditions=referral.get("additional_conditions"),
        priority=referral.get("priority", Priority.ROUTINE),
    )
    if existing is not None:
        # A phone or email the record lacks is kept for the desk, never dropped nor applied silently.
        keep_contact_update(
            patient=existing,
            case=case,
            partner=partner,
            phone=person.get("phone", ""),
            email=person.get("email", ""),
            actor=actor,
        )
    return case
