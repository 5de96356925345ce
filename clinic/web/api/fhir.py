"""The FHIR R4 door of the partner API: same keys, same idempotency, same rules as the
JSON referrals; resources in, resources out, errors as an OperationOutcome."""

from collections.abc import Callable

from django.core.exceptions import ValidationError as ServiceError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic.web.api.auth import IsPartnerOrStaff, partner_of
from clinic.web.api.errors import flatten_errors
from clinic.web.api.once import idempotent
from clinic.web.api.parsers import FHIRJSONParser, JSONBodyParser
from clinic.web.api.problems import exception_handler as problem_exception_handler
from clinic.web.api.serializers import (
    InformationSerializer,
    ReferralSerializer,
    WithdrawSerializer,
    answer_from,
)
from clinic.web.api.v3_fields import contract_errors
from clinic.web.fhir import (
    BODY_SITE_SYSTEM,
    CONDITION_ROLE_SYSTEM,
    FHIR_JSON,
    FINDING_SYSTEM,
    ICD10_CM,
    SCREENING_QUESTIONNAIRE,
)
from clinic.web.fhir.followups import issues_from_answer_errors, read_answer, withdrawal_from_fhir
from clinic.web.fhir.inbound import issues_from_field_errors, read_referral
from clinic.web.fhir.outbound import referral_bundle, screening_questionnaire, service_request
from clinic.web.fhir.outcome import kind_outcome, operation_outcome, outcome_from_problem
from clinic.web.fhir.reading import FHIRInputError, Issue
from clinic.web.reads import partner_case
from intake.audit import record_reads
from intake.models import Case, ReadAccess
from intake.referrals import DuplicateReferral, partner_actor, submit_referral
from intake.services import answer_information, withdraw_case
from intake.workflow import TransitionError


class FHIRJSONRenderer(JSONRenderer):
    media_type = FHIR_JSON


class OperationOutcomeIssueSerializer(serializers.Serializer):
    severity = serializers.ChoiceField(choices=["fatal", "error", "warning", "information"])
    code = serializers.CharField(help_text="A FHIR IssueType: required, value, code-invalid, duplicate, ...")
    diagnostics = serializers.CharField()
    expression = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="FHIRPath of the element at fault."
    )


class OperationOutcomeSerializer(serializers.Serializer):
    resourceType = serializers.ChoiceField(choices=["OperationOutcome"])  # noqa: N815 (FHIR's name)
    issue = OperationOutcomeIssueSerializer(many=True)


OUTCOMES = {
    (code, FHIR_JSON): OperationOutcomeSerializer for code in (400, 401, 403, 404, 409, 413, 415, 422, 429)
}

EXAMPLE_SERVICE_REQUEST = {
    "resourceType": "ServiceRequest",
    "contained": [
        {
            "resourceType": "Patient",
            "id": "patient",
            "name": [{"use": "official", "family": "Silva", "given": ["Ana"]}],
            "gender": "female",
            "birthDate": "1961-04-02",
            "telecom": [{"system": "phone", "value": "+15551234567", "use": "mobile"}],
        },
        {
            "resourceType": "Condition",
            "id": "condition",
            "subject": {"reference": "#patient"},
            "code": {
                "coding": [{"system": ICD10_CM, "code": "M17.11"}],
                "text": "Primary OA, right knee",
            },
        },
        {
            "resourceType": "QuestionnaireResponse",
            "id": "screening",
            "questionnaire": SCREENING_QUESTIONNAIRE,
            "status": "completed",
            "item": [
                {"linkId": name, "answer": [{"valueBoolean": value}]}
                for name, value in [
                    ("active_malignancy", False),
                    ("active_infection", False),
                    ("pregnant", False),
                    ("anticoagulant_therapy", False),
                    ("bleeding_disorder", False),
                    ("immunosuppressed", False),
                    ("consent_obtained", True),
                ]
            ]
            + [{"linkId": "goals", "answer": [{"valueString": "walk without pain"}]}],
        },
    ],
    "identifier": [
        {
            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "PLAC"}]},
            "value": "RF-1001",
        }
    ],
    "status": "active",
    "intent": "order",
    "subject": {"reference": "#patient"},
    "reasonReference": [{"reference": "#condition"}],
    "bodySite": [{"coding": [{"system": BODY_SITE_SYSTEM, "code": "right_knee"}]}],
    "supportingInfo": [{"reference": "#screening"}],
}


class FHIRView(APIView):
    parser_classes = [FHIRJSONParser, JSONBodyParser]
    renderer_classes = [FHIRJSONRenderer, JSONRenderer]

    # Every answer of the FHIR door, errors and replays of a POST (clinic.web.api.once) included.
    answer_media_type = FHIR_JSON

    def get_exception_handler(self):
        return lambda exc, context: outcome_from_problem(problem_exception_handler(exc, context))

    def fhir_response(self, status: int, body: dict) -> Response:
        return Response(body, status=status, content_type=FHIR_JSON)


class ServiceRequestCreateView(FHIRView):
    """Refer a patient with a FHIR R4 ServiceRequest."""

    @extend_schema(
        operation_id="createFhirServiceRequest",
        summary="Refer a patient with a FHIR R4 ServiceRequest",
        description=(
            "A ServiceRequest with its Patient, its Condition (coded in ICD-10-CM) and the screening "
            f"answers (a QuestionnaireResponse for `{SCREENING_QUESTIONNAIRE}`) contained, or the same "
            "resources as entries of a `transaction` Bundle. Body sites are coded with system "
            f"`{BODY_SITE_SYSTEM}` and the codes of `GET /api/v1/body-sites/`. The placer identifier "
            "is the referral's `external_id`. Rule set v3 (optional): findings as Observations (code in "
            f"`{FINDING_SYSTEM}`, status final, amended or corrected, value by the key's type, units "
            "in UCUM) and further conditions as Conditions coded in ICD-10-CM, each referenced from "
            "`supportingInfo`; the screening items `consent_by`, `consent_form_version`, `assent` and "
            "`breastfeeding`; `priority` routine or urgent (asap and stat are queued as urgent). "
            "Answers `201` with the ServiceRequest as held, and "
            "`Location` pointing at its Bundle; errors are an OperationOutcome."
        ),
        request={FHIR_JSON: OpenApiTypes.OBJECT},
        responses={
            (201, FHIR_JSON): OpenApiResponse(OpenApiTypes.OBJECT, description="The ServiceRequest"),
            **OUTCOMES,
        },
        examples=[OpenApiExample("A knee referral", value=EXAMPLE_SERVICE_REQUEST, request_only=True)],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        return self.fhir_response(*_submit(partner_of(request), request.data))

    def finalize_response(self, request: Request, response: Response, *args, **kwargs) -> Response:
        # Here, not in `post`: a replayed 201 points at the referral too.
        if request.method == "POST" and response.status_code == 201:
            response["Location"] = f"/api/v1/referrals/{response.data['id']}/fhir"
        return super().finalize_response(request, response, *args, **kwargs)


def _submit(partner, data) -> tuple[int, dict]:
    try:
        referral, places = read_referral(data)
    except FHIRInputError as exc:
        return 400, operation_outcome(exc.issues, kind="validation")
    serializer = ReferralSerializer(data=referral)
    if not serializer.is_valid():
        issues = issues_from_field_errors(flatten_errors(serializer.errors), places)
        return 400, operation_outcome(issues, kind="validation")
    try:
        case = submit_referral(partner=partner, referral=serializer.validated_data, via="FHIR")
    except DuplicateReferral as exc:
        existing = exc.existing
        return 409, kind_outcome(
            "duplicate-referral",
            f"Referral {existing.external_id} already exists as {existing.pk}; follow it at "
            f"/api/v1/referrals/{existing.pk}/fhir.",
            "ServiceRequest.identifier",
        )
    return 201, service_request(case)


class ReferralFHIRView(FHIRView):
    """One of your referrals as FHIR: ServiceRequest, Task, once decided, Provenance, and after a
    treatment decision the course as your subscriptions allow."""

    @extend_schema(
        operation_id="getReferralFhir",
        summary="A referral as a FHIR R4 Bundle",
        description=(
            "A `collection` Bundle: the ServiceRequest; a Task whose `status` follows the referral "
            "(received, in-progress, on-hold with the question as `statusReason`, failed, completed "
            "with the decision as `output`, cancelled) and whose `businessStatus` is the exact "
            "status; and, once decided, a Provenance for the decision. After a treatment decision, "
            "what your subscriptions unlock: a Procedure per signed treatment session and the course "
            "Task (code `treatment-course`; `referral.treated`, the Task alone with "
            "`referral.course_closed`), your own adverse-event reports always, and those staff "
            "confirmed (`referral.adverse_event`). The referral's own Task has code `referral-review` "
            "and comes first."
        ),
        responses={
            (200, FHIR_JSON): OpenApiResponse(OpenApiTypes.OBJECT, description="A Bundle"),
            **OUTCOMES,
        },
    )
    def get(self, request: Request, pk) -> Response:
        try:
            case = partner_case(partner=partner_of(request), case_id=pk)
        except Case.DoesNotExist:
            raise NotFound() from None
        record_reads(request=request, cases=[case], channel=ReadAccess.Channel.API, partner=case.partner)
        return Response(referral_bundle(case), content_type=FHIR_JSON)


EXAMPLE_COMMUNICATION = {
    "resourceType": "Communication",
    "status": "completed",
    "basedOn": [{"reference": "ServiceRequest/3f6c1c55-8f43-4b7e-9b8e-3c1f3f2f8a10"}],
    "payload": [{"contentString": "The pain is in the right knee only, since March."}],
}


class CommunicationCreateView(FHIRView):
    """Answer the specialist's question on a referral with a FHIR Communication."""

    @extend_schema(
        operation_id="answerWithFhirCommunication",
        summary="Answer the specialist's question with a FHIR R4 Communication",
        description=(
            "While a referral's Task is `on-hold` (its `statusReason` is the question), post a "
            "Communication `basedOn` its `ServiceRequest/<id>`, the answer as `payload.contentString`. "
            "A payload `contentReference` to a contained Condition (ICD-10-CM, body sites in our "
            "system) corrects the condition and the sites; one to a contained Observation adds or "
            "corrects a finding, one to a Condition with category `additional` (system "
            f"`{CONDITION_ROLE_SYSTEM}`) replaces the additional conditions, and the contained "
            "screening QuestionnaireResponse may record consent (`consent_obtained`, `consent_by`, "
            "`consent_form_version`, `assent`), `breastfeeding` and changed answers. "
            "The answer is recorded on the referral's "
            "timeline (no separate Communication resource is kept), so the response is `200` with the "
            "referral's Bundle, its Task back in progress."
        ),
        request={FHIR_JSON: OpenApiTypes.OBJECT},
        responses={
            (200, FHIR_JSON): OpenApiResponse(OpenApiTypes.OBJECT, description="A Bundle"),
            **OUTCOMES,
        },
        examples=[OpenApiExample("An answer", value=EXAMPLE_COMMUNICATION, request_only=True)],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        return self.fhir_response(*_answer(partner_of(request), request.data))


def _answer(partner, data) -> tuple[int, dict]:
    try:
        case_id, answer, places = read_answer(data)
    except FHIRInputError as exc:
        return 400, operation_outcome(exc.issues, kind="validation")
    serializer = InformationSerializer(data=answer)
    if not serializer.is_valid():
        issues = issues_from_answer_errors(flatten_errors(serializer.errors), places)
        return 400, operation_outcome(issues, kind="validation")
    # The JSON door's own mapping of an answer onto the service, so both doors mean the same.
    given = answer_from(serializer.validated_data)

    def answer(case: Case) -> None:
        answer_information(case=case, actor=partner_actor(partner, via="FHIR"), answer=given)

    return _on_referral(partner, case_id, "Communication.basedOn", answer, places=places)


def _on_referral(
    partner, case_id, where: str, act: Callable[[Case], object], *, places: dict[str, str] | None = None
) -> tuple[int, dict]:
    """Do `act` to one of the partner's referrals; answer with its Bundle, or the
    OperationOutcome of a referral not found (404), in the wrong status (409), or whose
    answer the services refuse against the values it already holds (400)."""
    try:
        case = partner_case(partner=partner, case_id=case_id)
    except Case.DoesNotExist:
        return 404, operation_outcome(
            [Issue("not-found", "No such referral, or it belongs to another partner.", where)]
        )
    try:
        act(case)
    except TransitionError as exc:
        return 409, kind_outcome("wrong-status", str(exc))
    except ServiceError as exc:
        return 400, operation_outcome(
            issues_from_answer_errors(contract_errors(exc), places), kind="validation"
        )
    return 200, referral_bundle(partner_case(partner=partner, case_id=case_id))


EXAMPLE_ABORT_TASK = {
    "resourceType": "Task",
    "status": "requested",
    "intent": "order",
    "code": {"coding": [{"system": "http://hl7.org/fhir/CodeSystem/task-code", "code": "abort"}]},
    "focus": {"reference": "ServiceRequest/3f6c1c55-8f43-4b7e-9b8e-3c1f3f2f8a10"},
    "reasonCode": {"text": "The patient chose another clinic."},
}


class TaskCreateView(FHIRView):
    """Withdraw a referral with a FHIR Task whose code is `abort`."""

    @extend_schema(
        operation_id="withdrawWithFhirTask",
        summary="Withdraw a referral with a FHIR R4 Task (code abort)",
        description=(
            "A Task with code `abort` (system `http://hl7.org/fhir/CodeSystem/task-code`), `focus` "
            "the referral's `ServiceRequest/<id>`, and the reason in `reasonCode.text`. A referral "
            "that is already decided cannot be withdrawn (409). The withdrawal is recorded on the "
            "referral's timeline (no separate Task is kept), so the response is `200` with the "
            "referral's Bundle: its ServiceRequest revoked, its Task cancelled."
        ),
        request={FHIR_JSON: OpenApiTypes.OBJECT},
        responses={
            (200, FHIR_JSON): OpenApiResponse(OpenApiTypes.OBJECT, description="A Bundle"),
            **OUTCOMES,
        },
        examples=[OpenApiExample("A withdrawal", value=EXAMPLE_ABORT_TASK, request_only=True)],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        return self.fhir_response(*_withdraw(partner_of(request), request.data))


def _withdraw(partner, data) -> tuple[int, dict]:
    try:
        case_id, reason = withdrawal_from_fhir(data)
    except FHIRInputError as exc:
        return 400, operation_outcome(exc.issues, kind="validation")
    serializer = WithdrawSerializer(data={"reason": reason})
    if not serializer.is_valid():
        issues = flatten_errors(serializer.errors)["reason"]
        issues = [Issue("value", message, "Task.reasonCode") for message in issues]
        return 400, operation_outcome(issues, kind="validation")
    reason = serializer.validated_data["reason"]
    return _on_referral(
        partner,
        case_id,
        "Task.focus",
        lambda case: withdraw_case(case=case, actor=partner_actor(partner, via="FHIR"), reason=reason),
    )


class ScreeningQuestionnaireView(FHIRView):
    """The Questionnaire a referral's screening answers follow."""

    permission_classes = [IsPartnerOrStaff]

    @extend_schema(
        operation_id="getFhirScreeningQuestionnaire",
        summary="The screening Questionnaire of a FHIR referral",
        description=(
            f"The Questionnaire `{SCREENING_QUESTIONNAIRE}`: the linkIds a referral's "
            "QuestionnaireResponse must answer."
        ),
        responses={
            (200, FHIR_JSON): OpenApiResponse(OpenApiTypes.OBJECT, description="A Questionnaire"),
            **OUTCOMES,
        },
    )
    def get(self, request: Request) -> Response:
        return Response(screening_questionnaire(), content_type=FHIR_JSON)
