"""The permanent records in the admin: decisions and addenda (shown, never changed: every
action goes through `recommendations.review`), and the profiles specialists sign with.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.defaultfilters import linebreaksbr
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from recommendations import analytics, review, selectors
from recommendations.admin.common import SpecialistsOnly
from recommendations.admin.review_v3 import decision_context
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
        context = {
            **self.admin_site.each_context(request),
            "title": "Agreement between drafts and decisions",
            "opts": self.model._meta,
            "report": report,
            "weeks": analytics.week_bars(report.by_week),
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
    # The patient opens the decision record; the case reference opens the case's review page.
    list_display_links = ["patient"]
    list_filter = ["outcome", "route"]
    list_select_related = ["decided_by", "case", "case__patient"]

    def get_queryset(self, request):
        # Sandbox decisions are made automatically for partners' tests, not by specialists.
        return super().get_queryset(request).filter(case__sandbox=False)

    # Shows the search box; the search is the queue's (selectors.search_cases) and the signer's name.
    search_fields = ["case__patient__family_name", "case__patient__mrn", "signed_name"]
    search_help_text = (
        "Case reference (C-2026-000123), patient name, MRN, the partner's reference or the signer."
    )
    show_full_result_count = False
    # The record as it was signed, in the words of the review page (no internal names or ids).
    fields = readonly_fields = [
        "case_link",
        "patient",
        "draft_answered",
        "route",
        "outcome",
        "reason_text",
        "specialist",
        "signed_at",
        "protocol_text",
        "sites_text",
        "notice_text",
        "addenda_text",
        "letter",
    ]

    def get_search_results(self, request, queryset, search_term):
        return selectors.search_cases(queryset, search_term, via="case__", also="signed_name"), False

    @admin.display(description="draft answered")
    def draft_answered(self, decision: Decision) -> str:
        draft = decision.recommendation
        return f"Draft {draft.sequence}: {draft.get_route_display()} (rule set {draft.ruleset_version})"

    @admin.display(description="reason")
    def reason_text(self, decision: Decision):
        return linebreaksbr(decision.reason, autoescape=True) if decision.reason else "-"

    @admin.display(description="signed at")
    def signed_at(self, decision: Decision) -> str:
        return f"{timezone.localtime(decision.decided_at):%Y-%m-%d %H:%M %Z}"

    @admin.display(description="protocol")
    def protocol_text(self, decision: Decision):
        if not decision.protocol:
            return "none"
        p = decision.protocol
        return format_html(
            "{} version {}: {}<br><small>Basis: {}</small>",
            p.get("id"),
            p.get("version"),
            p.get("title", ""),
            decision_context(decision)["decision_basis"],
        )

    @admin.display(description="sites when signed")
    def sites_text(self, decision: Decision) -> str:
        return decision_context(decision)["decision_sites"] or "none recorded"

    @admin.display(description="regulatory notice as signed")
    def notice_text(self, decision: Decision):
        return linebreaksbr(decision.notice_text, autoescape=True) if decision.notice else "-"

    @admin.display(description="addenda")
    def addenda_text(self, decision: Decision):
        addenda = decision.addenda.select_related("author__specialist_profile").order_by("created_at")
        if not addenda:
            return "none"
        return format_html_join(
            "",
            "<p>{}, signed by <strong>{}</strong>: {}</p>",
            ((f"{timezone.localtime(a.created_at):%Y-%m-%d %H:%M}", _signer(a), a.reason) for a in addenda),
        )

    @admin.display(description="letter")
    def letter(self, decision: Decision):
        url = reverse("admin:recommendations_reviewcase_print", args=[decision.case_id])
        return format_html('<a class="button" href="{}" id="print-link">Print the decision letter</a>', url)

    @admin.display(description="case", ordering="case__number")
    def case_link(self, decision: Decision):
        url = reverse("admin:recommendations_reviewcase_change", args=[decision.case_id])
        return format_html('<a href="{}">{}</a>', url, decision.case.reference)

    @admin.display(description="patient", ordering="case__patient__family_name")
    def patient(self, decision: Decision) -> str:
        patient = decision.case.patient
        return f"{patient.family_name}, {patient.given_name} (MRN {patient.mrn})"

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


def _signer(addendum: Addendum) -> str:
    """Addenda keep no signature of their own: the signer's profile as it is now."""
    profile = getattr(addendum.author, "specialist_profile", None)
    if profile and profile.full_name.strip():
        return f"{profile.full_name}, {profile.credentials}" if profile.credentials else profile.full_name
    return addendum.author.get_username()


@admin.register(Addendum)
class AddendumAdmin(SpecialistsOnly, admin.ModelAdmin):
    list_display = ["case_link", "corrects", "signer", "created_at", "reason"]
    list_select_related = ["author__specialist_profile", "decision__case"]
    fields = readonly_fields = ["case_link", "corrects", "signer", "created_at", "reason"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(decision__case__sandbox=False)

    @admin.display(description="case", ordering="decision__case__number")
    def case_link(self, addendum: Addendum):
        url = reverse("admin:recommendations_reviewcase_change", args=[addendum.decision.case_id])
        return format_html('<a href="{}">{}</a>', url, addendum.decision.case.reference)

    @admin.display(description="corrects")
    def corrects(self, addendum: Addendum) -> str:
        return str(addendum.decision)

    @admin.display(description="signed by")
    def signer(self, addendum: Addendum) -> str:
        return _signer(addendum)


@admin.register(SpecialistProfile)
class SpecialistProfileAdmin(admin.ModelAdmin):
    """The name and credentials each specialist signs decisions with (administrators keep them)."""

    list_display = ["user", "full_name", "credentials"]
    search_fields = ["user__username", "full_name"]
