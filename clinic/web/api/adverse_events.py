"""Partner reports of adverse events (DESIGN.md, "Partner reports"): report one on a referral that
has a treatment course, list the referral's reports, and add new information to one's own. The views
authenticate, validate and call clinic.aftercare's services; nothing more."""

import uuid

from django.core.exceptions import ValidationError as ServiceError
from django.db.models import Q, QuerySet
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from clinic.aftercare import adverse_events, selectors
from clinic.aftercare.errors import AftercareError, DuplicateReport, DuplicateUpdate, NoTreatment
from clinic.aftercare.models import AdverseEvent
from clinic.aftercare.vocabulary import AdverseEventSource, Triage
from clinic.web.api.adverse_event_fields import (
    AdverseEventListItemSerializer,
    AdverseEventOutSerializer,
    AdverseEventReportSerializer,
    AdverseEventUpdateOutSerializer,
    AdverseEventUpdateSerializer,
    contract_errors,
    list_item,
    report_out,
)
from clinic.web.api.auth import partner_of
from clinic.web.api.malformed import NOT_AN_ID, MalformedIdView
from clinic.web.api.once import idempotent
from clinic.web.api.problems import problem, problem_response
from clinic.web.api.views import PROBLEM
from clinic.web.reads import partner_case
from intake import event_types
from intake.audit import record_reads
from intake.models import Case, Partner, ReadAccess
from intake.referrals import partner_actor

EXAMPLE_REPORT = {
    "external_id": "AE-2026-0042",
    "onset": "2026-12-03",
    "description": "Swelling and fever two days after the injection; admitted for IV antibiotics.",
    "ctcae_grade": 3,
    "serious": True,
    "seriousness_criteria": ["hospitalization"],
    "outcome": "recovering",
    "action_taken": "Admitted; joint aspirated.",
    "reporter": {"name": "Dr Ana Reyes", "qualification": "physician"},
    "relatedness_opinion": "possible",
}
EXAMPLE_STORED = {
    "id": "7d1c2f3e-5b6a-4c8d-9e0f-1a2b3c4d5e6f",
    "source": "partner",
    "triage": "received",
    "received_at": "2026-12-05T14:02:11+00:00",
} | EXAMPLE_REPORT
EXAMPLE_UPDATE = {"external_id": "AE-2026-0042-u1", "outcome": "resolved", "note": "Discharged on day 6."}


class AdverseEventPagination(CursorPagination):
    """As the referral list: newest first, 50 a page (`page_size` up to 200), by cursor."""

    ordering = ("-received_at", "-id")
    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"


def _referral(request: Request, pk) -> Case:
    try:
        return partner_case(partner=partner_of(request), case_id=pk)
    except Case.DoesNotExist:
        raise NotFound() from None


def readable_reports(*, case: Case, partner: Partner) -> QuerySet[AdverseEvent]:
    """The referral's reports the partner may read: its own, and, when it is subscribed to
    `referral.adverse_event`, those staff entered or confirmed (a patient's flag only once staff
    confirmed it; never one staff dismissed)."""
    own = Q(source=AdverseEventSource.PARTNER, partner=partner)
    shown = own
    if event_types.receives(partner.event_types, event_types.ADVERSE_EVENT):
        shown |= ~Q(source=AdverseEventSource.PARTNER) & Q(triage=Triage.CONFIRMED)
    return AdverseEvent.objects.filter(shown, case=case)


class AdverseEventListCreateView(GenericAPIView):
    """Adverse events on one of your referrals: report one, or list them."""

    serializer_class = AdverseEventReportSerializer
    pagination_class = AdverseEventPagination

    @extend_schema(
        operation_id="listAdverseEvents",
        responses={200: AdverseEventListItemSerializer(many=True), **PROBLEM},
    )
    def get(self, request: Request, pk) -> Response:
        case, partner = _referral(request, pk), partner_of(request)
        page = self.paginate_queryset(readable_reports(case=case, partner=partner))
        record_reads(request=request, cases=[case], channel=ReadAccess.Channel.API, partner=partner)
        own = partner.pk
        return self.get_paginated_response(
            [
                list_item(ae, own=ae.source == AdverseEventSource.PARTNER and ae.partner_id == own)
                for ae in page
            ]
        )

    @extend_schema(
        operation_id="reportAdverseEvent",
        request=AdverseEventReportSerializer,
        responses={201: AdverseEventOutSerializer, **PROBLEM},
        examples=[
            OpenApiExample("A serious event", value=EXAMPLE_REPORT, request_only=True),
            OpenApiExample("Stored", value=EXAMPLE_STORED, response_only=True, status_codes=["201"]),
            OpenApiExample(
                "Repeated external_id",
                value=problem(
                    409,
                    "Adverse event AE-2026-0042 was already reported; add to it with an update.",
                    kind="duplicate-adverse-event",
                    adverse_event_id=EXAMPLE_STORED["id"],
                ),
                response_only=True,
                status_codes=["409"],
            ),
        ],
    )
    @idempotent
    def post(self, request: Request, pk) -> Response:
        case, partner = _referral(request, pk), partner_of(request)
        course = selectors.course_of(case.pk)
        if course is None:
            return _no_treatment(case, request.path)
        if not isinstance(request.data, dict):
            raise ValidationError({"body": ["Send one JSON object, the report."]})
        serializer = AdverseEventReportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        external_id = values.pop("external_id")
        try:
            ae = adverse_events.report_adverse_event(
                course_id=course.pk,
                source=AdverseEventSource.PARTNER,
                actor=partner_actor(partner),
                values=values,
                partner=partner,
                external_id=external_id,
            )
        except DuplicateReport as exc:
            return problem_response(
                409,
                f"Adverse event {external_id} was already reported; add to it with an update "
                f"(POST …/adverse-events/{exc.adverse_event_id}/updates/), or use a new external_id.",
                instance=request.path,
                kind="duplicate-adverse-event",
                adverse_event_id=str(exc.adverse_event_id),
            )
        except NoTreatment:
            return _no_treatment(case, request.path)
        except AftercareError as exc:
            return problem_response(409, str(exc), instance=request.path, kind="wrong-status")
        except ServiceError as exc:
            raise ValidationError(contract_errors(exc)) from None
        return Response(report_out(ae), status=201)


def _no_treatment(case: Case, path: str) -> Response:
    return problem_response(
        409,
        f"Referral {case.external_id} has no treatment course: reports are taken once a decision has "
        "opened one. Until then, tell the clinic about the event directly.",
        instance=path,
        kind="no-treatment",
    )


class AdverseEventUpdateView(GenericAPIView):
    """New information on one of your own reports (a report itself never changes)."""

    serializer_class = AdverseEventUpdateSerializer
    http_method_names = ["post", "options"]

    @extend_schema(
        operation_id="updateAdverseEvent",
        request=AdverseEventUpdateSerializer,
        responses={201: AdverseEventUpdateOutSerializer, **PROBLEM},
        examples=[OpenApiExample("The outcome", value=EXAMPLE_UPDATE, request_only=True)],
    )
    @idempotent
    def post(self, request: Request, pk, ae_id) -> Response:
        case, partner = _referral(request, pk), partner_of(request)
        # Only the partner's own reports: another's, a staff entry or a patient's flag is not found.
        ae = AdverseEvent.objects.filter(
            pk=ae_id, case=case, partner=partner, source=AdverseEventSource.PARTNER
        ).first()
        if ae is None:
            raise NotFound()
        if not isinstance(request.data, dict):
            raise ValidationError({"body": ["Send one JSON object, the update."]})
        serializer = AdverseEventUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        external_id = values.pop("external_id")
        try:
            change = adverse_events.update_from_partner(
                adverse_event_id=ae.pk, partner=partner, external_id=external_id, values=values
            )
        except DuplicateUpdate as exc:
            return problem_response(
                409,
                f"Update {external_id} of this report was already received; for new information use a "
                "new external_id.",
                instance=request.path,
                kind="duplicate-adverse-event",
                adverse_event_id=str(ae.pk),
                update_id=str(exc.change_id),
            )
        except AftercareError as exc:
            return problem_response(409, str(exc), instance=request.path, kind="wrong-status")
        except ServiceError as exc:
            raise ValidationError(contract_errors(exc)) from None
        body = {
            "id": str(change.pk),
            "adverse_event_id": str(ae.pk),
            "external_id": change.external_id,
            "received_at": change.received_at.isoformat(),
        }
        return Response(body, status=201)


class MalformedAdverseEventIdView(MalformedIdView):
    """`…/adverse-events/<ae_id>/updates/` with either id not a UUID: a 400 naming it (not in the
    schema, after the real route)."""

    def post(self, request, pk: str, ae_id: str, *args, **kwargs):
        for field, value in (("id", pk), ("ae_id", ae_id)):
            try:
                uuid.UUID(value)
            except ValueError:
                raise ValidationError({field: [NOT_AN_ID]}) from None
        raise NotFound()

    get = put = patch = delete = post
