from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from intake.models import Case, Partner, Patient


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    list_display = ["family_name", "given_name", "birth_date", "mrn"]
    search_fields = ["family_name", "given_name", "mrn", "email", "phone"]
    show_full_result_count = False


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active", "webhook_url", "created_at"]
    exclude = ["webhook_secret"]


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    """Every case, in any status, read-only: cases change only through the services."""

    list_display = ["patient", "condition_code", "status", "source", "created_at", "review_link"]
    list_filter = ["status", "source", "priority"]
    search_fields = ["patient__family_name", "patient__given_name", "patient__mrn", "external_id"]
    list_select_related = ["patient"]
    ordering = ["-created_at"]
    show_full_result_count = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="")
    def review_link(self, case: Case):
        url = reverse("admin:recommendations_reviewcase_change", args=[case.pk])
        return format_html('<a href="{}">Review page</a>', url)
