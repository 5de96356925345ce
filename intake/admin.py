from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from intake import partners, services
from intake.audit import record_reads
from intake.event_types import OPTIONAL as OPTIONAL_EVENTS
from intake.matching import search_patients
from intake.models import (
    Case,
    Partner,
    PartnerAPIKey,
    Patient,
    PendingContactUpdate,
    ReadAccess,
)
from intake.text import invisible_characters_message
from intake.vocabulary import codesearch
from intake.workflow import Actor

# The library's own key model is unused: partner keys are PartnerAPIKey.
if admin.site.is_registered(APIKey):
    admin.site.unregister(APIKey)


class PatientForm(forms.ModelForm):
    """The service's refusals as field errors, before anything is saved (so the admin never says
    "changed successfully" beside a refusal)."""

    class Meta:
        model = Patient
        fields = list(services.AMENDABLE_PATIENT_FIELDS)

    def clean(self) -> dict:
        data = super().clean()
        for name in ("given_name", "family_name", "mrn"):
            if data.get(name) and (message := invisible_characters_message(str(data[name]))):
                self.add_error(name, message)
        return data


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    form = PatientForm
    list_display = ["family_name", "given_name", "birth_date", "mrn"]
    search_fields = ["family_name", "given_name", "mrn", "email", "phone"]
    show_full_result_count = False

    def get_search_results(self, request, queryset, search_term):
        # Also the desk's search: accents, case and script aside, birth dates, case references.
        found, duplicates = super().get_search_results(request, queryset, search_term)
        if search_term.strip():
            found |= queryset.filter(
                pk__in=[patient.pk for patient in search_patients(search_term, limit=100)]
            )
        return found, duplicates

    def get_fields(self, request, obj=None):
        return list(services.AMENDABLE_PATIENT_FIELDS)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.save()  # a new patient has no case, so no chain to tell yet
            return
        # Through the service: each of the patient's cases records the change in its audit chain.
        try:
            services.amend_patient(
                patient_id=obj.pk,
                actor=Actor.of_user(request.user),
                changes={name: form.cleaned_data[name] for name in form.changed_data},
            )
        except ValidationError as exc:
            # The form's own checks ran first; this is what only the service knows (invisible characters).
            messages.error(request, "Nothing was changed: " + " ".join(exc.messages))


class PartnerForm(forms.ModelForm):
    # A URL typed without a scheme is taken as https (Django 6's default, chosen now).
    webhook_url = forms.URLField(required=False, max_length=500, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        label="Optional events",
        required=False,
        choices=[(name, f"{name}, sent when {when}") for name, when in OPTIONAL_EVENTS.items()],
        # The admin's radio-list class: labels as wide as their text, not the 160 px of field labels.
        widget=forms.CheckboxSelectMultiple(attrs={"class": "radiolist"}),
        help_text=Partner._meta.get_field("event_types").help_text,
    )

    class Meta:
        model = Partner
        fields = ["name", "webhook_url", "webhook_format", "is_active", "is_sandbox", "event_types"]

    def clean_webhook_url(self) -> str:
        # The rule create_partner applies: http(s), a host that resolves, never an internal address.
        try:
            return partners.validate_webhook_url(self.cleaned_data["webhook_url"])
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["webhook_url"]) from None


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    form = PartnerForm
    list_display = ["name", "is_active", "is_sandbox", "webhook_url", "webhook_format", "created_at"]
    list_filter = ["is_sandbox", "is_active"]

    def get_readonly_fields(self, request, obj=None):
        # Turning a partner with referrals into a sandbox (or back) would mix test and real cases.
        if obj is not None and obj.cases.exists():
            return ["is_sandbox"]
        return []


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    """Every case, in any status, read-only: cases change only through the services."""

    list_display = ["patient", "condition_code", "status", "source", "created_at", "review_link"]
    list_filter = ["status", "source", "priority", "sandbox"]
    search_fields = ["patient__family_name", "patient__given_name", "patient__mrn", "external_id"]
    list_select_related = ["patient"]
    ordering = ["-created_at"]
    show_full_result_count = False
    # The code search's first codes for a condition typed in words ("stroke", "OA knee").
    CONDITION_CODES = 500

    def get_search_results(self, request, queryset, search_term):
        found, duplicates = super().get_search_results(request, queryset, search_term)
        codes = [code.code for code in codesearch.search(search_term, limit=self.CONDITION_CODES)]
        if codes:
            found |= queryset.filter(condition_code__in=codes)
        return found, duplicates

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        # get_object is None for a malformed or unknown id (the admin has redirected).
        case = self.get_object(request, object_id) if response.status_code == 200 else None
        if case is not None:
            record_reads(request=request, cases=[case], channel=ReadAccess.Channel.ADMIN)
        return response

    @admin.display(description="")
    def review_link(self, case: Case):
        url = reverse("admin:recommendations_reviewcase_change", args=[case.pk])
        return format_html('<a href="{}">Review page</a>', url)


@admin.register(PartnerAPIKey)
class PartnerAPIKeyAdmin(APIKeyModelAdmin):
    """Issue (the key is shown once, on saving), rotate and revoke partner keys."""

    list_display = [*APIKeyModelAdmin.list_display, "partner"]
    list_filter = [*APIKeyModelAdmin.list_filter, "partner"]
    list_select_related = ["partner"]

    def save_model(self, request, obj, form=None, change=False):
        if change:
            obj.save()
            return
        # As the library does, but the key shown carries its sandbox_ or live_ label.
        key = partners.labelled_key(obj.partner, self.model.objects.assign_key(obj))
        obj.save()
        messages.warning(
            request, f"The API key for {obj.name} is: {key}. Store it somewhere safe: it is not shown again."
        )


@admin.register(PendingContactUpdate)
class PendingContactUpdateAdmin(admin.ModelAdmin):
    """Read-only: the desk accepts or dismisses an update on the patient's page (intake.contacts)."""

    list_display = ["patient", "phone", "email", "partner", "created_at", "outcome", "resolved_at"]
    list_filter = ["outcome"]
    list_select_related = ["patient", "partner"]
    ordering = ["-created_at"]
    show_full_result_count = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
