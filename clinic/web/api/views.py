"""Partner API v1 views. They authenticate, validate and call services; nothing more."""

from django.core.exceptions import ValidationError as ServiceError
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from clinic.web.api.auth import partner_identity_of, partner_of
from clinic.web.api.errors import flatten_errors
from clinic.web.api.once import idempotent
from clinic.web.api.problems import PROBLEM_JSON, problem, problem_response
from clinic.web.api.reuse import represented, validated_referral
from clinic.web.api.serializers import (
    InformationSerializer,
    ProblemSerializer,
    ReferralOutSerializer,
    ReferralSerializer,
    WithdrawSerializer,
    answer_from,
)
from clinic.web.api.v3_fields import contract_errors
from clinic.web.notifications import referral_data
from clinic.web.reads import partner_case, partner_referrals
from intake.audit import record_reads
from intake.models import Case, CaseStatus, ReadAccess
from intake.referrals import DuplicateReferral, partner_actor, submit_referral
from intake.services import answer_information, withdraw_case
from intake.vocabulary.needs import empty_needs
from intake.workflow import TransitionError

# Errors are documented with the media type they really have.
PROBLEM = {(code, PROBLEM_JSON): ProblemSerializer for code in (400, 401, 403, 404, 409, 413, 415, 422, 429)}


# --- referrals ---------------------------------------------------------------------------

EXAMPLE_BODY = {
    "external_id": "RF-1001",
    "patient": {
        "given_name": "Ana",
        "family_name": "Silva",
        "birth_date": "1961-04-02",
        "sex": "female",
        "phone": "+15551234567",
        "email": "ana@example.org",
    },
    "condition": {"icd10": "M17.11", "description": "Primary OA, right knee"},
    "affected_sites": ["right_knee"],
    "contraindications": {
        "active_malignancy": False,
        "active_infection": False,
        "pregnant": False,
        "anticoagulant_therapy": False,
        "bleeding_disorder": False,
        "immunosuppressed": False,
    },
    "consent_obtained": True,
    "goals": "walk without pain",
    "notes": "",
}
EXAMPLE_BODY_V3 = {key: value for key, value in EXAMPLE_BODY.items() if key != "consent_obtained"} | {
    "external_id": "RF-1002",
    "contraindications": EXAMPLE_BODY["contraindications"] | {"breastfeeding": None},
    "consent": {"obtained": True, "by": "patient", "form_version": "2026-03", "assent": None},
    "findings": {"kl_grade": 2, "conservative_care_months": 6, "pain_nrs": 7},
    "additional_conditions": [{"icd10": "M17.12", "description": "Primary OA, left knee"}],
    "priority": "routine",
}
EXAMPLE_REFERRAL = {
    "id": "3f6c1c55-8f43-4b7e-9b8e-3c1f3f2f8a10",
    "external_id": "RF-1001",
    "status": "received",
    "created_at": "2026-11-24T10:00:00+00:00",
    "updated_at": "2026-11-24T10:00:00+00:00",
    "question": None,
    "decision": None,
}
EXAMPLE_DECIDED = EXAMPLE_REFERRAL | {
    "status": "decided",
    "updated_at": "2026-11-25T09:30:00+00:00",
    "decision": {
        "route": "local_injection",
        "outcome": "approved",
        "reason": "",
        "decided_at": "2026-11-25T09:30:00+00:00",
    },
}
EXAMPLE_WAITING = EXAMPLE_REFERRAL | {
    "status": "needs_information",
    "question": "The patient is 12: who signed the consent form?",
    "needs": empty_needs() | {"consent_by": ["guardian", "legal_representative"]},
}


def _referral_body(case) -> dict:
    return represented(ReferralOutSerializer, referral_data(case))


class ReferralPagination(CursorPagination):
    ordering = ("-created_at", "-id")
    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"


class ReferralListCreateView(GenericAPIView):
    """Your referrals: post a new one, or list them."""

    serializer_class = ReferralSerializer
    pagination_class = ReferralPagination

    def get_queryset(self):
        return partner_referrals(
            partner=partner_of(self.request), status=self.request.query_params.get("status")
        )

    @extend_schema(
        operation_id="listReferrals",
        parameters=[OpenApiParameter("status", str, enum=CaseStatus.values, description="Only this status.")],
        responses={200: ReferralOutSerializer(many=True), **PROBLEM},
    )
    def get(self, request: Request) -> Response:
        status = request.query_params.get("status")
        if status is not None and status not in CaseStatus.values:
            raise ValidationError({"status": [f"Use one of: {', '.join(CaseStatus.values)}."]})
        page = self.paginate_queryset(self.get_queryset())
        record_reads(request=request, cases=page, channel=ReadAccess.Channel.API, partner=partner_of(request))
        return self.get_paginated_response([_referral_body(case) for case in page])

    @extend_schema(
        operation_id="createReferral",
        request=ReferralSerializer,
        responses={201: ReferralOutSerializer, **PROBLEM},
        examples=[
            OpenApiExample("A knee referral", value=EXAMPLE_BODY, request_only=True),
            OpenApiExample(
                "With findings, another condition and consent (rule set v3)",
                value=EXAMPLE_BODY_V3,
                request_only=True,
            ),
            OpenApiExample("Received", value=EXAMPLE_REFERRAL, response_only=True, status_codes=["201"]),
            OpenApiExample(
                "Repeated external_id",
                value=problem(
                    409,
                    "Referral RF-1001 already exists; follow it at its id.",
                    kind="duplicate-referral",
                    referral_id=EXAMPLE_REFERRAL["id"],
                ),
                response_only=True,
                status_codes=["409"],
            ),
        ],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = request.data
        if not isinstance(data, dict):
            raise ValidationError({"body": ["Send one JSON object, the referral."]})
        # The partner as its key was verified (id, name, sandbox flag): all a referral needs.
        status, body = self._submit(partner_identity_of(request), data, request.path)
        return Response(
            body, status=status, content_type=PROBLEM_JSON if status >= 400 else "application/json"
        )

    def _submit(self, partner, data: dict, path: str) -> tuple[int, dict]:
        referral, errors = validated_referral(data)
        if errors is not None:
            return 400, problem(
                400,
                "Some fields are missing or invalid; see `errors`.",
                instance=path,
                kind="validation",
                errors=flatten_errors(errors),
            )
        try:
            case = submit_referral(partner=partner, referral=referral)
        except DuplicateReferral as exc:
            return 409, problem(
                409,
                f"Referral {exc.existing.external_id} already exists; follow it at its id.",
                instance=path,
                kind="duplicate-referral",
                referral_id=str(exc.existing.pk),
            )
        return 201, _referral_body(case)


class ReferralDetailView(GenericAPIView):
    serializer_class = ReferralOutSerializer

    def get_object(self):
        try:
            return partner_case(partner=partner_of(self.request), case_id=self.kwargs["pk"])
        except Case.DoesNotExist:
            raise NotFound() from None

    @extend_schema(
        operation_id="getReferral",
        responses={200: ReferralOutSerializer, **PROBLEM},
        examples=[
            OpenApiExample("Decided", value=EXAMPLE_DECIDED, response_only=True),
            OpenApiExample("Waiting for an answer", value=EXAMPLE_WAITING, response_only=True),
        ],
    )
    def get(self, request: Request, pk) -> Response:
        case = self.get_object()
        record_reads(request=request, cases=[case], channel=ReadAccess.Channel.API, partner=case.partner)
        return Response(_referral_body(case))


class ReferralInformationView(ReferralDetailView):
    """Answer the specialist's open question; the referral goes back to drafting."""

    serializer_class = InformationSerializer
    http_method_names = ["post", "options"]

    @extend_schema(
        operation_id="answerReferralQuestion",
        request=InformationSerializer,
        responses={200: ReferralOutSerializer, **PROBLEM},
    )
    @idempotent
    def post(self, request: Request, pk) -> Response:
        case = self.get_object()
        serializer = InformationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            answer_information(
                case=case, actor=partner_actor(case.partner), answer=answer_from(serializer.validated_data)
            )
        except TransitionError as exc:
            return problem_response(409, str(exc), instance=request.path, kind="wrong-status")
        except ServiceError as exc:
            # Checked against the case's merged values; named as the answer's fields.
            raise ValidationError(contract_errors(exc)) from None
        return Response(_referral_body(self.get_object()))


class ReferralWithdrawView(ReferralDetailView):
    """Withdraw a referral that is not yet decided."""

    serializer_class = WithdrawSerializer
    http_method_names = ["post", "options"]

    @extend_schema(
        operation_id="withdrawReferral",
        request=WithdrawSerializer,
        responses={200: ReferralOutSerializer, **PROBLEM},
    )
    @idempotent
    def post(self, request: Request, pk) -> Response:
        case = self.get_object()
        serializer = WithdrawSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            withdraw_case(
                case=case, actor=partner_actor(case.partner), reason=serializer.validated_data["reason"]
            )
        except TransitionError as exc:
            return problem_response(409, str(exc), instance=request.path, kind="wrong-status")
        return Response(_referral_body(self.get_object()))
