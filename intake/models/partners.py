"""Partner clinics, their keys, what they are owed (webhooks) and their idempotent requests."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from rest_framework_api_key.models import AbstractAPIKey, BaseAPIKeyManager

from intake.event_types import validate_event_types
from intake.models.cases import Case
from intake.models.records import AppendOnlyModel


class WebhookFormat(models.TextChoices):
    JSON = "json", "Referral JSON (API v1)"
    FHIR = "fhir", "FHIR R4 Bundle"


class Partner(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200, unique=True)
    webhook_url = models.URLField(blank=True, max_length=500)
    # Kept readable: the service signs every webhook with it.
    webhook_secret = models.CharField(max_length=100, blank=True)
    # After a rotation the old secret still signs, beside the new one, until it expires, so a
    # receiver can switch without a gap (Standard Webhooks: several signatures in one header).
    previous_webhook_secret = models.CharField(max_length=100, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    # Set when the receiver answered 410 Gone: nothing is sent until someone re-enables it;
    # events still queue in the outbox meanwhile.
    webhook_disabled_at = models.DateTimeField("webhooks disabled at", null=True, blank=True)
    webhook_disabled_reason = models.CharField("why webhooks are disabled", max_length=300, blank=True)
    webhook_format = models.CharField(
        max_length=8,
        choices=WebhookFormat.choices,
        default=WebhookFormat.JSON,
        help_text="What a webhook's `data` holds: the referral as in API v1, or its FHIR R4 Bundle.",
    )
    is_active = models.BooleanField(default=True)
    is_sandbox = models.BooleanField(
        "sandbox",
        default=False,
        help_text="A test partner: the same API, but its cases never reach specialists and are "
        "decided automatically by their external_id's prefix. Fixed once the partner has referrals.",
    )
    # ping and the v1 types are always sent; these are the optional ones (intake.event_types).
    event_types = models.JSONField(
        "optional events",
        default=list,
        blank=True,
        validators=[validate_event_types],
        help_text="Sent to this partner by webhook and listed in its events feed, besides ping and the v1 "
        "types, which every partner receives. Add one on the partner's written request naming its care "
        "role; a sandbox partner starts with all of them.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(webhook_format__in=WebhookFormat.values),
                name="partner_webhook_format_valid",
            )
        ]

    def __str__(self) -> str:
        return self.name


class PartnerAPIKeyManager(BaseAPIKeyManager):
    def get_usable_keys(self) -> models.QuerySet:
        # The partner is read on every request: fetch it with the key.
        return super().get_usable_keys().select_related("partner")


class PartnerAPIKey(AbstractAPIKey):
    """A hashed API key; a partner may hold several so a key can be rotated."""

    objects = PartnerAPIKeyManager()

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="api_keys")

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "partner API key"
        verbose_name_plural = "partner API keys"


class CurrentTransactionId(models.Func):
    """The column default of an event's feed position: on PostgreSQL, the id of the transaction
    that writes the row (`pg_current_xact_id()`, 64 bits, never wraps). The events feed lists
    only rows of transactions older than every one still running (`pg_snapshot_xmin`), in this
    order, so a transaction that commits late can never fall behind a cursor that has passed it.
    Elsewhere NULL: the embedded SQLite quick start (intake.selectors.partner_events)."""

    output_field = models.BigIntegerField()

    def as_sql(self, compiler, connection, **extra_context):
        return "NULL", []

    def as_postgresql(self, compiler, connection, **extra_context):
        return "(pg_current_xact_id()::text::bigint)", []


class PartnerNotification(models.Model):
    """A status change a partner must be told about, written in the transaction that
    made it (an outbox), so the webhook is sent even if the broker was down then.
    Its id is the Standard Webhooks `webhook-id`, stable across retries."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Gave up"
        NO_URL = "no_url", "No webhook URL"

    # The event type of a test sent by POST /api/v1/webhooks/test: concerns no referral.
    PING = "ping"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="notifications")
    # NULL for a `ping` (POST /api/v1/webhooks/test), which concerns no referral.
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="notifications"
    )
    event_type = models.CharField(max_length=50)
    payload = models.JSONField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # The X-Request-ID of the request (or task) that caused the event: sent with the webhook.
    request_id = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The events feed's order: the writing transaction's id (CurrentTransactionId); 0 for rows
    # written before the feed ordered by it.
    feed_txid = models.BigIntegerField(null=True, editable=False, db_default=CurrentTransactionId())

    class Meta:
        ordering = ["created_at"]
        indexes = [
            models.Index(
                fields=["partner", "feed_txid", "created_at", "id"], name="notification_txid_feed_idx"
            ),
            models.Index(fields=["state", "next_attempt_at"], name="notification_due_idx"),
            # The events feed and the deliveries list: one partner's rows, oldest first.
            models.Index(fields=["partner", "created_at", "id"], name="notification_feed_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=["pending", "delivered", "failed", "no_url"]),
                name="notification_state_valid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_type} for {self.partner} ({self.get_state_display()})"


class WebhookAttempt(AppendOnlyModel):
    """One try at delivering a notification: kept, never changed."""

    notification = models.ForeignKey(
        PartnerNotification, on_delete=models.PROTECT, related_name="attempt_log"
    )
    attempted_at = models.DateTimeField(auto_now_add=True)
    url = models.CharField(max_length=500)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["notification", "attempted_at"]

    def __str__(self) -> str:
        return f"{self.attempted_at:%Y-%m-%d %H:%M:%S} {self.status_code or self.error[:40]}"


class IdempotencyRecord(models.Model):
    """The first response to a partner's `Idempotency-Key`, replayed for a retry."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    # NULL while the first request is still being processed.
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    # JSON as ASCII text, not jsonb: an error message may quote the partner's input,
    # and jsonb refuses a NUL character or a lone surrogate in it.
    response_body = models.TextField(null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["partner", "key"], name="idempotency_unique_partner_key"),
        ]
        indexes = [models.Index(fields=["expires_at"], name="idempotency_expiry_idx")]

    def __str__(self) -> str:
        return f"{self.partner_id}:{self.key}"


class SubscriptionChange(AppendOnlyModel):
    """A change to the optional event types a partner receives (Partner.event_types): what was added
    and removed, who at the partner asked for it in writing and why, and who made it. Kept, never
    changed (intake.partners.change_subscriptions writes it)."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="subscription_changes")
    added = models.JSONField(default=list, blank=True)
    removed = models.JSONField(default=list, blank=True)
    requested_by = models.CharField(
        "requested by",
        max_length=200,
        help_text="Who at the partner asked, in writing: name and care role (or the command that made it).",
    )
    reason = models.TextField(max_length=2000, help_text="Why: the request as written, or where it is kept.")
    # NULL when a command made the change.
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["partner", "at"], name="subscription_change_idx")]

    def __str__(self) -> str:
        return f"{self.partner}: {self.at:%Y-%m-%d %H:%M}"
