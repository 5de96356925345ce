"""The partner contract's members after the decision (DESIGN.md, "Partner reports" and "Partners: events
after the decision"): a partner's adverse-event report and its updates, field by field, and what the
reads and events show of a treatment course and an adverse event.

The serializers check each member's type, list and length; what needs the case (an onset not before
the decision, criteria exactly when serious, grade 5 with a fatal outcome) is the service's check
(clinic.aftercare.adverse_events), whose ValidationError names the same fields."""

from django.core.exceptions import ValidationError as ServiceError
from rest_framework import serializers

from clinic.aftercare.vocabulary import (
    AdverseEventOutcome,
    AdverseEventSource,
    Relatedness,
    ReporterQualification,
    SeriousnessCriterion,
    Triage,
)
from clinic.web.api.enums import OpenChoiceField
from clinic.web.api.serializers import IsoDateField, StrictBooleanField, TreatmentSerializer
from intake.validators import no_invisible_characters

GRADES = [1, 2, 3, 4, 5]


def _one_of(values, what: str) -> dict:
    return {"invalid_choice": f"“{{input}}” is not {what}: use one of {', '.join(values)}."}


class GradeField(serializers.ChoiceField):
    """CTCAE v5.0 grade, a JSON integer 1 to 5 (a closed enum): severity, never seriousness."""

    default_error_messages = {
        "invalid_choice": "Give the CTCAE v5.0 grade as a whole number from 1 to 5 (5 is death)."
    }

    def __init__(self, **kwargs):
        super().__init__(choices=GRADES, **kwargs)

    def to_internal_value(self, data):
        # "3", 3.0 or true are not grades: only the JSON integers 1-5.
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid_choice", input=data)
        return super().to_internal_value(data)


def criteria_field(**kwargs) -> serializers.ListField:
    return serializers.ListField(
        child=OpenChoiceField(
            choices=SeriousnessCriterion.values,
            error_messages=_one_of(SeriousnessCriterion.values, "a criterion"),
        ),
        max_length=len(SeriousnessCriterion.values),
        help_text="The seriousness criteria met: non-empty exactly when `serious` is true. An open enum.",
        **kwargs,
    )


def _once_each(value: list[str]) -> list[str]:
    if len(set(value)) != len(value):
        raise serializers.ValidationError("List each criterion once.")
    return value


class ReporterSerializer(serializers.Serializer):
    name = serializers.CharField(
        max_length=200, validators=[no_invisible_characters], help_text="Who reports the event."
    )
    qualification = OpenChoiceField(
        choices=ReporterQualification.values,
        error_messages=_one_of(ReporterQualification.values, "a qualification"),
        help_text="The reporter's qualification (an open enum).",
    )


class AdverseEventReportSerializer(serializers.Serializer):
    """A partner's report of an adverse event (POST /api/v1/referrals/{id}/adverse-events/)."""

    external_id = serializers.CharField(
        max_length=100,
        validators=[no_invisible_characters],
        help_text="Your id for this report, unique among your reports: a repeat is `409` "
        "`duplicate-adverse-event` naming the report already stored.",
    )
    onset = IsoDateField(
        error_messages={"invalid": "Give the onset as a date, YYYY-MM-DD, for example 2026-12-03."},
        help_text="When the event began: not before the decision's date, not in the future.",
    )
    description = serializers.CharField(max_length=5000, help_text="What happened, in your words.")
    ctcae_grade = GradeField(help_text="The CTCAE v5.0 grade, 1-5: severity, never seriousness.")
    serious = StrictBooleanField(help_text="Whether the event is serious.")
    seriousness_criteria = criteria_field(required=False, default=list)
    outcome = OpenChoiceField(
        choices=AdverseEventOutcome.values,
        error_messages=_one_of(AdverseEventOutcome.values, "an outcome"),
        help_text="The outcome as you know it now (an open enum); `unknown` when you do not know it.",
    )
    action_taken = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default="", help_text="Optional."
    )
    reporter = ReporterSerializer()
    relatedness_opinion = serializers.ChoiceField(
        choices=Relatedness.values,
        required=False,
        allow_blank=True,
        default="",
        error_messages=_one_of(Relatedness.values, "a WHO-UMC category"),
        help_text="Optional: the reporter's view of relatedness (WHO-UMC). The clinic records its own "
        "assessment and expectedness.",
    )

    def validate_seriousness_criteria(self, value: list[str]) -> list[str]:
        return _once_each(value)


UPDATE_MEMBERS = ("outcome", "ctcae_grade", "serious", "seriousness_criteria", "note")


class AdverseEventUpdateSerializer(serializers.Serializer):
    """New information on one of your reports: its own `external_id` and at least one member."""

    external_id = serializers.CharField(
        max_length=100,
        validators=[no_invisible_characters],
        help_text="Your id for this update, unique among the updates of this report.",
    )
    outcome = OpenChoiceField(
        choices=AdverseEventOutcome.values,
        required=False,
        error_messages=_one_of(AdverseEventOutcome.values, "an outcome"),
    )
    ctcae_grade = GradeField(required=False)
    serious = StrictBooleanField(required=False)
    seriousness_criteria = criteria_field(required=False)
    note = serializers.CharField(max_length=5000, required=False, help_text="New information, in words.")

    def validate_seriousness_criteria(self, value: list[str]) -> list[str]:
        return _once_each(value)

    def validate(self, attrs: dict) -> dict:
        if not any(name in attrs for name in UPDATE_MEMBERS):
            raise serializers.ValidationError(
                {"body": [f"Send at least one of {', '.join(UPDATE_MEMBERS)} besides external_id."]}
            )
        return attrs


def contract_errors(exc: ServiceError) -> dict[str, list[str]]:
    """A service's ValidationError as the API's field errors: its fields are the contract's names
    (`onset`, `reporter.name`), so they become the pointers (`#/onset`, `#/reporter/name`)."""
    if hasattr(exc, "error_dict"):
        return {
            ("body" if field == "__all__" else field): messages
            for field, messages in exc.message_dict.items()
        }
    return {"body": exc.messages}


# --- What the reads and events show ---------------------------------------------------------------


class ReporterOutSerializer(serializers.Serializer):
    name = serializers.CharField()
    qualification = OpenChoiceField(choices=ReporterQualification.values)


class PartnerAdverseEventSerializer(serializers.Serializer):
    """An adverse event as a partner sees it; `referral.adverse_event`'s `adverse_event`."""

    id = serializers.UUIDField()
    onset = serializers.DateField()
    ctcae_grade = serializers.ChoiceField(choices=GRADES, allow_null=True, help_text="null: not graded yet.")
    serious = serializers.BooleanField(allow_null=True, help_text="null: not assessed yet.")
    seriousness_criteria = serializers.ListField(child=OpenChoiceField(choices=SeriousnessCriterion.values))
    outcome = OpenChoiceField(choices=AdverseEventOutcome.values)
    received_at = serializers.DateTimeField(help_text="When the clinic learned of it.")
    source = OpenChoiceField(
        choices=AdverseEventSource.values, help_text="Who reported it: partner, staff or patient (open)."
    )


class AdverseEventListItemSerializer(PartnerAdverseEventSerializer):
    """One report in `GET …/adverse-events/`; your own reports add what you sent."""

    external_id = serializers.CharField(required=False, help_text="Your own reports only.")
    triage = OpenChoiceField(
        choices=Triage.values, required=False, help_text="Your own reports only: received until staff look."
    )
    description = serializers.CharField(required=False, help_text="Your own reports only, as you sent it.")


class AdverseEventOutSerializer(PartnerAdverseEventSerializer):
    """Your report as stored (201): immutable; new information goes in an update."""

    external_id = serializers.CharField()
    triage = OpenChoiceField(choices=Triage.values, help_text="`received` until staff triage it (open).")
    description = serializers.CharField()
    action_taken = serializers.CharField(allow_blank=True)
    reporter = ReporterOutSerializer()
    relatedness_opinion = serializers.ChoiceField(choices=Relatedness.values, allow_blank=True)


class AdverseEventUpdateOutSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The update's id.")
    adverse_event_id = serializers.UUIDField()
    external_id = serializers.CharField()
    received_at = serializers.DateTimeField(
        help_text="When the clinic received it; an update that makes the event serious starts the serious "
        "clock here."
    )


def report_out(ae) -> dict:
    """The 201 body of a report: what was stored, with the server's id, triage and clock."""
    return {
        "id": str(ae.pk),
        "external_id": ae.external_id,
        "source": ae.source,
        "triage": ae.triage,
        "received_at": ae.received_at.isoformat(),
        "onset": ae.onset.isoformat(),
        "description": ae.description,
        "ctcae_grade": ae.ctcae_grade,
        "serious": ae.serious,
        "seriousness_criteria": list(ae.seriousness_criteria),
        "outcome": ae.outcome,
        "action_taken": ae.action_taken,
        "reporter": {"name": ae.reporter_name, "qualification": ae.reporter_qualification},
        "relatedness_opinion": ae.relatedness_opinion,
    }


def list_item(ae, *, own: bool) -> dict:
    """One report of the list: the members every subscribed partner reads, and on its own reports
    what it sent (never the clinic's or the patient's free text)."""
    item = {
        "id": str(ae.pk),
        "onset": ae.onset.isoformat(),
        "ctcae_grade": ae.ctcae_grade,
        "serious": ae.serious,
        "seriousness_criteria": list(ae.seriousness_criteria),
        "outcome": ae.outcome,
        "received_at": ae.received_at.isoformat(),
        "source": ae.source,
    }
    if own:
        item |= {"external_id": ae.external_id, "triage": ae.triage, "description": ae.description}
    return item


# --- The treatment course -------------------------------------------------------------------------


class TreatmentProtocolSerializer(serializers.Serializer):
    id = serializers.CharField()
    version = serializers.IntegerField()


class TreatedTreatmentSerializer(TreatmentSerializer):
    """`referral.treated`'s `treatment`: one signed session (route, sites, protocol; never the product)."""

    treated_at = serializers.DateTimeField(help_text="When this session was administered.")
    route = serializers.CharField(
        help_text="The route administered (the decision's, or another with a reason)."
    )
    sites = serializers.ListField(child=serializers.CharField(), help_text="Body sites treated.")
    protocol = TreatmentProtocolSerializer(allow_null=True, help_text="The protocol administered under.")


class ClosedTreatmentSerializer(TreatmentSerializer):
    """`referral.course_closed`'s `treatment`."""

    closed_at = serializers.DateTimeField()


# --- The events' `data` for a JSON partner (clinic.web.api.catalogue) ---------------------------------


class ReferralIdsSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The referral's id.")
    external_id = serializers.CharField(help_text="Your id for the referral.")


class TreatedDataSerializer(ReferralIdsSerializer):
    """`referral.treated`'s `data` for a JSON partner: the referral's ids and the signed session."""

    treatment = TreatedTreatmentSerializer()


class CourseClosedDataSerializer(ReferralIdsSerializer):
    """`referral.course_closed`'s `data` for a JSON partner: the referral's ids and how the course ended."""

    treatment = ClosedTreatmentSerializer()


class AdverseEventDataSerializer(ReferralIdsSerializer):
    """`referral.adverse_event`'s `data` for a JSON partner: the referral's ids and the event."""

    adverse_event = PartnerAdverseEventSerializer()
