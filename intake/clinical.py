"""What a case's clinical intake may hold, checked once for every door (partner API, FHIR door,
desk, services): the code, the sites and the answers (rule sets v1 and v2), and rule set v3's
findings, additional conditions and consent by whom (DESIGN.md, rules 3, 4 and 6).

Errors are keyed by the field a person fixes: `condition_code`, `affected_sites`, an answer's
name, `findings.<key>`, `additional_conditions.<n>.icd10`, `consent_by`, `assent`."""

from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone

from intake.models import Case, ConsentBy
from intake.vocabulary.body_sites import BODY_SITES
from intake.vocabulary.codes import CodeError, clean_icd10
from intake.vocabulary.contraindications import CONTRAINDICATIONS
from intake.vocabulary.findings import FIELD as FINDINGS_POINTER
from intake.vocabulary.findings import validate_findings

MAX_ADDITIONAL_CONDITIONS = 5
MAX_DESCRIPTION = 500


def validate_clinical(
    *, condition_code: str, affected_sites: list[str], contraindications: dict[str, bool | None]
) -> str:
    """Check the clinical answers; return the condition code in canonical form."""
    errors: dict[str, list[str]] = {}
    code = ""
    try:
        code = clean_icd10(condition_code or "")
    except CodeError as exc:
        errors["condition_code"] = [str(exc)]
    unknown_sites = [site for site in affected_sites if site not in BODY_SITES]
    if unknown_sites:
        errors["affected_sites"] = [
            f"Unknown body site(s): {', '.join(map(str, unknown_sites))}. "
            "Use names from the published list, for example right_knee."
        ]
    for name in CONTRAINDICATIONS:
        if contraindications.get(name) not in (True, False):
            errors[name] = ["Answer yes or no; a missing answer is not taken as no."]
    if errors:
        raise ValidationError(errors)
    return code


def validate_v3_intake(
    *,
    condition_code: str,
    findings: object,
    additional_conditions: object,
    consent_obtained: bool,
    consent_by: str,
    anticoagulant_therapy: bool | None,
    today: date,
) -> tuple[dict, list[dict], str]:
    """(the findings, the additional conditions in canonical form, who consented) or a
    ValidationError naming each field to fix. Consent obtained with nobody named is the
    patient's (the contract's `consent_obtained: true` alone)."""
    errors: dict[str, list[str]] = {}
    clean_findings, finding_errors = validate_findings(
        findings if findings is not None else {}, today=today, anticoagulant_therapy=anticoagulant_therapy
    )
    for pointer, message in finding_errors.items():
        key = pointer.removeprefix(FINDINGS_POINTER).strip("/")
        errors[f"findings.{key}" if key else "findings"] = [message]
    conditions = _additional_conditions(additional_conditions, main=condition_code, errors=errors)
    consent_by = (consent_by or "").strip()
    if consent_by and consent_by not in ConsentBy.values:
        errors["consent_by"] = [
            f"Who gave consent: one of {', '.join(ConsentBy.values)} (“{consent_by}” is not)."
        ]
    elif consent_by and not consent_obtained:
        errors["consent_by"] = ["Consent is not recorded as obtained, so nobody gave it: leave “by” empty."]
    if errors:
        raise ValidationError(errors)
    return clean_findings, conditions, consent_by or (ConsentBy.PATIENT if consent_obtained else "")


def _additional_conditions(value: object, *, main: str, errors: dict[str, list[str]]) -> list[dict]:
    if value is None:
        return []
    if not isinstance(value, list):
        errors["additional_conditions"] = ["Give a list of conditions, each with its ICD-10-CM code."]
        return []
    if len(value) > MAX_ADDITIONAL_CONDITIONS:
        errors["additional_conditions"] = [f"At most {MAX_ADDITIONAL_CONDITIONS} additional conditions."]
        return []
    seen, conditions = {main}, []
    for index, item in enumerate(value):
        where = f"additional_conditions.{index}.icd10"
        raw = item.get("icd10") if isinstance(item, dict) else None
        description = (item.get("description") or "") if isinstance(item, dict) else ""
        if not isinstance(raw, str):
            errors[where] = ["Give the condition's ICD-10-CM code as text, for example M17.12."]
            continue
        if not isinstance(description, str):
            errors[f"additional_conditions.{index}.description"] = ["Give the description as text."]
            continue
        try:
            code = clean_icd10(raw)
        except CodeError as exc:
            errors[where] = [str(exc)]
            continue
        if code in seen:
            errors[where] = [
                f"{code} is already given (as the main condition or above): give each code once."
            ]
            continue
        if len(description) > MAX_DESCRIPTION:
            errors[f"additional_conditions.{index}.description"] = [
                f"At most {MAX_DESCRIPTION} characters (got {len(description)})."
            ]
            continue
        seen.add(code)
        conditions.append({"icd10": code, "description": description.strip()})
    return conditions


@dataclass(frozen=True)
class Consent:
    """Consent recorded with an answer (the contract's `consent` object)."""

    obtained: bool
    by: str = ""
    form_version: str = ""
    assent: bool | None = None


@dataclass(frozen=True)
class Answer:
    """An answer to a specialist's question, as every door hands it to `answer_information`.
    None leaves the case's value as it is; findings and contraindications merge key by key."""

    answer: str
    condition_code: str | None = None
    condition_text: str | None = None
    affected_sites: list[str] | None = None
    consent: Consent | None = None
    findings: dict | None = None
    contraindications: dict[str, bool | None] = field(default_factory=dict)
    additional_conditions: list[dict] | None = None


def answered_changes(case: Case, answer: Answer) -> dict[str, object]:
    """The case's fields an answer changes: findings and answers merged key by key, the
    additional conditions replaced, consent recorded (never withdrawn by an answer); each
    checked as at intake, against the merged values."""
    consent, contraindications = answer.consent, answer.contraindications
    answers = {
        **case.contraindications,
        **{k: v for k, v in contraindications.items() if k in CONTRAINDICATIONS},
    }
    code = validate_clinical(
        condition_code=case.condition_code if answer.condition_code is None else answer.condition_code,
        affected_sites=case.affected_sites if answer.affected_sites is None else answer.affected_sites,
        contraindications=answers,
    )
    obtained = bool(consent and consent.obtained) or case.consent_obtained
    errors: dict[str, list[str]] = {}
    try:
        merged_findings, conditions, consent_by = validate_v3_intake(
            condition_code=code,
            findings={**case.findings, **(answer.findings or {})},
            additional_conditions=case.additional_conditions
            if answer.additional_conditions is None
            else answer.additional_conditions,
            consent_obtained=obtained,
            consent_by=(consent.by if consent else "") or case.consent_by,
            anticoagulant_therapy=answers["anticoagulant_therapy"],
            today=timezone.localdate(),
        )
    except ValidationError as exc:
        errors = exc.message_dict
    if consent and not consent.obtained and consent.by:
        # An answer saying consent was not obtained never names who gave it (a guardian who
        # refused must not satisfy a minor's consent check), whatever the case recorded before.
        errors.setdefault("consent_by", ["Consent is not obtained, so nobody gave it: leave “by” empty."])
    if errors:
        raise ValidationError(errors)
    wanted: dict[str, object] = {
        "condition_code": code,
        "findings": merged_findings,
        "additional_conditions": conditions,
        "consent_obtained": obtained,
        **answers,
    }
    if answer.affected_sites is not None:
        wanted["affected_sites"] = list(dict.fromkeys(answer.affected_sites))
    if answer.condition_text is not None:
        wanted["condition_text"] = answer.condition_text.strip()
    if "breastfeeding" in contraindications:
        wanted["breastfeeding"] = contraindications["breastfeeding"]
    if consent:
        wanted["consent_by"] = consent_by
        if (consent.form_version or "").strip():
            wanted["consent_form_version"] = consent.form_version.strip()
        if consent.assent is not None:
            wanted["assent"] = consent.assent
    return {name: value for name, value in wanted.items() if getattr(case, name) != value}
