"""The published vocabularies of the partner contract: conditions, body sites (with the regions that
hold them) and findings. Unpaginated arrays, readable by partners and by signed-in staff."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from clinic.web.api.auth import IsPartnerOrStaff
from clinic.web.api.enums import OpenChoiceField
from clinic.web.api.problems import PROBLEM_JSON
from clinic.web.api.serializers import ProblemSerializer
from intake import providers
from intake.vocabulary.body_sites import SITES
from intake.vocabulary.codes import CodeError, clean_icd10
from intake.vocabulary.conditions import search
from intake.vocabulary.findings import FINDINGS
from intake.vocabulary.regions import regions_by_site

READ_PROBLEM = {(code, PROBLEM_JSON): ProblemSerializer for code in (401, 403, 429)}
# The kinds of value a finding takes (intake.vocabulary.findings), an open enum.
FINDING_TYPES = ("integer", "decimal", "date", "string")


class ConditionEntrySerializer(serializers.Serializer):
    prefix = serializers.CharField()
    label = serializers.CharField()
    category = serializers.ChoiceField(choices=["localized", "systemic"])
    source = serializers.CharField()
    regulatory = serializers.CharField()
    note = serializers.CharField()
    evidence = serializers.CharField(help_text="What the studies behind the entry gave, and how.")
    trial_route = serializers.CharField(help_text="The route its trials used, where it is not one of ours.")


class BodySiteSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    snomed_ct = serializers.CharField(
        allow_null=True, help_text="The SNOMED CT concept for the site (null where none is published)."
    )
    regions = serializers.ListField(
        child=serializers.CharField(),
        help_text="The side-free regions an ICD-10-CM descriptor may name that hold this site "
        "(`knee` holds both knees); empty when none does.",
    )


@extend_schema_field({"type": "number", "nullable": True})
class _Number(serializers.Field):
    """A number as published (0, not 0.0)."""

    def to_representation(self, value):
        return value


class FindingSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The key a referral's `findings` uses.")
    label = serializers.CharField()
    type = OpenChoiceField(
        choices=FINDING_TYPES,
        help_text="integer, decimal, date (YYYY-MM-DD) or string; more types may be added within v1.",
    )
    unit = serializers.CharField(
        allow_null=True, help_text="The UCUM unit values are given in; never converted."
    )
    min = _Number(help_text="The least value allowed, where the values are a range.")
    max = _Number(help_text="The greatest value allowed, where the values are a range.")
    step = _Number(help_text="The step between allowed values; null where `values` lists them.")
    values = serializers.ListField(
        child=_Number(), allow_null=True, help_text="The allowed values, where they are not an even range."
    )
    loinc = serializers.CharField(allow_null=True, help_text="A LOINC code, only where one was checked.")
    deprecated = serializers.BooleanField(help_text="Retired: still accepted, no longer asked for.")
    required = serializers.BooleanField(
        required=False,
        help_text="Only with `?condition=`: true when an active protocol listing that code requires the "
        "finding (a referral without it is asked for it), else false. Absent without `condition`.",
    )


class ConditionListView(GenericAPIView):
    """The clinic's condition vocabulary of the current rule set (ICD-10-CM prefixes, longest prefix wins)."""

    permission_classes = [IsPartnerOrStaff]
    serializer_class = ConditionEntrySerializer
    pagination_class = None

    @extend_schema(
        operation_id="listConditions",
        parameters=[
            OpenApiParameter(
                "search",
                str,
                description="A code prefix (M17, m17.1), or words: every word must begin a word of the "
                "entry's label, of a code it covers (“osteoarthritis of right knee” finds M17), or of a "
                "common abbreviation or synonym's meaning (ALS, MS, OA, stroke). Best matches first. "
                "Empty or absent: every entry.",
            ),
            OpenApiParameter("q", str, description="The same as `search` (used when `search` is absent)."),
        ],
        responses={200: ConditionEntrySerializer(many=True), **READ_PROBLEM},
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        entries = search(params["search"] if "search" in params else params.get("q", ""))
        return Response(self.get_serializer(entries, many=True).data)


class BodySiteListView(GenericAPIView):
    """The published list of body sites a referral may name."""

    permission_classes = [IsPartnerOrStaff]
    serializer_class = BodySiteSerializer
    pagination_class = None

    @extend_schema(
        operation_id="listBodySites", responses={200: BodySiteSerializer(many=True), **READ_PROBLEM}
    )
    def get(self, request: Request) -> Response:
        held = regions_by_site()
        sites = [
            {
                "code": s.code,
                "label": s.label,
                "snomed_ct": s.snomed_ct,
                "regions": list(held.get(s.code, ())),
            }
            for s in SITES.values()
        ]
        return Response(self.get_serializer(sites, many=True).data)


class FindingListView(GenericAPIView):
    """The published list of findings a referral may carry (rule set v3, rule 4)."""

    permission_classes = [IsPartnerOrStaff]
    serializer_class = FindingSerializer
    pagination_class = None

    @extend_schema(
        operation_id="listFindings",
        parameters=[
            OpenApiParameter(
                "condition",
                str,
                description="An ICD-10-CM code (M17.11): each finding then carries `required`, true "
                "when an active protocol listing that code requires it. A code outside ICD-10-CM is a 400.",
            )
        ],
        responses={
            200: FindingSerializer(many=True),
            **READ_PROBLEM,
            (400, PROBLEM_JSON): ProblemSerializer,
        },
    )
    def get(self, request: Request) -> Response:
        findings = [finding.as_dict() for finding in FINDINGS]
        condition = request.query_params.get("condition")
        if condition is not None:
            try:
                code = clean_icd10(condition)
            except CodeError as exc:
                raise ValidationError({"condition": [str(exc)]}) from None
            required = providers.required_findings(code)
            findings = [finding | {"required": finding["key"] in required} for finding in findings]
        return Response(self.get_serializer(findings, many=True).data)
