from django.contrib import admin

from intake.models import Case, CaseEvent, Partner, Patient


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    list_display = ["family_name", "given_name", "birth_date", "mrn"]
    search_fields = ["family_name", "given_name", "mrn", "email", "phone"]


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active", "webhook_url", "created_at"]
    exclude = ["webhook_secret"]


class CaseEventInline(admin.TabularInline):
    model = CaseEvent
    fields = ["created_at", "from_status", "to_status", "actor_label", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ["id", "patient", "condition_code", "status", "priority", "created_at"]
    list_filter = ["status", "source"]
    list_select_related = ["patient"]
    readonly_fields = ["status", "open_question"]
    inlines = [CaseEventInline]
