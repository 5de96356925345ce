"""The outbox in the Django admin: every webhook the partners are owed, with each attempt, and
a way to send one again (queued through this app's tasks)."""

from django.contrib import admin, messages

from clinic.web import notifications, tasks
from intake.models import PartnerNotification, WebhookAttempt


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ["attempted_at", "url", "status_code", "error", "duration_ms"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PartnerNotification)
class PartnerNotificationAdmin(admin.ModelAdmin):
    """Every webhook the partners are owed, with each attempt; resend from here."""

    list_display = [
        "created_at",
        "partner",
        "event_type",
        "state",
        "attempts",
        "next_attempt_at",
        "delivered_at",
    ]
    list_filter = ["state", "event_type", "partner"]
    list_select_related = ["partner"]
    readonly_fields = [f.name for f in PartnerNotification._meta.fields]
    inlines = [WebhookAttemptInline]
    actions = ["resend_now"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Send the selected notifications again now")
    def resend_now(self, request, queryset):
        ids = list(queryset.values_list("id", flat=True))
        queued = sum(
            notifications.resend(notification_id=notification_id, queue_delivery=tasks.enqueue_delivery)
            for notification_id in ids
        )
        if queued:
            self.message_user(
                request, f"{queued} notification(s) will be sent again now; see their attempts."
            )
        if queued < len(ids):
            self.message_user(
                request,
                f"{len(ids) - queued} could not be sent: the partner has no webhook URL.",
                level=messages.WARNING,
            )
