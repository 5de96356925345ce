"""The specialists' review queue and review page in the Django admin.

The queue lists cases awaiting review; its change page is the review page (intake and draft
side by side, actions, timeline). Every action goes through `recommendations.review`; a signed
one (approve, amend, decline, an addendum) first shows what it would sign (admin/signing.py).
"""

from collections.abc import Callable

from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince

from intake.audit import record_reads
from intake.models import Case, CaseStatus, Priority, ReadAccess
from recommendations import review, selectors
from recommendations.admin import actions, inbox
from recommendations.admin.common import SpecialistsOnly, flag_badges
from recommendations.admin.filters import FlagFilter, OverdueFilter, RouteFilter, SourceFilter
from recommendations.admin.review_v3 import decision_context, review_v3_context
from recommendations.forms import AddendumForm, ReviewActionForm
from recommendations.models import DraftRoute, ReviewCase

# The review queue needs the width more than a second navigation column.
admin.site.enable_nav_sidebar = False
admin.site.site_header = "Clinic review desk"
admin.site.site_title = "Clinic review desk"
inbox.land_specialists_on_the_queue(admin.site)

# Panels an app above this one adds to the queue page (what follows the decision shows its open
# reporting clocks there) without this app importing it: each provider takes the request and
# returns the panel's HTML (a SafeString), or "" when it has nothing to show.
QueuePanel = Callable[[HttpRequest], str]
QUEUE_PANELS: list[QueuePanel] = []


def add_queue_panel(provider: QueuePanel) -> None:
    """Show `provider`'s panel above the queue, once however often it is registered."""
    if provider not in QUEUE_PANELS:
        QUEUE_PANELS.append(provider)


@admin.register(ReviewCase)
class ReviewQueueAdmin(SpecialistsOnly, admin.ModelAdmin):
    list_display = [
        "patient_name",
        "reference",
        "condition",
        "draft_route",
        "flags",
        "source_label",
        "waiting",
        "due",
        "claimed",
    ]
    list_display_links = ["patient_name"]
    list_filter = [RouteFilter, FlagFilter, SourceFilter, OverdueFilter, "priority"]
    # Shows the search box; the search itself is selectors.search_cases (get_search_results).
    search_fields = ["patient__family_name", "patient__given_name", "patient__mrn", "external_id"]
    search_help_text = (
        "Case reference (C-2026-000123), patient name, MRN or the partner's reference. "
        "This list refreshes itself when a case arrives, is claimed or is decided."
    )
    list_select_related = ["patient", "partner", "claimed_by"]
    ordering = ["priority", "created_at"]
    list_per_page = 50
    # A full COUNT(*) of the unfiltered queue on every page view is not worth its cost.
    show_full_result_count = False
    change_form_template = "admin/recommendations/review.html"
    change_list_template = "admin/recommendations/reviewcase/change_list.html"

    class Media:
        css = {"all": ["review/review.css"]}

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("changes/", view(inbox.queue_changes), name="recommendations_reviewcase_changes"),
            path("next/", view(inbox.next_case), name="recommendations_reviewcase_next"),
            path("<uuid:case_id>/print/", view(inbox.print_letter), name="recommendations_reviewcase_print"),
            *super().get_urls(),
        ]

    def get_queryset(self, request):
        return selectors.review_queue(super().get_queryset(request))

    def get_search_results(self, request, queryset, search_term):
        return selectors.search_cases(queryset, search_term), False

    def changelist_view(self, request, extra_context=None):
        inbox.reference_hint(request, request.GET.get("q", ""))
        context = {
            "title": "Review queue: most urgent first, then oldest",
            # Read before the list: a change in between reloads the page once more, never misses.
            "queue_version": selectors.queue_version(),
            "next_url": reverse("admin:recommendations_reviewcase_next"),
            "queue_panels": [html for provider in QUEUE_PANELS if (html := provider(request))],
        }
        return super().changelist_view(request, {**context, **(extra_context or {})})

    @admin.display(description="patient (age)", ordering="patient__family_name")
    def patient_name(self, case: Case) -> str:
        return f"{case.patient.family_name}, {case.patient.given_name} ({case.patient_age})"

    @admin.display(description="condition", ordering="condition_code")
    def condition(self, case: Case):
        return format_html(
            '<strong>{}</strong> <span class="descriptor">{}</span>',
            case.condition_code,
            case.condition_descriptor or "unknown code",
        )

    @admin.display(description="draft route")
    def draft_route(self, case: Case):
        route = case.draft_route or ""
        return format_html('<span class="route route-{}">{}</span>', route, DraftRoute(route).label)

    @admin.display(description="flags")
    def flags(self, case: Case):
        return flag_badges(case.draft_flags or [])

    @admin.display(description="source", ordering="source")
    def source_label(self, case: Case) -> str:
        return case.partner.name if case.partner else "Front desk"

    @admin.display(description="waiting", ordering="created_at")
    def waiting(self, case: Case) -> str:
        return timesince(case.created_at, depth=1)

    @admin.display(description="priority, due", ordering="due_at")
    def due(self, case: Case):
        urgent = (
            format_html('<span class="urgent">{}</span> ', "Urgent")
            if case.priority == Priority.URGENT
            else ""
        )
        if case.is_overdue:
            return format_html(
                '{}<span class="overdue">Overdue {}</span>', urgent, timesince(case.due_at, depth=1)
            )
        return format_html("{}in {}", urgent or "Routine, ", timesince(timezone.now(), case.due_at, depth=1))

    @admin.display(description="case")
    def reference(self, case: Case) -> str:
        return case.reference

    @admin.display(description="claimed by")
    def claimed(self, case: Case) -> str:
        if not case.claimed_by:
            return "-"
        return f"{review.signer_name(case.claimed_by)} ({timesince(case.claimed_at, depth=1)} ago)"

    # --- the review page -------------------------------------------------------------

    def change_view(self, request: HttpRequest, object_id: str, form_url="", extra_context=None):
        if not review.is_specialist(request.user):
            raise PermissionDenied("Only specialists may review cases.")
        try:
            case = selectors.case_for_review(object_id)
        except (Case.DoesNotExist, ValidationError):  # ValidationError: not a UUID at all
            raise Http404("No such case.") from None
        if request.method == "GET":
            record_reads(request=request, cases=[case], channel=ReadAccess.Channel.ADMIN)
        form, addendum_form = ReviewActionForm(), AddendumForm()
        if request.method == "POST":
            page = {**self.admin_site.each_context(request), "opts": self.model._meta}
            if "addendum" in request.POST:
                addendum_form = actions.add_addendum(request, case, page=page)
                answer = addendum_form
            else:
                form = actions.act(request, case, page=page)
                answer = form
            if isinstance(answer, HttpResponse):
                return answer
        return TemplateResponse(
            request, self.change_form_template, self._context(request, case, form, addendum_form)
        )

    def _context(self, request, case: Case, form, addendum_form) -> dict:
        page = selectors.review_page(case)
        draft = selectors.current_draft(case)
        return {
            **self.admin_site.each_context(request),
            "title": f"Review: {case.patient.family_name}, {case.patient.given_name}",
            "opts": self.model._meta,
            "case": case,
            "draft": draft,
            "drafts": page.drafts,
            "draft_flags": flag_badges(draft.flags) if draft else "-",
            "events": page.events,
            "earlier_cases": page.earlier_cases,
            "decision": page.decision,
            "addenda": page.addenda,
            "form": form,
            "addendum_form": addendum_form,
            "can_act": case.status == CaseStatus.AWAITING_REVIEW,
            "claimed_by_me": case.claimed_by_id == request.user.pk,
            "claimed_by_name": review.signer_name(case.claimed_by) if case.claimed_by else "",
            "queue_url": reverse("admin:recommendations_reviewcase_changelist"),
            "next_url": f"{reverse('admin:recommendations_reviewcase_next')}?after={case.pk}",
            "print_url": reverse("admin:recommendations_reviewcase_print", args=[case.pk]),
            **review_v3_context(case, draft),
            **decision_context(page.decision),
        }
