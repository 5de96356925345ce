"""The specialists' review queue and review page in the Django admin.

The queue lists cases awaiting review; its change page is the review page (intake and draft
side by side, actions, timeline). Every action goes through `recommendations.review`.
"""

import uuid

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince

from intake.audit import record_reads
from intake.models import Case, CaseSource, CaseStatus, Partner, Priority, ReadAccess
from recommendations import review, selectors

# The review queue needs the width more than a second navigation column.
from recommendations.admin.common import FLAG_LABELS, SpecialistsOnly, flag_badges
from recommendations.admin.review_v3 import decision_context, review_v3_context
from recommendations.forms import AddendumForm, ReviewActionForm
from recommendations.models import DraftRoute, ReviewCase

admin.site.enable_nav_sidebar = False
admin.site.site_header = "Clinic review desk"
admin.site.site_title = "Clinic review desk"


class RouteFilter(admin.SimpleListFilter):
    title = "draft route"
    parameter_name = "route"

    def lookups(self, request, model_admin):
        return DraftRoute.choices

    def queryset(self, request, queryset):
        return queryset.filter(draft_route=self.value()) if self.value() else queryset


class FlagFilter(admin.SimpleListFilter):
    title = "flag"
    parameter_name = "flag"

    def lookups(self, request, model_admin):
        return list(FLAG_LABELS.items())

    def queryset(self, request, queryset):
        if self.value() in FLAG_LABELS:
            # Text match on the JSON list: works on PostgreSQL and on SQLite alike.
            return queryset.filter(draft_flags__icontains=f'"{self.value()}"')
        return queryset


class SourceFilter(admin.SimpleListFilter):
    title = "source"
    parameter_name = "source"

    def lookups(self, request, model_admin):
        partners = Partner.objects.order_by("name").values_list("id", "name")
        return [(CaseSource.FRONT_DESK, "Front desk")] + [(str(pk), name) for pk, name in partners]

    def queryset(self, request, queryset):
        if self.value() == CaseSource.FRONT_DESK:
            return queryset.filter(source=CaseSource.FRONT_DESK)
        if self.value():
            try:
                return queryset.filter(partner_id=uuid.UUID(self.value()))
            except ValueError:  # a hand-edited URL: no partner has that id
                return queryset.none()
        return queryset


class OverdueFilter(admin.SimpleListFilter):
    title = "due"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", "Overdue"), ("no", "Not yet due")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "yes":
            return queryset.filter(due_at__lt=now)
        if self.value() == "no":
            return queryset.filter(due_at__gte=now)
        return queryset


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
    search_fields = ["patient__family_name", "patient__given_name", "patient__mrn", "external_id"]
    list_select_related = ["patient", "partner", "claimed_by"]
    ordering = ["priority", "created_at"]
    list_per_page = 50
    # A full COUNT(*) of the unfiltered queue on every page view is not worth its cost.
    show_full_result_count = False
    change_form_template = "admin/recommendations/review.html"

    class Media:
        css = {"all": ["review/review.css"]}

    def get_queryset(self, request):
        return selectors.review_queue(super().get_queryset(request))

    def changelist_view(self, request, extra_context=None):
        title = "Review queue: most urgent first, then oldest"
        return super().changelist_view(request, {"title": title, **(extra_context or {})})

    @admin.display(description="patient (age)", ordering="patient__family_name")
    def patient_name(self, case: Case) -> str:
        return f"{case.patient.family_name}, {case.patient.given_name} ({case.patient_age})"

    @admin.display(description="condition", ordering="condition_code")
    def condition(self, case: Case):
        return format_html(
            "<strong>{}</strong> {}", case.condition_code, case.condition_descriptor or "unknown code"
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
            if "addendum" in request.POST:
                addendum_form, done = self._add_addendum(request, case)
            else:
                form, done = self._act(request, case)
            if done:
                return HttpResponseRedirect(request.path)
        return TemplateResponse(
            request, self.change_form_template, self._context(request, case, form, addendum_form)
        )

    def _act(self, request: HttpRequest, case: Case):
        form = ReviewActionForm(request.POST)
        if not form.is_valid():
            messages.error(request, "That action is not known; reload the page and try again.")
            return form, False
        data, user = form.cleaned_data, request.user
        actions = {
            "claim": (lambda: review.claim_case(case_id=case.pk, user=user), "You claimed this case."),
            "release": (lambda: review.release_claim(case_id=case.pk, user=user), "Claim released."),
            "approve": (lambda: review.approve_draft(case_id=case.pk, user=user), "Draft approved."),
            "amend": (
                lambda: review.amend_draft(
                    case_id=case.pk,
                    user=user,
                    route=data["route"],
                    reason=data["reason"],
                    protocol=data["protocol"],
                ),
                "Decision recorded: amended.",
            ),
            "decline": (
                lambda: review.decline_case(case_id=case.pk, user=user, reason=data["reason"]),
                "Decision recorded: declined.",
            ),
            "ask": (
                lambda: review.request_information(case_id=case.pk, user=user, question=data["question"]),
                "Question sent; the case now waits for information.",
            ),
        }
        run, success = actions[data["action"]]
        try:
            run()
        except review.ReviewError as exc:
            messages.error(request, str(exc))
            return form, True
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
            return form, False
        messages.success(request, success)
        return form, True

    def _add_addendum(self, request: HttpRequest, case: Case):
        form = AddendumForm(request.POST)
        decision = getattr(case, "decision", None)
        if decision is None:
            messages.error(request, "Only a decided case takes an addendum.")
            return form, True
        if not form.is_valid():
            return form, False
        try:
            review.add_addendum(
                decision_id=decision.pk, user=request.user, reason=form.cleaned_data["reason"]
            )
        except review.ReviewError as exc:
            messages.error(request, str(exc))
            return form, True
        messages.success(request, "Addendum added.")
        return form, True

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
            **review_v3_context(case, draft),
            **decision_context(page.decision),
        }
