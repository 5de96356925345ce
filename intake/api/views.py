"""Partner API v1 views. They authenticate, validate and call services; nothing more."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from intake.api.auth import IsPartnerOrStaff
from intake.body_sites import BODY_SITES
from recommendations.vocabulary import search


class ConditionEntrySerializer(serializers.Serializer):
    prefix = serializers.CharField()
    label = serializers.CharField()
    category = serializers.ChoiceField(choices=["localized", "systemic"])
    source = serializers.CharField()
    regulatory = serializers.CharField()
    note = serializers.CharField()


class BodySiteSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()


class ConditionListView(GenericAPIView):
    """The clinic's condition vocabulary (ICD-10-CM prefixes, longest prefix wins)."""

    permission_classes = [IsPartnerOrStaff]
    serializer_class = ConditionEntrySerializer
    pagination_class = None

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "search", str, description="A code prefix (M17, m17.1) or words of the label (knee)."
            )
        ],
        responses=ConditionEntrySerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        entries = search(request.query_params.get("search", ""))
        return Response(self.get_serializer(entries, many=True).data)


class BodySiteListView(GenericAPIView):
    """The published list of body sites a referral may name."""

    permission_classes = [IsPartnerOrStaff]
    serializer_class = BodySiteSerializer
    pagination_class = None

    @extend_schema(responses=BodySiteSerializer(many=True))
    def get(self, request: Request) -> Response:
        sites = [{"code": code, "label": label} for code, label in BODY_SITES.items()]
        return Response(self.get_serializer(sites, many=True).data)
