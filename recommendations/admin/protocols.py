"""The clinic's treatment protocols in the admin (rule set v3, rule 1).

A saved change is a new version (recommendations.protocols.save_protocol): the form never writes
the row it shows, so the id and version a draft recorded keep meaning what the draft used.
Versions are never deleted. The list says whether each is effective where the clinic is, and why not.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from recommendations import protocols
from recommendations.models import Protocol
from recommendations.selectors import effectiveness

# Protocol file field (as the engine's messages name it) -> the form field that holds it.
FORM_FIELD = {
    "id": "protocol_id",
    "age/min": "age_min",
    "age/max": "age_max",
    "age/min_months": "age_min_months",
}
EDITABLE = [
    "protocol_id", "title", "route", "active", "indications", "sites", "max_sites_per_session",
    "age_min", "age_max", "age_min_months", "requires", "limits", "follow_up", "basis", "reference",
    "basis_rationale", "clinic_role", "irb_report_days", "assent_waived",
]  # fmt: skip


def _form_field(name: str) -> str | None:
    if name in FORM_FIELD:
        return FORM_FIELD[name]
    head = name.split("/", 1)[0]
    return head if head in EDITABLE else None


class ProtocolForm(forms.ModelForm):
    class Meta:
        model = Protocol
        fields = EDITABLE

    def clean_protocol_id(self) -> str:
        value = self.cleaned_data["protocol_id"]
        if Protocol.objects.filter(protocol_id=value).exists():
            raise ValidationError(
                f"A protocol {value} exists already: open it and save the change as a new version."
            )
        return value

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        values = {name: cleaned.get(name) for name in EDITABLE}
        if "protocol_id" not in self.fields:  # read-only on a change: the id names every version
            values["protocol_id"] = self.instance.protocol_id
        try:
            protocols.check_protocol(Protocol(**values, version=1).as_dict())
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                target = _form_field(name)
                target = target if target in self.fields else None
                for message in messages:
                    self.add_error(target, message if target else f"{name}: {message}")
        return cleaned


@admin.register(Protocol)
class ProtocolAdmin(admin.ModelAdmin):
    form = ProtocolForm
    list_display = ["protocol_id", "version", "title", "route", "basis", "active", "is_effective", "why_not"]
    list_filter = ["active", "route", "basis"]
    search_fields = ["protocol_id", "title", "reference"]
    readonly_fields = ["version", "created_at", "created_by"]

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        # The id names every version: a different id is a new protocol.
        return [*self.readonly_fields, "protocol_id"] if obj else self.readonly_fields

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # drafts name the versions they used

    @admin.display(boolean=True, description="effective")
    def is_effective(self, obj: Protocol) -> bool:
        return effectiveness(obj.as_dict())[0]

    @admin.display(description="why not effective")
    def why_not(self, obj: Protocol) -> str:
        return effectiveness(obj.as_dict())[1] or "-"

    def save_model(self, request: HttpRequest, obj: Protocol, form, change: bool) -> None:
        data = obj.as_dict()
        if change:
            saved = protocols.save_protocol(protocol_id=obj.protocol_id, data=data, user=request.user)
        else:
            saved = protocols.create_protocol(data=data, user=request.user)
        # The admin's messages and "save and continue" then show the version that was written.
        obj.pk, obj.version, obj.created_at, obj.created_by = (
            saved.pk,
            saved.version,
            saved.created_at,
            saved.created_by,
        )
        check = protocols.check_protocol(saved.as_dict())
        for warning in protocols.protocol_warnings(check):
            self.message_user(request, f"{saved}: {warning}", messages.WARNING)
