"""Treatment records in the review desk: entries awaiting their performer's signature (oldest
administration first), the "Check and sign" step, and the signed records, shown and never changed,
with their addenda. Every change is a call to clinic.aftercare.treatments."""

import uuid

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import BooleanField, Case, When
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from clinic.aftercare import treatments
from clinic.aftercare.admin.common import ShownNotChanged, desk_url, may_sign, signer_of, treatment_rows, when
from clinic.aftercare.admin.outcomes import OutcomesPage
from clinic.aftercare.admin.signing import ConfirmForm, sign
from clinic.aftercare.errors import AftercareError
from clinic.aftercare.models import TreatmentAddendum, TreatmentEntry, TreatmentRecord
from intake.vocabulary.routes import FINAL_ROUTES

SIGN_TEMPLATE = "admin/aftercare/sign.html"


class _SignList(ChangeList):
    # Each entry opens its "Check and sign" page (it is edited at the desk, not here).
    def url_for_result(self, result) -> str:
        return reverse("admin:aftercare_treatmententry_sign", args=[result.pk])


def _case_link(item) -> str:
    url = reverse("admin:recommendations_reviewcase_change", args=[item.case_id])
    return format_html('<a href="{}">{}</a>', url, item.case.reference)


def _refusals(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [message for messages_ in exc.message_dict.values() for message in messages_]
    return list(exc.messages)


class YoursFilter(admin.SimpleListFilter):
    title = "who signs"
    parameter_name = "signer"

    def lookups(self, request, model_admin):
        return [("me", "Yours to sign"), ("others", "Others' to sign")]

    def queryset(self, request, queryset):
        if self.value() == "me":
            return queryset.filter(performer=request.user)
        if self.value() == "others":
            return queryset.exclude(performer=request.user)
        return queryset


@admin.register(TreatmentEntry)
class TreatmentEntryAdmin(ShownNotChanged, admin.ModelAdmin):
    """Entries awaiting signature; each opens its "Check and sign" page."""

    list_display = ["administered", "case_link", "patient", "product", "signer", "entered"]
    list_display_links = ["administered"]
    list_filter = [YoursFilter]
    list_select_related = ["case__patient", "performer", "entered_by"]
    ordering = ["administered_at", "entered_at"]
    search_fields = ["case__patient__family_name", "case__patient__mrn", "lot"]
    search_help_text = "Patient name, MRN or lot."
    change_list_template = "admin/aftercare/treatmententry/change_list.html"

    class Media:
        css = {"all": ["review/review.css"]}

    def get_queryset(self, request):
        yours = Case(
            When(performer_id=request.user.pk, then=True), default=False, output_field=BooleanField()
        )
        return (
            super()
            .get_queryset(request)
            .filter(signed_record__isnull=True, course__sandbox=False)
            .annotate(yours=yours)
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<uuid:entry_id>/sign/", view(self.sign_view), name="aftercare_treatmententry_sign"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        yours = self.get_queryset(request).filter(performer=request.user).count()
        context = {
            "title": "Treatment records awaiting signature: oldest administration first",
            "yours_to_sign": yours,
        }
        return super().changelist_view(request, {**context, **(extra_context or {})})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # An entry is read where it is signed; it is edited at the desk.
        try:
            return HttpResponseRedirect(
                reverse("admin:aftercare_treatmententry_sign", args=[uuid.UUID(object_id)])
            )
        except ValueError:
            raise Http404("No such treatment entry.") from None

    def get_changelist(self, request, **kwargs):
        return _SignList

    @admin.display(description="administered", ordering="administered_at")
    def administered(self, entry: TreatmentEntry):
        # Yours is said in the first column too: on a phone the others scroll out of sight.
        mine = format_html(' <span class="flag">{}</span>', "Yours to sign") if entry.yours else ""
        return format_html("{} (session {}){}", when(entry.administered_at), entry.session, mine)

    @admin.display(description="case", ordering="case__number")
    def case_link(self, entry: TreatmentEntry):
        return _case_link(entry)

    @admin.display(description="patient", ordering="case__patient__family_name")
    def patient(self, entry: TreatmentEntry) -> str:
        return f"{entry.case.patient.family_name}, {entry.case.patient.given_name}"

    @admin.display(description="product, lot")
    def product(self, entry: TreatmentEntry) -> str:
        return f"{entry.product_kind}, lot {entry.lot}"

    @admin.display(description="signs")
    def signer(self, entry: TreatmentEntry):
        if entry.yours:
            return format_html('<strong class="yours">{}</strong>', "You: yours to sign")
        return signer_of(entry.performer)

    @admin.display(description="entered by")
    def entered(self, entry: TreatmentEntry) -> str:
        return f"{entry.entered_by.get_username()}, {when(entry.entered_at)}"

    # --- Check and sign ------------------------------------------------------------------

    def sign_view(self, request: HttpRequest, entry_id: uuid.UUID) -> HttpResponse:
        if not may_sign(request.user):
            raise PermissionDenied("Only clinicians with a signing profile may sign treatment records.")
        entry = (
            TreatmentEntry.objects.select_related("case__patient", "performer", "signed_record")
            .filter(pk=entry_id, course__sandbox=False)
            .first()
        )
        if entry is None:
            raise Http404("No such treatment entry.")
        if entry.signed_record_id:
            messages.info(request, "This treatment record is signed already.")
            return HttpResponseRedirect(record_url(entry.signed_record_id))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Check and sign: treatment record, session {entry.session}",
            "case": entry.case,
            "kind": "record",
            "back_url": reverse("admin:aftercare_treatmententry_changelist"),
            "back_label": "Awaiting signature",
            "edit_url": desk_url("treatment-entry", entry.case_id, entry.pk),
            "performer": signer_of(entry.performer),
        }
        if entry.performer_id != request.user.pk:
            # Only the performer signs; the others read the entry and see who must.
            rows = treatment_rows(entry, signature=signer_of(entry.performer))
            return TemplateResponse(request, SIGN_TEMPLATE, {**context, "rows": rows, "not_yours": True})
        answer = ConfirmForm(request.POST if request.method == "POST" else None)
        confirmed = (
            answer.cleaned_data["fingerprint"] if answer.is_valid() and answer.cleaned_data["confirm"] else ""
        )
        try:
            record, signing = sign(
                lambda: treatments.sign_treatment(user=request.user, entry_id=entry.pk), confirmed=confirmed
            )
        except (AftercareError, PermissionDenied) as exc:
            rows = treatment_rows(entry, signature=signer_of(entry.performer))
            return TemplateResponse(request, SIGN_TEMPLATE, {**context, "rows": rows, "refused": [str(exc)]})
        except ValidationError as exc:
            rows = treatment_rows(entry, signature=signer_of(entry.performer))
            return TemplateResponse(
                request, SIGN_TEMPLATE, {**context, "rows": rows, "refused": _refusals(exc)}
            )
        if record is None:
            return TemplateResponse(
                request,
                SIGN_TEMPLATE,
                {**context, "signing": signing, "rows": signing.rows, "changed": bool(confirmed)},
            )
        messages.success(
            request,
            f"Signed: treatment record of case {entry.case.reference}, session {record.session}. "
            "It cannot be changed; a correction is an addendum.",
        )
        return HttpResponseRedirect(record_url(record.pk))


def record_url(record_id) -> str:
    return reverse("admin:aftercare_treatmentrecord_change", args=[record_id])


class AddendumForm(forms.Form):
    reason = forms.CharField(
        label="Correction and its reason",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        error_messages={"required": "Write the correction and why it is made; an addendum needs a reason."},
    )


@admin.register(TreatmentRecord)
class TreatmentRecordAdmin(OutcomesPage, ShownNotChanged, admin.ModelAdmin):
    """Signed records: shown, never changed or deleted; corrections are addenda."""

    list_display = ["administered", "case_link", "patient", "route_label", "signature", "signed", "addenda"]
    list_display_links = ["administered"]
    list_select_related = ["case__patient"]
    ordering = ["-administered_at"]
    search_fields = ["case__patient__family_name", "case__patient__mrn", "lot", "distinct_code"]
    search_help_text = "Patient name, MRN, lot or distinct identification code."

    def get_queryset(self, request):
        return super().get_queryset(request).filter(course__sandbox=False)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<uuid:record_id>/addendum/",
                view(self.addendum_view),
                name="aftercare_treatmentrecord_addendum",
            ),
            *super().get_urls(),
        ]

    @admin.display(description="administered", ordering="administered_at")
    def administered(self, record: TreatmentRecord) -> str:
        return f"{when(record.administered_at)} (session {record.session})"

    @admin.display(description="case", ordering="case__number")
    def case_link(self, record: TreatmentRecord):
        return _case_link(record)

    @admin.display(description="patient", ordering="case__patient__family_name")
    def patient(self, record: TreatmentRecord) -> str:
        return f"{record.case.patient.family_name}, {record.case.patient.given_name}"

    @admin.display(description="route")
    def route_label(self, record: TreatmentRecord) -> str:
        return FINAL_ROUTES.get(record.route, record.route)

    @admin.display(description="signed at", ordering="signed_at")
    def signed(self, record: TreatmentRecord) -> str:
        return when(record.signed_at)

    @admin.display(description="addenda")
    def addenda(self, record: TreatmentRecord) -> int:
        return record.addenda.count()

    def _record(self, record_id) -> TreatmentRecord:
        try:
            return self.get_queryset_for_page().get(pk=record_id)
        except (TreatmentRecord.DoesNotExist, ValidationError):
            raise Http404("No such treatment record.") from None

    def get_queryset_for_page(self):
        return TreatmentRecord.objects.select_related("case__patient").filter(course__sandbox=False)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not may_sign(request.user):
            raise PermissionDenied("Only clinicians with a signing profile may read treatment records here.")
        return self._page(request, self._record(object_id), AddendumForm())

    def _page(self, request, record: TreatmentRecord, form: AddendumForm, status: int = 200) -> HttpResponse:
        addenda = TreatmentAddendum.objects.filter(record=record).order_by("created_at")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Treatment record: case {record.case.reference}, session {record.session}",
            "record": record,
            "case": record.case,
            "rows": treatment_rows(record, signature=record.signature),
            "addenda": list(addenda),
            "form": form,
            "addendum_url": reverse("admin:aftercare_treatmentrecord_addendum", args=[record.pk]),
            "course_url": desk_url("course", record.case_id),
        }
        return TemplateResponse(
            request, "admin/aftercare/treatmentrecord/record.html", context, status=status
        )

    def addendum_view(self, request: HttpRequest, record_id: uuid.UUID) -> HttpResponse:
        if not may_sign(request.user):
            raise PermissionDenied("Only clinicians with a signing profile may add an addendum.")
        record = self._record(record_id)
        if request.method != "POST":
            return HttpResponseRedirect(record_url(record.pk))
        form = AddendumForm(request.POST)
        if not form.is_valid() or "edit" in request.POST:
            return self._page(request, record, form)
        reason = form.cleaned_data["reason"]
        answer = ConfirmForm(request.POST)
        confirmed = (
            answer.cleaned_data["fingerprint"] if answer.is_valid() and answer.cleaned_data["confirm"] else ""
        )
        run = lambda: treatments.add_treatment_addendum(record_id=record.pk, user=request.user, reason=reason)  # noqa: E731
        try:
            addendum, signing = sign(run, confirmed=confirmed)
        except (AftercareError, PermissionDenied) as exc:
            messages.error(request, str(exc))
            return HttpResponseRedirect(record_url(record.pk))
        except ValidationError as exc:
            for message in _refusals(exc):
                form.add_error("reason", message)
            return self._page(request, record, form)
        if addendum is None:
            context = {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": "Check and sign: an addendum to the treatment record",
                "case": record.case,
                "kind": "addendum",
                "signing": signing,
                "reason": reason,
                "changed": bool(confirmed),
                "back_url": record_url(record.pk),
                "back_label": f"Treatment record {record.case.reference}, session {record.session}",
                "action_url": request.path,
            }
            return TemplateResponse(request, SIGN_TEMPLATE, context)
        messages.success(request, "Addendum signed and added to the treatment record.")
        return HttpResponseRedirect(record_url(record.pk))
