"""A referral's follow-up scores (DESIGN.md, "Partners: events after the decision"):
`GET /api/v1/referrals/{id}/follow-ups/` lists each instrument scored at each time point with the
members of `referral.follow_up`'s `follow_up`, to a partner subscribed to that event type (to any
other, an empty list). It pages like the referral list and every read is recorded like a referral
read. Never a form's item answers, anything the patient wrote, or who entered the answers."""

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from clinic.aftercare.follow_up import follow_up_data
from clinic.aftercare.instruments import SHIPPED
from clinic.aftercare.models import FormResponse
from clinic.web.api.adverse_event_fields import ReferralIdsSerializer
from clinic.web.api.auth import partner_of
from clinic.web.api.enums import OpenChoiceField
from clinic.web.api.views import PROBLEM
from clinic.web.reads import partner_case
from intake import event_types
from intake.audit import record_reads
from intake.models import Case, Partner, ReadAccess

EXAMPLE_FOLLOW_UP = {
    "id": "9a4e6c1d-2b7f-4e3a-8c5d-6f1e2a3b4c5d",
    "day": 42,
    "instrument": "koos_jr",
    "score": 52.465,
    "baseline": 34.174,
    "improvement": 18.291,
    "responder": True,
    "completed_at": "2027-01-12T18:40:00+00:00",
}


class FollowUpSerializer(serializers.Serializer):
    """One instrument scored at one follow-up time point: `referral.follow_up`'s `follow_up`, and an
    item of `GET …/follow-ups/`."""

    id = serializers.UUIDField(help_text="This scored answer's id (one per instrument and time point).")
    day = serializers.IntegerField(
        min_value=0,
        help_text="The time point: days after the treatment (the first session's date); 0 is the "
        "baseline, taken before the treatment.",
    )
    instrument = OpenChoiceField(
        choices=list(SHIPPED),
        help_text="The instrument's key (an open enum: a clinic may add an instrument it holds a "
        "licence for).",
    )
    score = serializers.FloatField(help_text="The instrument's score, on its own scale.")
    baseline = serializers.FloatField(
        allow_null=True, help_text="The baseline score of the same instrument; null at the baseline itself."
    )
    improvement = serializers.FloatField(
        allow_null=True,
        help_text="The change from the baseline in the instrument's better direction (positive: better); "
        "null without a baseline.",
    )
    responder = serializers.BooleanField(
        allow_null=True,
        help_text="true when the improvement reaches the instrument's minimal clinically important "
        "difference; null at the baseline, without one, or where no MCID was derived in a comparable "
        "population.",
    )
    completed_at = serializers.DateTimeField(help_text="When the answers were sent.")


class FollowUpDataSerializer(ReferralIdsSerializer):
    """`referral.follow_up`'s `data` for a JSON partner: the referral's ids and the scored answer."""

    follow_up = FollowUpSerializer()


class FollowUpPagination(CursorPagination):
    """As the referral list: newest first, 50 a page (`page_size` up to 200), by cursor."""

    ordering = ("-submitted_at", "-id")
    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"


def readable_follow_ups(*, case: Case, partner: Partner) -> QuerySet[FormResponse]:
    """The referral's scored answers, when the partner is subscribed to `referral.follow_up`; none
    otherwise (the subscription governs the reads as it does the events)."""
    if not event_types.receives(partner.event_types, event_types.FOLLOW_UP):
        return FormResponse.objects.none()
    return FormResponse.objects.filter(
        case=case, submitted_at__isnull=False, score__isnull=False
    ).select_related("time_point")


class FollowUpListView(GenericAPIView):
    """The follow-up scores of one of your referrals, when you receive `referral.follow_up`."""

    serializer_class = FollowUpSerializer
    pagination_class = FollowUpPagination

    @extend_schema(
        operation_id="listFollowUps",
        responses={200: FollowUpSerializer(many=True), **PROBLEM},
        examples=[OpenApiExample("A scored time point", value=EXAMPLE_FOLLOW_UP, response_only=True)],
    )
    def get(self, request: Request, pk) -> Response:
        partner = partner_of(request)
        try:
            case = partner_case(partner=partner, case_id=pk)
        except Case.DoesNotExist:
            raise NotFound() from None
        page = self.paginate_queryset(readable_follow_ups(case=case, partner=partner))
        record_reads(request=request, cases=[case], channel=ReadAccess.Channel.API, partner=partner)
        return self.get_paginated_response([follow_up_data(response) for response in page])
