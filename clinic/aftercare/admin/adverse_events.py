"""Adverse events in the review desk: listed by what is due (untriaged first, then the soonest
open clock), each opening the specialist's assessment page with its triage, its changes and its
reporting clocks. Every change is a call to clinic.aftercare.adverse_events, made on the version
of the event the specialist read; nothing is ever deleted."""

import uuid

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case as Pick
from django.db.models import F, IntegerField, Min, Prefetch, Q, When
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.timesince import timesince

from clinic.aftercare import adverse_events, reporting
from clinic.aftercare.admin.common import desk_url
from clinic.aftercare.admin.forms import SubmissionForm, TriageForm, assessment_form
from clinic.aftercare.admin.wording import (
    FIELD_LABELS,
    clock_due,
    form_words,
    history,
    in_words,
    reported_facts,
)
from clinic.aftercare.errors import AftercareError, StaleEdit
from clinic.aftercare.models import AdverseEvent, ReportingClock
from clinic.aftercare.vocabulary import ClockState, Triage
from recommendations import review
from recommendations.admin.common import SpecialistsOnly

OPEN = Q(clocks__state=ClockState.OPEN)


def open_clocks_first():
    return Prefetch(
        "clocks",
        queryset=ReportingClock.objects.filter(state=ClockState.OPEN).order_by(
            F("due_at").asc(nulls_last=True)
        ),
        to_attr="open_clocks",
    )


class TriageFilter(admin.SimpleListFilter):
    title = "triage"
    parameter_name = "triage"

    def lookups(self, request, model_admin):
        return Triage.choices

    def queryset(self, request, queryset):
        return queryset.filter(triage=self.value()) if self.value() in Triage.values else queryset


@admin.register(AdverseEvent)
class AdverseEventAdmin(SpecialistsOnly, admin.ModelAdmin):
    list_display = ["due", "case_link", "patient", "onset_date", "grade", "serious_words", "source", "triage"]
    list_display_links = ["due"]
    list_filter = [TriageFilter, "serious", "outcome"]
    list_select_related = ["case__patient", "partner"]
    search_fields = ["case__patient__family_name", "case__patient__mrn", "external_id"]
    search_help_text = "Patient name, MRN or the partner's reference for the report."
    change_list_template = "admin/aftercare/adverseevent/change_list.html"

    # Untriaged first (oldest first), then by the soonest open clock, then the newest.
    def get_ordering(self, request):
        # What is due first, by the annotations of get_queryset (an `ordering` attribute may only
        # name model fields: the admin's system check refuses annotations there).
        return [
            F("due_rank").asc(),
            F("next_due").asc(nulls_last=True),
            F("waiting_since").asc(nulls_last=True),
            F("received_at").desc(),
        ]

    class Media:
        css = {"all": ["review/review.css"]}

    def get_queryset(self, request):
        rank = Pick(
            When(triage=Triage.RECEIVED, then=0),
            When(next_due__isnull=False, then=1),
            default=2,
            output_field=IntegerField(),
        )
        return (
            super()
            .get_queryset(request)
            .filter(sandbox=False)
            .annotate(next_due=Min("clocks__due_at", filter=OPEN))
            .annotate(due_rank=rank)
            .annotate(waiting_since=Pick(When(due_rank__lt=2, then=F("received_at"))))
            .prefetch_related(open_clocks_first())
        )

    def changelist_view(self, request, extra_context=None):
        context = {"title": "Adverse events: untriaged first, then the soonest reporting deadline"}
        return super().changelist_view(request, {**context, **(extra_context or {})})

    @admin.display(description="what is due")
    def due(self, event: AdverseEvent):
        if event.triage == Triage.RECEIVED:
            ago = timesince(event.received_at, depth=1)
            ago = "just now" if ago.startswith("0") else f"{ago} ago"
            return format_html('<span class="urgent">Awaiting triage</span> (received {})', ago)
        clocks = getattr(event, "open_clocks", [])
        if not clocks:
            return "Nothing due"
        first = clocks[0]
        words = clock_due(first)
        if first.is_overdue:
            words = format_html('<span class="overdue">{}</span>', words.capitalize())
        return format_html("{}: {}", words, first.recipient)

    @admin.display(description="case", ordering="case__number")
    def case_link(self, event: AdverseEvent):
        url = reverse("admin:recommendations_reviewcase_change", args=[event.case_id])
        return format_html('<a href="{}">{}</a>', url, event.case.reference)

    @admin.display(description="patient", ordering="case__patient__family_name")
    def patient(self, event: AdverseEvent) -> str:
        return f"{event.case.patient.family_name}, {event.case.patient.given_name}"

    @admin.display(description="onset", ordering="onset")
    def onset_date(self, event: AdverseEvent) -> str:
        return f"{event.onset:%Y-%m-%d}"

    @admin.display(description="CTCAE grade", ordering="ctcae_grade")
    def grade(self, event: AdverseEvent) -> str:
        return str(event.ctcae_grade) if event.ctcae_grade else "not graded"

    @admin.display(description="serious", ordering="serious")
    def serious_words(self, event: AdverseEvent) -> str:
        return in_words("serious", event.serious)

    # --- the assessment page --------------------------------------------------------------

    def change_view(self, request: HttpRequest, object_id: str, form_url="", extra_context=None):
        if not review.is_specialist(request.user):
            raise PermissionDenied("Only specialists assess adverse events.")
        event = self._event(object_id)
        forms_ = {"assessment": assessment_form(event), "triage": None, "submission": {}}
        notes = {}
        if request.method == "POST":
            answer = self._post(request, event, forms_, notes)
            if answer is not None:
                return answer
            event = self._event(object_id)  # as it stands now, whatever happened
        return TemplateResponse(
            request, "admin/aftercare/adverseevent/assess.html", self._context(request, event, forms_, notes)
        )

    def _event(self, object_id) -> AdverseEvent:
        try:
            return AdverseEvent.objects.select_related("case__patient", "course", "partner").get(
                pk=object_id, sandbox=False
            )
        except (AdverseEvent.DoesNotExist, ValidationError):
            raise Http404("No such adverse event.") from None

    def _post(self, request, event: AdverseEvent, forms_: dict, notes: dict) -> HttpResponse | None:
        """Run the action posted; a redirect once done, or None to show the page again."""
        try:
            if "assess" in request.POST:
                return self._assess(request, event, forms_, notes)
            if "triage" in request.POST:
                return self._triage(request, event, forms_)
            if "submission" in request.POST:
                return self._submission(request, event, forms_)
        except StaleEdit:
            notes["stale"] = True
            return None
        except AftercareError as exc:
            messages.error(request, str(exc))
            return HttpResponseRedirect(request.path)
        messages.error(request, "That action is not known; reload the page and try again.")
        return HttpResponseRedirect(request.path)

    def _assess(self, request, event, forms_, notes) -> HttpResponse | None:
        form = assessment_form(event, request.POST)
        if not form.is_valid():
            forms_["assessment"] = form
            return None
        try:
            adverse_events.assess_adverse_event(
                adverse_event_id=event.pk,
                user=request.user,
                version=form.cleaned_data["version"],
                values=form.values(),
            )
        except StaleEdit:
            # Nothing was written: the page shows the event as it is now, and what was typed beside it.
            notes["yours"] = [
                (FIELD_LABELS[name], in_words(name, value)) for name, value in form.values().items()
            ]
            raise
        except ValidationError as exc:
            _attach(form, exc)
            forms_["assessment"] = form
            return None
        messages.success(request, "Assessment saved.")
        return HttpResponseRedirect(request.path)

    def _triage(self, request, event, forms_) -> HttpResponse | None:
        form = TriageForm(request.POST)
        if not form.is_valid():
            forms_["triage"] = form
            return None
        confirm = form.cleaned_data["decision"] == "confirm"
        try:
            adverse_events.triage_adverse_event(
                adverse_event_id=event.pk,
                user=request.user,
                version=form.cleaned_data["version"],
                confirm=confirm,
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            _attach(form, exc)
            forms_["triage"] = form
            return None
        messages.success(
            request, "Confirmed as an adverse event." if confirm else "Dismissed: not an adverse event."
        )
        return HttpResponseRedirect(request.path)

    def _submission(self, request, event, forms_) -> HttpResponse | None:
        clock = ReportingClock.objects.filter(
            adverse_event=event, pk=_uuid(request.POST.get("submission"))
        ).first()
        if clock is None:
            messages.error(request, "That reporting clock is not one of this event's; reload the page.")
            return HttpResponseRedirect(request.path)
        form = SubmissionForm.of(clock, request.POST)
        if not form.is_valid():
            forms_["submission"][clock.pk] = form
            return None
        data = form.cleaned_data
        try:
            adverse_events.record_submission(
                clock_id=clock.pk,
                user=request.user,
                submitted_at=data["submitted_at"],
                recipient=data["recipient"],
                reference=data["reference"],
            )
        except ValidationError as exc:
            _attach(form, exc)
            forms_["submission"][clock.pk] = form
            return None
        messages.success(request, f"Submission to {data['recipient']} recorded ({clock.citation}).")
        return HttpResponseRedirect(request.path)

    def _context(self, request, event: AdverseEvent, forms_: dict, notes: dict) -> dict:
        if notes.get("stale"):
            forms_["assessment"] = assessment_form(event)  # the event as it is now, at its new version
            forms_["triage"] = None
        clocks = list(event.clocks.order_by(F("due_at").asc(nulls_last=True), "created_at"))
        triage = forms_["triage"] or TriageForm(initial={"version": event.version})
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Adverse event: case {event.case.reference}",
            "event": event,
            "case": event.case,
            "facts": reported_facts(event),
            "form": forms_["assessment"],
            "triage_form": triage if event.triage == Triage.RECEIVED else None,
            "stale": notes.get("stale", False),
            "yours": notes.get("yours", []),
            "changes": history(event),
            "clocks": [
                {
                    "clock": clock,
                    "due": clock_due(clock),
                    "form_words": form_words(clock.form),
                    "note": reporting.rule_note(clock.rule),
                    "form": forms_["submission"].get(clock.pk) or SubmissionForm.of(clock),
                }
                for clock in clocks
            ],
            "medwatch_url": desk_url("medwatch", event.pk),
            "json_url": desk_url("adverse-event-json", event.pk),
            "desk_url": desk_url("adverse-event", event.pk),
            "list_url": reverse("admin:aftercare_adverseevent_changelist"),
        }


def _attach(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _uuid(text: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(text or "")
    except ValueError:
        return None
