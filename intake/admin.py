from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from intake import partner_webhooks, partners, services
from intake.audit import record_reads
from intake.event_types import OPTIONAL as OPTIONAL_EVENTS
from intake.matching import search_patients
from intake.models import (
    Case,
    Partner,
    PartnerAPIKey,
    PartnerNotification,
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
    # Asked for only when the optional events change; kept with the change (SubscriptionChange).
    requested_by = forms.CharField(
        label="Change requested by",
        required=False,
        max_length=partners.REQUESTED_BY_MAX,
        help_text="When you change the optional events: who at the partner asked, in writing, with their "
        "care role (for example “Dr Ana Reyes, orthopaedic surgeon”).",
    )
    reason = forms.CharField(
        label="Why",
        required=False,
        max_length=partners.REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="When you change the optional events: the partner's request as written, or where it is "
        "kept.",
    )

    class Meta:
        model = Partner
        fields = ["name", "webhook_url", "webhook_format", "is_active", "is_sandbox", "event_types"]

    def subscriptions_change(self) -> bool:
        if self.instance._state.adding:
            return bool(self.cleaned_data.get("event_types"))
        return "event_types" in self.changed_data

    def clean(self) -> dict:
        data = super().clean()
        if self.subscriptions_change():
            errors = partners.subscription_change_errors(
                requested_by=data.get("requested_by", ""), reason=data.get("reason", "")
            )
            for name, messages_ in errors.items():
                if name not in self.errors:  # a field's own error (too long) says enough
                    self.add_error(name, messages_)
        return data

    def clean_webhook_url(self) -> str:
        # The rule create_partner applies: http(s), a host that resolves, never an internal address.
        try:
            return partners.validate_webhook_url(self.cleaned_data["webhook_url"])
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["webhook_url"]) from None


def _icon(ok: bool) -> str:
    return format_html(
        '<img src="{}" alt="{}"> ', static(f"admin/img/icon-{'yes' if ok else 'no'}.svg"), "" if ok else "!"
    )


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    form = PartnerForm
    list_display = [
        "name",
        "is_active",
        "is_sandbox",
        "webhook_url",
        "webhook_format",
        "webhooks_state",
        "created_at",
    ]
    list_filter = ["is_sandbox", "is_active"]
    actions = ["reenable_webhooks"]
    WEBHOOK_FIELDS = ["webhooks", "signing_secret"]
    HISTORY_FIELDS = ["subscription_history"]

    def get_readonly_fields(self, request, obj=None):
        # Turning a partner with referrals into a sandbox (or back) would mix test and real cases.
        if obj is not None and obj.cases.exists():
            return ["is_sandbox", *self.WEBHOOK_FIELDS, *self.HISTORY_FIELDS]
        return [*self.WEBHOOK_FIELDS, *self.HISTORY_FIELDS] if obj is not None else []

    @admin.display(description="Changes to optional events")
    def subscription_history(self, partner: Partner) -> str:
        changes = partner.subscription_changes.select_related("changed_by")
        if not changes:
            return "None yet."
        # Paragraphs, not a table: each change wraps to the width of a phone.
        items = format_html_join(
            "",
            "<p><strong>{} UTC</strong>: {}<br>Requested by: {}<br>Why: {}<br>Changed by: {}</p>",
            (
                (
                    f"{change.at:%Y-%m-%d %H:%M}",
                    "; ".join(
                        [f"added {', '.join(change.added)}"] * bool(change.added)
                        + [f"removed {', '.join(change.removed)}"] * bool(change.removed)
                    ),
                    change.requested_by,
                    change.reason,
                    change.changed_by.get_username() if change.changed_by else "a command",
                )
                for change in changes
            ),
        )
        return format_html("<div>{}</div>", items)

    @admin.display(description="Webhooks")
    def webhooks_state(self, partner: Partner) -> str:
        if not partner.webhook_url:
            return "No URL"
        if partner.webhook_disabled_at:
            return format_html("{}Disabled (410 Gone)", _icon(False))
        return format_html("{}Sending", _icon(True))

    @admin.display(description="Webhooks")
    def webhooks(self, partner: Partner) -> str:
        if partner.webhook_disabled_at is None:
            return "Sending." if partner.webhook_url else "No webhook URL: nothing is sent."
        waiting = PartnerNotification.objects.filter(
            partner=partner, state=PartnerNotification.State.PENDING
        ).count()
        return format_html(
            "{}<strong>Disabled since {} UTC</strong>: {} {} waiting deliveries are sent when you re-enable "
            "them: the action “Re-enable webhooks” on the partner list, or a new webhook URL here.",
            _icon(False),
            f"{partner.webhook_disabled_at:%Y-%m-%d %H:%M}",
            partner.webhook_disabled_reason,
            waiting,
        )

    @admin.display(description="Signing secret")
    def signing_secret(self, partner: Partner) -> str:
        expires = partner.previous_secret_expires_at
        if partner.previous_webhook_secret and expires and expires > timezone.now():
            return f"Rotated: the previous secret also signs until {expires:%Y-%m-%d %H:%M} UTC."
        return "One secret signs. Rotate it with manage.py rotate_webhook_secret, or the partner does."

    @admin.action(description="Re-enable webhooks", permissions=["change"])
    def reenable_webhooks(self, request, queryset):
        enabled = 0
        for partner in queryset:
            waiting = partner_webhooks.enable_webhooks(
                partner_id=partner.pk, by=f"admin user {request.user.get_username()}"
            )
            if waiting is not None:
                enabled += 1
                self.log_change(
                    request, partner, f"Re-enabled webhooks; {waiting} waiting deliveries due now."
                )
                self.message_user(
                    request,
                    f"Webhooks of {partner.name} re-enabled: {waiting} waiting deliveries go out now.",
                )
        if enabled < queryset.count():
            self.message_user(
                request,
                f"{queryset.count() - enabled} partner(s) had webhooks enabled already: nothing changed.",
                level=messages.WARNING,
            )

    def _change_subscriptions(self, request, partner, form, event_types, subscribing: bool) -> None:
        if not subscribing:
            return
        made = partners.change_subscriptions(
            partner=partner,
            event_types=event_types,
            requested_by=form.cleaned_data["requested_by"],
            reason=form.cleaned_data["reason"],
            actor=request.user,
        )
        if made is not None:
            said = [f"added {', '.join(made.added)}"] * bool(made.added)
            said += [f"removed {', '.join(made.removed)}"] * bool(made.removed)
            messages.info(
                request, f"Optional events of {partner.name}: {'; '.join(said)} (kept in its history)."
            )

    def save_model(self, request, obj, form, change):
        # The optional events change through the service, which keeps who asked and why.
        subscribing, event_types = form.subscriptions_change(), obj.event_types
        if not change:
            obj.event_types = []
            obj.save()
            self._change_subscriptions(request, obj, form, event_types, subscribing)
            return
        # Only what the form changed: a secret rotated, or a 410 that disabled webhooks, while this page
        # was open must not be written back.
        columns = {field.name for field in Partner._meta.concrete_fields} - {"event_types"}
        saved = [name for name in form.changed_data if name in columns]
        if saved:
            obj.save(update_fields=saved)
        self._change_subscriptions(request, obj, form, event_types, subscribing)
        if "webhook_url" in form.changed_data and obj.webhook_url:
            # A new URL is a new endpoint: what the old one refused (410 Gone) goes to it.
            waiting = partner_webhooks.enable_webhooks(
                partner_id=obj.pk,
                by=f"admin user {request.user.get_username()}",
                why="re-enabled: the webhook URL changed",
            )
            if waiting is not None:
                self.log_change(request, obj, f"Re-enabled webhooks for the new URL; {waiting} due now.")
                messages.info(
                    request, f"Webhooks re-enabled for the new URL: {waiting} waiting deliveries go out now."
                )


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
