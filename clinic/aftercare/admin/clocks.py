"""Reporting clocks in the review desk: the open ones, overdue first and then the soonest due
(read-only: a submission is recorded on the adverse event's page), and the panel on the
specialists' review queue that counts them and lists the most urgent."""

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.db.models import F
from django.http import HttpRequest, HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html

from clinic.aftercare import reporting
from clinic.aftercare.admin.common import when
from clinic.aftercare.admin.wording import clock_due
from clinic.aftercare.models import ReportingClock
from clinic.aftercare.vocabulary import ClockState
from recommendations import review
from recommendations.admin import queue
from recommendations.admin.common import SpecialistsOnly

# How many clocks the queue's panel lists (the rest are one click away).
PANEL_CLOCKS = 5


def clock_url(clock: ReportingClock) -> str:
    """A clock is read, and its submission recorded, on its adverse event's page."""
    return (
        reverse("admin:aftercare_adverseevent_change", args=[clock.adverse_event_id]) + f"#clock-{clock.pk}"
    )


class StateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [*ClockState.choices, ("all", "All")]

    def choices(self, changelist):
        # "Open" is the list's default, so the filter has no separate "All" at the top.
        for value, label in self.lookup_choices:
            selected = self.value() == value or (self.value() is None and value == ClockState.OPEN)
            yield {
                "selected": selected,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request, queryset):
        if self.value() == "all":
            return queryset
        return queryset.filter(state=self.value() if self.value() in ClockState.values else ClockState.OPEN)


class _ToTheEvent(ChangeList):
    def url_for_result(self, result) -> str:
        return clock_url(result)


@admin.register(ReportingClock)
class ReportingClockAdmin(SpecialistsOnly, admin.ModelAdmin):
    list_display = ["due", "case_link", "citation", "recipient", "form", "started"]
    list_display_links = ["due"]
    list_filter = [StateFilter]
    list_select_related = ["case", "adverse_event"]
    # Overdue first (the earliest deadlines have passed), then the soonest; no deadline last.
    ordering = [F("due_at").asc(nulls_last=True), "starts_at"]
    search_fields = ["case__patient__family_name", "case__patient__mrn", "citation", "recipient"]
    search_help_text = "Patient name, MRN, citation (312.32) or recipient (FDA)."

    class Media:
        css = {"all": ["review/review.css"]}

    def get_queryset(self, request):
        return super().get_queryset(request).filter(adverse_event__sandbox=False)

    def get_changelist(self, request, **kwargs):
        return _ToTheEvent

    def changelist_view(self, request, extra_context=None):
        context = {"title": "Reporting clocks: overdue first, then the soonest due"}
        return super().changelist_view(request, {**context, **(extra_context or {})})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        clock = self.get_object(request, object_id)
        if clock is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        return HttpResponseRedirect(clock_url(clock))

    @admin.display(description="due", ordering="due_at")
    def due(self, clock: ReportingClock):
        words = clock_due(clock)
        if clock.is_overdue:
            return format_html('<span class="overdue">{}</span>', words.capitalize())
        return words.capitalize()

    @admin.display(description="case", ordering="case__number")
    def case_link(self, clock: ReportingClock) -> str:
        return clock.case.reference

    @admin.display(description="started", ordering="starts_at")
    def started(self, clock: ReportingClock) -> str:
        return when(clock.starts_at)


def clocks_panel(request: HttpRequest) -> str:
    """The review queue's panel: "Reporting clocks: N open, M overdue" and the most urgent few."""
    if not review.is_specialist(request.user):
        return ""
    counts = reporting.open_clock_counts()
    if not counts.get("open"):
        return ""
    clocks = [
        {"clock": clock, "due": clock_due(clock), "url": clock_url(clock)}
        for clock in reporting.open_clocks(limit=PANEL_CLOCKS)
    ]
    context = {
        "open": counts["open"],
        "overdue": counts.get("overdue", 0),
        "clocks": clocks,
        "all_url": reverse("admin:aftercare_reportingclock_changelist"),
    }
    return render_to_string("admin/aftercare/queue_panel.html", context, request=request)


queue.add_queue_panel(clocks_panel)
