"""Validation of the referral body of the partner contract (DESIGN.md), field by field."""

import re
from datetime import date

from django.utils import timezone
from rest_framework import serializers

from clinic.aftercare.statuses import CourseState
from clinic.web.api.enums import OpenChoiceField, open_enum  # noqa: F401  (re-exported)
from clinic.web.api.v3_fields import AdditionalConditionsField, FindingsField, checked_v3
from intake.clinical import Answer, Consent, validate_v3_intake
from intake.models import CONTRAINDICATIONS, CaseStatus, ConsentBy, Priority, Sex
from intake.text import NotADate, iso_date
from intake.validators import no_invisible_characters
from intake.vocabulary.body_sites import BODY_SITES
from intake.vocabulary.codes import CodeError, clean_icd10
from intake.vocabulary.routes import FINAL_ROUTES, OUTCOMES
from recommendations.models import ProtocolBasis

PHONE = re.compile(r"^\+?[0-9(][0-9 ()-]{5,30}$")


class StrictBooleanField(serializers.BooleanField):
    """Only JSON true/false: "no", 0 or "" must not pass for a clinical answer."""

    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data):
        if data is True or data is False:
            return data
        self.fail("invalid")


class IsoDateField(serializers.DateField):
    """YYYY-MM-DD in ASCII digits and nothing else, as the message says (intake.text.iso_date)."""

    def to_internal_value(self, value):
        try:
            return iso_date(value)
        except NotADate as exc:
            if exc.calendar:
                raise serializers.ValidationError(str(exc), code="invalid") from None
            self.fail("invalid")


class PatientSerializer(serializers.Serializer):
    given_name = serializers.CharField(max_length=100, validators=[no_invisible_characters])
    family_name = serializers.CharField(max_length=100, validators=[no_invisible_characters])
    birth_date = IsoDateField(
        error_messages={"invalid": "Use the date format YYYY-MM-DD, for example 1961-04-02."}
    )
    sex = serializers.ChoiceField(
        choices=Sex.values,
        error_messages={"invalid_choice": f"“{{input}}” is not one of: {', '.join(Sex.values)}."},
    )
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")

    def validate_birth_date(self, value: date) -> date:
        today = self.context.get("today") or date.today()
        if value > today:
            raise serializers.ValidationError("The birth date is in the future.")
        if value.year < 1900:
            raise serializers.ValidationError("The birth date is before 1900; check the year.")
        return value

    def validate_phone(self, value: str) -> str:
        if value and not PHONE.match(value):
            raise serializers.ValidationError(
                "Use digits with an optional leading +, for example +15551234567."
            )
        return value


class ConditionSerializer(serializers.Serializer):
    icd10 = serializers.CharField(max_length=16)
    description = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")

    def validate_icd10(self, value: str) -> str:
        # `recommend --ruleset-version 1` replays v1, which checked the form only.
        try:
            return clean_icd10(value, must_exist=self.context.get("code_set", True))
        except CodeError as exc:
            raise serializers.ValidationError(str(exc)) from None


class ContraindicationsSerializer(serializers.Serializer):
    """Every answer is required on a referral; an answer to a question sends only those it changes."""

    answers_required = True

    def get_fields(self):
        return {
            **{
                name: StrictBooleanField(
                    required=self.answers_required,
                    error_messages={
                        "required": "Answer true or false; a missing answer is not taken as false.",
                        "null": "Answer true or false; null is not an answer.",
                    },
                )
                for name in CONTRAINDICATIONS
            },
            # Rule set v3's one optional answer: null or absent is "not asked".
            "breastfeeding": StrictBooleanField(
                required=False,
                allow_null=True,
                help_text="Optional (rule set v3): true when the patient is breastfeeding; null or absent "
                "means not asked.",
            ),
        }


class ChangedAnswersSerializer(ContraindicationsSerializer):
    answers_required = False


FORM_VERSION_ERRORS = {
    "invalid": "Send the consent form's version as text, for example 2026-03.",
    "null": "Send the consent form's version as text, for example 2026-03, or leave it out.",
    "max_length": "Use at most {max_length} characters for the consent form's version, for example 2026-03.",
}


def form_version_field(**kwargs) -> serializers.CharField:
    """The consent form's version, wherever a body carries it (stored on the case, 32 characters)."""
    return serializers.CharField(
        max_length=32,
        required=False,
        allow_blank=True,
        default="",
        error_messages=FORM_VERSION_ERRORS,
        **kwargs,
    )


PRIORITIES = ["routine", "urgent"]
PRIORITY_ERRORS = {
    "invalid_choice": "“{input}” is not a priority: send routine or urgent, or leave it out for routine.",
    "null": "Send routine or urgent, or leave priority out for routine; null is not a priority.",
}


class ConsentSerializer(serializers.Serializer):
    """Who gave consent (rule set v3, rule 6)."""

    obtained = StrictBooleanField(help_text="true when consent to the consult was given.")
    by = OpenChoiceField(
        choices=ConsentBy.values,
        required=False,
        allow_null=True,
        help_text="Who gave it: required when `obtained` is true, else null. A minor's consent is a "
        "guardian's or legal representative's.",
        error_messages={"invalid_choice": f"“{{input}}” is not one of: {', '.join(ConsentBy.values)}."},
    )
    form_version = form_version_field(help_text="The consent form's version, for example 2026-03.")
    assent = StrictBooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="A minor's assent: true, false, or null when not recorded.",
    )

    def validate(self, attrs: dict) -> dict:
        if attrs["obtained"] and not attrs.get("by"):
            raise serializers.ValidationError(
                {"by": [f"Say who gave consent: one of {', '.join(ConsentBy.values)}."]}
            )
        return attrs


CONSENT_RULE = (
    "Send `consent_obtained`, `consent` or both; when both are sent they must agree on `obtained`. "
    "`consent_obtained: true` alone means consent by the patient (for a minor, this is not consent: "
    "send `consent` with `by` guardian or legal_representative)."
)


class ReferralSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=100, validators=[no_invisible_characters])
    patient = PatientSerializer()
    condition = ConditionSerializer()
    affected_sites = serializers.ListField(
        child=serializers.ChoiceField(
            choices=list(BODY_SITES),
            error_messages={"invalid_choice": "“{input}” is not a body site; see GET /api/v1/body-sites/."},
        ),
        max_length=len(BODY_SITES),
        allow_empty=True,
    )
    contraindications = ContraindicationsSerializer()
    consent_obtained = StrictBooleanField(required=False, help_text=CONSENT_RULE)
    goals = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    consent = ConsentSerializer(required=False, help_text="Optional (rule set v3). " + CONSENT_RULE)
    findings = FindingsField(required=False)
    additional_conditions = AdditionalConditionsField(required=False)
    priority = serializers.ChoiceField(
        choices=PRIORITIES,
        default="routine",
        error_messages=PRIORITY_ERRORS,
        help_text="routine (when left out) or urgent: the review queue puts urgent before routine, oldest "
        "first within each. On the FHIR door, ServiceRequest.priority (asap and stat are queued as urgent).",
    )

    def __init__(self, *args, require_external_id: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not require_external_id:
            self.fields["external_id"].required = False

    def to_internal_value(self, data):
        return _as_case_fields(checked_v3(self, data, referral=True))


def _as_case_fields(value: dict) -> dict:
    """The body in the one form every door hands to submit_referral: consent as the case's
    fields, findings and additional conditions as intake.clinical cleaned them, priority by number."""
    consent = value.pop("consent", None)
    if consent is not None:
        value |= {
            "consent_obtained": consent["obtained"],
            "consent_by": consent.get("by") or "",
            "consent_form_version": consent.get("form_version", ""),
            "assent": consent.get("assent"),
        }
    value["breastfeeding"] = value["contraindications"].pop("breastfeeding", None)
    value["findings"], value["additional_conditions"], value["consent_by"] = validate_v3_intake(
        condition_code=value["condition"]["icd10"],
        findings=value.get("findings"),
        additional_conditions=value.get("additional_conditions"),
        consent_obtained=value["consent_obtained"],
        consent_by=value.get("consent_by", ""),
        anticoagulant_therapy=value["contraindications"]["anticoagulant_therapy"],
        today=timezone.localdate(),
    )
    value["priority"] = Priority.URGENT if value["priority"] == "urgent" else Priority.ROUTINE
    return value


class DecisionProtocolSerializer(serializers.Serializer):
    """The protocol a decision is made under, as it stood when signed (a later version never changes it)."""

    id = serializers.CharField(help_text="The protocol's id.")
    version = serializers.IntegerField(help_text="The version the decision is made under.")
    title = serializers.CharField()
    basis = OpenChoiceField(
        choices=ProtocolBasis.values,
        help_text="The regulatory basis; an open enum (more may be added within v1).",
    )
    reference = serializers.CharField(
        allow_blank=True, help_text="The product licence, IND or NCT number, IRB approval or registration."
    )


class DecisionOutSerializer(serializers.Serializer):
    route = serializers.ChoiceField(choices=list(FINAL_ROUTES))
    outcome = serializers.ChoiceField(choices=list(OUTCOMES))
    reason = serializers.CharField(allow_blank=True)
    decided_at = serializers.DateTimeField()
    protocol = DecisionProtocolSerializer(
        allow_null=True,
        help_text="The protocol the decision is made under; null for not_recommended and declined (and for "
        "decisions made before the clinic drafted under protocols).",
    )


def _names(help_text: str, **kwargs) -> serializers.ListField:
    return serializers.ListField(child=serializers.CharField(), help_text=help_text, **kwargs)


class NeedsSerializer(serializers.Serializer):
    """What the draft behind the open question asks for; members not asked are empty, null or false.
    More members may be added within v1 (one per new reason to ask)."""

    findings = _names("Finding keys to send (GET /api/v1/findings/).")
    consent_by = _names(
        "Who may give the consent still needed (a minor's: guardian or legal_representative).",
        allow_null=True,
    )
    assent = serializers.BooleanField(allow_null=True, help_text="true when the minor's assent is needed.")
    sites_without_condition = _names("Listed sites outside the coded condition's region.")
    sites_on_wrong_side = _names("Listed sites on the other side of a one-sided code.")
    sites = serializers.BooleanField(help_text="true when no affected site was given.")
    histology = serializers.BooleanField(help_text="true for a neoplasm of unspecified behaviour.")
    protocols = _names("The protocol ids among which to choose.")
    cancer_treatment_ended = serializers.BooleanField(
        help_text="true when the date a cancer treatment ended is needed (finding cancer_treatment_ended)."
    )


class TreatmentSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The treatment course's id.")
    state = OpenChoiceField(choices=CourseState.values, help_text="The course's state (an open enum).")
    state_changed_at = serializers.DateTimeField()


class ReferralOutSerializer(serializers.Serializer):
    """A referral as its partner sees it. The draft is never shown."""

    id = serializers.UUIDField()
    external_id = serializers.CharField()
    status = serializers.ChoiceField(choices=CaseStatus.values)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    question = serializers.CharField(
        allow_null=True, help_text="The specialist's open question while the status is needs_information."
    )
    decision = DecisionOutSerializer(allow_null=True, help_text="Present once the status is decided.")
    needs = NeedsSerializer(
        required=False,
        help_text="Present only while the status is needs_information: what answering must send.",
    )
    treatment = TreatmentSerializer(required=False, allow_null=True, help_text="null until a course opens.")


class InformationSerializer(serializers.Serializer):
    answer = serializers.CharField(max_length=5000)
    condition = ConditionSerializer(
        required=False, help_text="A corrected condition, if the answer changes it."
    )
    affected_sites = serializers.ListField(
        child=serializers.ChoiceField(choices=list(BODY_SITES)),
        required=False,
        max_length=len(BODY_SITES),
        help_text="The corrected list of affected sites, if the answer changes it.",
    )
    consent_obtained = StrictBooleanField(
        required=False, help_text="true when the patient has given consent since the referral was sent."
    )
    consent_form_version = form_version_field(
        help_text="The consent form's version, with `consent_obtained: true` (or `consent.form_version`)."
    )
    consent = ConsentSerializer(
        required=False,
        help_text="Optional (rule set v3): consent as on a referral. Without it, `consent_obtained: true` "
        "(and `consent_form_version`) mean consent by the patient; when both are sent they must agree.",
    )
    findings = FindingsField(
        required=False, help_text="Findings to add or correct, merged key by key with those already sent."
    )
    contraindications = ChangedAnswersSerializer(
        required=False, help_text="Answers to correct (or `breastfeeding` to add), merged key by key."
    )
    additional_conditions = AdditionalConditionsField(
        required=False, help_text="The complete list of additional conditions; it replaces the one sent."
    )

    def to_internal_value(self, data):
        return checked_v3(self, data, referral=False)


def answer_from(data: dict) -> Answer:
    """The Answer a valid InformationSerializer holds, for both the JSON and the FHIR door.
    Without a `consent` object, `consent_obtained: true` (and `consent_form_version`) mean
    consent by the patient."""
    condition, consent = data.get("condition"), data.get("consent")
    form_version = data.get("consent_form_version", "")
    if consent is not None:
        recorded = Consent(
            obtained=consent["obtained"],
            by=consent.get("by") or "",
            form_version=consent.get("form_version") or form_version,
            assent=consent.get("assent"),
        )
    else:
        recorded = Consent(obtained=True, form_version=form_version) if data.get("consent_obtained") else None
    return Answer(
        answer=data["answer"],
        condition_code=condition["icd10"] if condition else None,
        condition_text=condition.get("description") if condition else None,
        affected_sites=data.get("affected_sites"),
        consent=recorded,
        findings=data.get("findings"),
        contraindications=data.get("contraindications") or {},
        additional_conditions=data.get("additional_conditions"),
    )


class WithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class ProblemErrorSerializer(serializers.Serializer):
    field = serializers.CharField()
    pointer = serializers.CharField()
    detail = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    """application/problem+json (RFC 9457)."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    instance = serializers.CharField(required=False)
    errors = ProblemErrorSerializer(many=True, required=False)
    referral_id = serializers.UUIDField(required=False, help_text="On 409 for a repeated external_id.")
