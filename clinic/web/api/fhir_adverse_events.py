"""The FHIR door for a partner's adverse-event report: POST /api/v1/fhir/AdverseEvent, the twin of
POST /api/v1/referrals/{id}/adverse-events/ (same keys, same idempotency, same rules), its errors
an OperationOutcome."""

import uuid

from django.core.exceptions import ValidationError as ServiceError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from clinic.aftercare import adverse_events
from clinic.aftercare import selectors as course_selectors
from clinic.aftercare.errors import AftercareError, DuplicateReport, NoTreatment
from clinic.aftercare.models import TreatmentRecord
from clinic.aftercare.vocabulary import AdverseEventSource
from clinic.web.api.adverse_event_fields import AdverseEventReportSerializer, contract_errors
from clinic.web.api.auth import partner_of
from clinic.web.api.errors import flatten_errors
from clinic.web.api.fhir import OUTCOMES, FHIRView
from clinic.web.api.once import idempotent
from clinic.web.fhir import FHIR_JSON
from clinic.web.fhir.adverse_event_inbound import InboundReport, issues_from_report_errors, read_adverse_event
from clinic.web.fhir.adverse_event_outbound import (
    AE_OUTCOME,
    CAUSALITY,
    CTCAE_GRADE,
    PARTNER_AE_ID,
    QUALIFICATION_SYSTEM,
    SERIOUSNESS,
    SERIOUSNESS_CRITERIA,
    adverse_event,
)
from clinic.web.fhir.outcome import kind_outcome, operation_outcome
from clinic.web.fhir.reading import FHIRInputError, Issue
from clinic.web.reads import partner_case
from intake.event_types import TREATED, receives
from intake.models import Case
from intake.referrals import partner_actor

EXAMPLE_ADVERSE_EVENT = {
    "resourceType": "AdverseEvent",
    "identifier": {"system": PARTNER_AE_ID, "value": "AE-2026-0042"},
    "actuality": "actual",
    "subject": {"display": "The patient of referral RF-1001"},
    "date": "2026-11-05",
    "event": {"text": "Swelling and warmth of the right knee two days after the injection."},
    "seriousness": {"coding": [{"system": SERIOUSNESS, "code": "Non-serious"}]},
    "outcome": {"coding": [{"system": AE_OUTCOME, "code": "recovering"}]},
    "extension": [{"url": CTCAE_GRADE, "valueInteger": 2}],
    "contained": [
        {
            "resourceType": "Practitioner",
            "id": "reporter",
            "name": [{"text": "Dr Maria Costa"}],
            "qualification": [{"code": {"coding": [{"system": QUALIFICATION_SYSTEM, "code": "physician"}]}}],
        }
    ],
    "recorder": {"reference": "#reporter"},
    "suspectEntity": [
        {
            "instance": {"reference": "Procedure/0b1e6c7a-3f1d-4c1e-9a51-6f0f5b8d2c44"},
            "causality": [{"assessment": {"coding": [{"system": CAUSALITY, "code": "Possible"}]}}],
        }
    ],
}


class FHIRAdverseEventView(FHIRView):
    """Report an adverse event on one of your referrals with a FHIR R4 AdverseEvent."""

    @extend_schema(
        operation_id="reportFhirAdverseEvent",
        summary="Report an adverse event with a FHIR R4 AdverseEvent",
        description=(
            "The twin of `POST /api/v1/referrals/{id}/adverse-events/`, for a referral that has a "
            "treatment course (in any state). `suspectEntity.instance` names the treatment's "
            "`Procedure/<id>` from the referral's Bundle, or the referral's `ServiceRequest/<id>` "
            "before any treatment (another partner's is `404`); `identifier` (system "
            f"`{PARTNER_AE_ID}`) is your `external_id`; `date` the onset; `event.text` the "
            f"description; the CTCAE grade an extension `{CTCAE_GRADE}` (valueInteger 1-5); "
            f"`seriousness` from `{SERIOUSNESS}` and each criterion an extension "
            f"`{SERIOUSNESS_CRITERIA}` (valueCode); `outcome` from `{AE_OUTCOME}`; the reporter a "
            "contained Practitioner or RelatedPerson named by `recorder`, the qualification coded in "
            f"`{QUALIFICATION_SYSTEM}`; your opinion of relatedness a `causality.assessment` from "
            f"`{CAUSALITY}`. Answers `201` with the AdverseEvent as stored; errors are an "
            "OperationOutcome."
        ),
        request={FHIR_JSON: OpenApiTypes.OBJECT},
        responses={
            (201, FHIR_JSON): OpenApiResponse(OpenApiTypes.OBJECT, description="The AdverseEvent"),
            **OUTCOMES,
        },
        examples=[OpenApiExample("A grade 2 reaction", value=EXAMPLE_ADVERSE_EVENT, request_only=True)],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        return self.fhir_response(*_report(partner_of(request), request.data))


def _report(partner, data) -> tuple[int, dict]:
    try:
        report = read_adverse_event(data)
    except FHIRInputError as exc:
        return 400, operation_outcome(exc.issues, kind="validation")
    found = _referral(partner, report)
    if isinstance(found, tuple):
        return found
    case = found
    course = course_selectors.course_of(case.pk)
    if course is None:
        return _no_treatment(case)
    # The JSON door's serializer, so both doors take the same values.
    serializer = AdverseEventReportSerializer(data=report.body)
    if not serializer.is_valid():
        issues = issues_from_report_errors(flatten_errors(serializer.errors), report.body)
        return 400, operation_outcome(issues, kind="validation")
    values = dict(serializer.validated_data)
    external_id = values.pop("external_id")
    try:
        ae = adverse_events.report_adverse_event(
            course_id=course.pk,
            source=AdverseEventSource.PARTNER,
            actor=partner_actor(partner, via="FHIR"),
            values=values,
            partner=partner,
            external_id=external_id,
        )
    except DuplicateReport as exc:
        return 409, kind_outcome(
            "duplicate-adverse-event",
            f"You reported {external_id} before, as adverse event {exc.adverse_event_id}: to add to it, "
            f"post an update (POST /api/v1/referrals/{case.pk}/adverse-events/{exc.adverse_event_id}"
            "/updates/); for a new event, use a new identifier.",
            "AdverseEvent.identifier",
        )
    except NoTreatment:
        return _no_treatment(case)
    except ServiceError as exc:
        issues = issues_from_report_errors(contract_errors(exc), report.body)
        return 400, operation_outcome(issues, kind="validation")
    except AftercareError as exc:
        return 409, operation_outcome([Issue("conflict", str(exc))])
    # The suspect as the partner's Bundle shows it: the Procedures with a treated subscription.
    records = list(course.records.all()) if receives(partner.event_types, TREATED) else []
    return 201, adverse_event(ae, case=case, records=records, own=True)


def _no_treatment(case: Case) -> tuple[int, dict]:
    return 409, kind_outcome(
        "no-treatment",
        f"Referral {case.external_id or case.pk} has no treatment course yet; until the clinic records "
        "one, tell the clinic about the event directly.",
        "AdverseEvent.suspectEntity",
    )


NOT_FOUND = "No such referral or treatment, or it belongs to another partner."


def _referral(partner, report: InboundReport) -> Case | tuple[int, dict]:
    """The one referral of the partner's that the suspects (and the subject, if it names one) point
    at; or the answer: 404 for one not found or another's, 400 for two different referrals."""
    cases: dict[uuid.UUID, Case] = {}
    for index, suspect in enumerate(report.suspects):
        where = f"AdverseEvent.suspectEntity[{index}].instance"
        case = _case_of(partner, suspect.kind, suspect.id)
        if case is None:
            return 404, operation_outcome([Issue("not-found", NOT_FOUND, where)])
        cases[case.pk] = case
    if report.subject_referral_id is not None:
        case = _case_of(partner, "ServiceRequest", report.subject_referral_id)
        if case is None:
            return 404, operation_outcome([Issue("not-found", NOT_FOUND, "AdverseEvent.subject")])
        cases[case.pk] = case
    if len(cases) != 1:
        issue = Issue(
            "invalid",
            "The suspects and the subject name different referrals: report the event on one referral.",
            "AdverseEvent.suspectEntity",
        )
        return 400, operation_outcome([issue], kind="validation")
    return next(iter(cases.values()))


def _case_of(partner, kind: str, value: uuid.UUID) -> Case | None:
    case_id = value
    if kind in ("Procedure", ""):
        record_case = TreatmentRecord.objects.filter(pk=value).values_list("case_id", flat=True).first()
        if record_case is not None:
            case_id = record_case
        elif kind == "Procedure":
            return None
    try:
        return partner_case(partner=partner, case_id=case_id)
    except Case.DoesNotExist:
        return None
