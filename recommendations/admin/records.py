"""The permanent records in the admin: decisions and addenda (shown, never changed: every
action goes through `recommendations.review`), and the profiles specialists sign with.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from recommendations import analytics, review

# The review queue needs the width more than a second navigation column.
from recommendations.admin.common import SpecialistsOnly
from recommendations.models import Addendum, Decision, SpecialistProfile


@admin.register(Decision)
class DecisionAdmin(SpecialistsOnly, admin.ModelAdmin):
    change_list_template = "admin/recommendations/decision_changelist.html"

    def get_urls(self):
        analytics = path(
            "analytics/", self.admin_site.admin_view(self.analytics_view), name="recommendations_analytics"
        )
        return [analytics, *super().get_urls()]

    def analytics_view(self, request: HttpRequest):
        """Agreement between drafts and decisions, for specialists and the medical director."""
        if not review.is_specialist(request.user):
            raise PermissionDenied("Only specialists may see the agreement analytics.")
        report = analytics.agreement()
        if request.GET.get("format") == "csv":
            response = HttpResponse(content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = 'attachment; filename="agreement.csv"'
            analytics.write_csv(response, report)
            return response
        longest = max((week.p90_hours for week in report.by_week), default=0) or 1
        context = {
            **self.admin_site.each_context(request),
            "title": "Agreement between drafts and decisions",
            "opts": self.model._meta,
            "report": report,
            "weeks": [
                (week, 100 * week.median_hours / longest, 100 * week.p90_hours / longest)
                for week in report.by_week
            ],
        }
        return TemplateResponse(request, "admin/recommendations/analytics.html", context)

    list_display = [
        "case_link",
        "patient",
        "mrn",
        "condition",
        "outcome",
        "route",
        "specialist",
        "decided_at",
    ]
    list_filter = ["outcome", "route"]
    list_select_related = ["decided_by", "case", "case__patient"]

    def get_queryset(self, request):
        # Sandbox decisions are made automatically for partners' tests, not by specialists.
        return super().get_queryset(request).filter(case__sandbox=False)

    search_fields = [
        "case__patient__family_name",
        "case__patient__given_name",
        "case__patient__mrn",
        "signed_name",
    ]
    show_full_result_count = False
    readonly_fields = [
        "case",
        "recommendation",
        "route",
        "outcome",
        "reason",
        "decided_by",
        "signed_name",
        "signed_credentials",
        "decided_at",
    ]

    @admin.display(description="case")
    def case_link(self, decision: Decision):
        url = reverse("admin:recommendations_reviewcase_change", args=[decision.case_id])
        return format_html('<a href="{}">{}</a>', url, decision.case.reference)

    @admin.display(description="patient", ordering="case__patient__family_name")
    def patient(self, decision: Decision) -> str:
        return f"{decision.case.patient.family_name}, {decision.case.patient.given_name}"

    @admin.display(description="MRN", ordering="case__patient__mrn")
    def mrn(self, decision: Decision) -> str:
        return decision.case.patient.mrn

    @admin.display(description="condition", ordering="case__condition_code")
    def condition(self, decision: Decision):
        case = decision.case
        return format_html("<strong>{}</strong> {}", case.condition_code, case.condition_descriptor)

    @admin.display(description="specialist", ordering="signed_name")
    def specialist(self, decision: Decision) -> str:
        return decision.signature


@admin.register(Addendum)
class AddendumAdmin(SpecialistsOnly, admin.ModelAdmin):
    list_display = ["decision", "author", "created_at", "reason"]
    list_select_related = ["author", "decision"]
    readonly_fields = ["decision", "author", "reason", "created_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(decision__case__sandbox=False)


@admin.register(SpecialistProfile)
class SpecialistProfileAdmin(admin.ModelAdmin):
    """The name and credentials each specialist signs decisions with (administrators keep them)."""

    list_display = ["user", "full_name", "credentials"]
    search_fields = ["user__username", "full_name"]
