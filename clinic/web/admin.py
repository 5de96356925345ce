"""The outbox in the Django admin: every webhook the partners are owed, with each attempt, and
a way to send one again (queued through this app's tasks). A delivery whose partner's webhooks are
disabled (its endpoint answered 410 Gone) says so: it waits for the partner page's "Re-enable webhooks"."""

from django.contrib import admin, messages
from django.contrib.admin.utils import display_for_value
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html

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
        "next_attempt",
        "delivered_at",
    ]
    list_filter = ["state", "event_type", "partner"]
    list_select_related = ["partner"]
    readonly_fields = ["waits_for", *(f.name for f in PartnerNotification._meta.fields)]
    inlines = [WebhookAttemptInline]
    actions = ["resend_now"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @staticmethod
    def _held(notification: PartnerNotification) -> bool:
        waiting = notification.state == PartnerNotification.State.PENDING
        return waiting and notification.partner.webhook_disabled_at is not None

    @admin.display(description="Next attempt at", ordering="next_attempt_at")
    def next_attempt(self, notification: PartnerNotification) -> str:
        if not self._held(notification):
            return display_for_value(notification.next_attempt_at, "-")
        icon = static("admin/img/icon-no.svg")
        return format_html('<img src="{}" alt="!"> When webhooks are re-enabled (410 Gone)', icon)

    @admin.display(description="Waits for")
    def waits_for(self, notification: PartnerNotification) -> str:
        partner = notification.partner
        if not self._held(notification):
            return "-"
        url = reverse("admin:intake_partner_changelist")
        return format_html(
            '<img src="{}" alt="!"> The partner\'s webhooks to be re-enabled (disabled since {} UTC: '
            '{}) <a href="{}">Re-enable them on the partners page</a>.',
            static("admin/img/icon-no.svg"),
            f"{partner.webhook_disabled_at:%Y-%m-%d %H:%M}",
            partner.webhook_disabled_reason,
            url,
        )

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
        disabled = queryset.exclude(partner__webhook_disabled_at=None).count()
        if disabled:
            self.message_user(
                request,
                f"{disabled} could not be sent: the partner's webhooks are disabled (its endpoint answered "
                "410 Gone). Re-enable them on the partner list; what waits then goes out.",
                level=messages.WARNING,
            )
        if queued + disabled < len(ids):
            self.message_user(
                request,
                f"{len(ids) - queued - disabled} could not be sent: the partner has no webhook URL.",
                level=messages.WARNING,
            )
