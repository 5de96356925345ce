"""Validation of the referral body of the partner contract (DESIGN.md), field by field."""

import re
from datetime import date

from rest_framework import serializers

from intake.models import CONTRAINDICATIONS, Sex
from intake.text import NotADate, iso_date
from intake.validators import no_invisible_characters
from intake.vocabulary.body_sites import BODY_SITES
from intake.vocabulary.codes import CodeError, clean_icd10

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
    def get_fields(self):
        return {
            name: StrictBooleanField(
                error_messages={
                    "required": "Answer true or false; a missing answer is not taken as false.",
                    "null": "Answer true or false; null is not an answer.",
                }
            )
            for name in CONTRAINDICATIONS
        }


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
    consent_obtained = StrictBooleanField()
    goals = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)

    def __init__(self, *args, require_external_id: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not require_external_id:
            self.fields["external_id"].required = False


class DecisionOutSerializer(serializers.Serializer):
    route = serializers.ChoiceField(choices=["local_injection", "intravenous", "not_recommended"])
    outcome = serializers.ChoiceField(choices=["approved", "amended", "declined"])
    reason = serializers.CharField(allow_blank=True)
    decided_at = serializers.DateTimeField()


class ReferralOutSerializer(serializers.Serializer):
    """A referral as its partner sees it. The draft is never shown."""

    id = serializers.UUIDField()
    external_id = serializers.CharField()
    status = serializers.ChoiceField(
        choices=[
            "received",
            "drafting",
            "draft_failed",
            "awaiting_review",
            "needs_information",
            "decided",
            "withdrawn",
        ]
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    question = serializers.CharField(
        allow_null=True, help_text="The specialist's open question while the status is needs_information."
    )
    decision = DecisionOutSerializer(allow_null=True, help_text="Present once the status is decided.")


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
    consent_form_version = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")


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
