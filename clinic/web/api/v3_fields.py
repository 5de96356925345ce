"""Rule set v3's members of the partner JSON body (DESIGN.md rules 3, 4 and 6): their shapes as the
OpenAPI schema documents them, and intake.clinical's own checks of their values run on the body as
sent, so every door (JSON, FHIR) gives the same messages at the contract's fields."""

from collections.abc import Mapping

from django.core.exceptions import ValidationError as ServiceError
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from clinic.web.api.errors import flatten_errors
from intake.clinical import MAX_ADDITIONAL_CONDITIONS, MAX_DESCRIPTION, validate_v3_intake
from intake.models import CONTRAINDICATIONS
from intake.vocabulary.codes import CodeError, clean_icd10
from intake.vocabulary.findings import FINDINGS, Finding


def _finding_schema(finding: Finding) -> dict:
    unit = f" ({finding.unit})" if finding.unit else ""
    schema: dict = {"description": f"{finding.label}{unit}."}
    if finding.type in ("integer", "decimal"):
        schema["type"] = "integer" if finding.type == "integer" else "number"
        if finding.values is not None:
            schema["enum"] = list(finding.values)
        else:
            schema |= {"minimum": finding.min, "maximum": finding.max}
    elif finding.type == "date":
        schema |= {
            "type": "string",
            "format": "date",
            "description": f"{finding.label}, YYYY-MM-DD, not later than today.",
        }
    else:
        schema |= {"type": "string", "minLength": 1, "maxLength": 200}
    if finding.deprecated:
        schema["deprecated"] = True
    return schema


FINDINGS_SCHEMA = {
    "type": "object",
    "description": "Optional (rule set v3): clinical findings by key, from GET /api/v1/findings/; each "
    "value a JSON scalar of the key's type in the key's unit. `anticoagulant` may not be given while "
    "`contraindications.anticoagulant_therapy` is false.",
    "properties": {finding.key: _finding_schema(finding) for finding in FINDINGS},
    "additionalProperties": False,
}
ADDITIONAL_CONDITIONS_SCHEMA = {
    "type": "array",
    "maxItems": MAX_ADDITIONAL_CONDITIONS,
    "description": f"Optional (rule set v3): up to {MAX_ADDITIONAL_CONDITIONS} further ICD-10-CM conditions, "
    "each a real code given once and not the main condition's code.",
    "items": {
        "type": "object",
        "required": ["icd10"],
        "properties": {
            "icd10": {"type": "string", "description": "An ICD-10-CM code, for example M17.12."},
            "description": {"type": "string", "maxLength": MAX_DESCRIPTION, "nullable": True},
        },
    },
}


class _RawJSON(serializers.Field):
    """Taken as sent: intake.clinical checks the value, so every door says the same."""

    def to_internal_value(self, data):
        return data

    def to_representation(self, value):
        return value


@extend_schema_field(FINDINGS_SCHEMA)
class FindingsField(_RawJSON):
    pass


@extend_schema_field(ADDITIONAL_CONDITIONS_SCHEMA)
class AdditionalConditionsField(_RawJSON):
    pass


# The service's keys (intake.clinical), as the contract's fields.
SERVICE_FIELDS = {
    "consent_by": "consent.by",
    "assent": "consent.assent",
    "condition_code": "condition.icd10",
    **{name: f"contraindications.{name}" for name in (*CONTRAINDICATIONS, "breastfeeding")},
}


def contract_errors(exc: ServiceError) -> dict[str, list[str]]:
    """A service's ValidationError with its keys as the contract's fields (`consent_by` -> `consent.by`)."""
    if not hasattr(exc, "error_dict"):
        return {"body": list(exc.messages)}
    return {SERVICE_FIELDS.get(key, key): list(messages) for key, messages in exc.message_dict.items()}


def consent_disagreement(data: Mapping, *, one_required: bool) -> dict[str, list[str]]:
    """The either-or rule of `consent_obtained` and `consent`, on the body as sent."""
    if one_required and "consent_obtained" not in data and "consent" not in data:
        return {"consent_obtained": ["Send `consent_obtained` (true or false) or the `consent` object."]}
    sent, consent = data.get("consent_obtained"), data.get("consent")
    obtained = consent.get("obtained") if isinstance(consent, Mapping) else None
    if isinstance(sent, bool) and isinstance(obtained, bool) and sent != obtained:
        message = "`consent_obtained` and `consent.obtained` disagree; send one, or make them the same."
        return {"consent_obtained": [message], "consent.obtained": [message]}
    return {}


def _v3_errors(data: Mapping, *, main_code: str) -> dict[str, list[str]]:
    """intake.clinical's own check of findings, additional conditions and consent, on the body as sent."""
    consent = data.get("consent") if isinstance(data.get("consent"), Mapping) else {}
    answers = data.get("contraindications") if isinstance(data.get("contraindications"), Mapping) else {}
    anticoagulant = answers.get("anticoagulant_therapy")
    by = consent.get("by")
    try:
        validate_v3_intake(
            condition_code=main_code,
            findings=data.get("findings"),
            additional_conditions=data.get("additional_conditions"),
            consent_obtained=consent.get("obtained") is True or data.get("consent_obtained") is True,
            consent_by=by if isinstance(by, str) else "",
            anticoagulant_therapy=anticoagulant if isinstance(anticoagulant, bool) else None,
            today=timezone.localdate(),
        )
    except ServiceError as exc:
        return contract_errors(exc)
    return {}


def _main_code(data: Mapping) -> str:
    condition = data.get("condition")
    raw = condition.get("icd10") if isinstance(condition, Mapping) else None
    try:
        return clean_icd10(raw) if isinstance(raw, str) else ""
    except CodeError:
        return ""


def checked_v3(serializer: serializers.Serializer, data, *, referral: bool):
    """The fields' own checks and, on a referral, intake.clinical's: every error at once, as flat
    contract fields. An answer's values are checked by the service against the case's, merged."""
    errors: dict[str, list[str]] = {}
    value = None
    try:
        value = serializers.Serializer.to_internal_value(serializer, data)
    except serializers.ValidationError as exc:
        errors = flatten_errors(exc.detail)
    if isinstance(data, Mapping):
        more = consent_disagreement(data, one_required=referral)
        if referral:
            more |= _v3_errors(data, main_code=_main_code(data))
        for field, messages in more.items():
            errors.setdefault(field, messages)
    if errors:
        raise serializers.ValidationError(errors)
    return value
