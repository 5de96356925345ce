import hashlib
import json
import uuid
from datetime import UTC, date, datetime

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from rest_framework_api_key.models import AbstractAPIKey, BaseAPIKeyManager

from intake.body_sites import BODY_SITES


class ImmutableRecordError(Exception):
    """Raised when code tries to change or delete a row of the permanent record."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableRecordError(f"{self.model.__name__} rows are append-only; they cannot be updated.")

    def delete(self):
        raise ImmutableRecordError(f"{self.model.__name__} rows are append-only; they cannot be deleted.")


class AppendOnlyModel(models.Model):
    """A row that is written once and never changed or deleted through the ORM."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableRecordError(
                f"{type(self).__name__} {self.pk} is part of the permanent record and cannot be changed."
            )
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableRecordError(
            f"{type(self).__name__} {self.pk} is part of the permanent record and cannot be deleted."
        )


GENESIS = "0" * 64


def _plain(value):
    # One text form per value, the same before the INSERT and after reading it back.
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, (date, uuid.UUID)):
        return str(value) if isinstance(value, uuid.UUID) else value.isoformat()
    return value


class ChainedRecord(AppendOnlyModel):
    """A row of a case's tamper-evident chain (case events, decisions, addenda).

    Each row holds its place in the case's chain, the hash of the row before it,
    and the hash of its own content with that link; the case holds the newest
    hash and the length. `manage.py verify_audit` walks the chains and names the
    first row that was altered, inserted or deleted behind the models' back."""

    chain_seq = models.PositiveIntegerField(null=True, editable=False)
    prev_hash = models.CharField(max_length=64, blank=True, editable=False)
    row_hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            super().save(*args, **kwargs)  # refused by AppendOnlyModel
            return
        # No savepoint: a failure here fails the caller's whole transaction anyway.
        with transaction.atomic(savepoint=False):
            # The case row's lock orders the chain: one writer per case at a time.
            head, length = (
                Case.objects.select_for_update()
                .filter(pk=self.chain_case_id())
                .values_list("audit_head", "audit_length")
                .get()
            )
            self.chain_seq, self.prev_hash = length + 1, head or GENESIS
            self.row_hash = self.compute_hash()
            super().save(*args, **kwargs)
            Case.objects.filter(pk=self.chain_case_id()).update(
                audit_head=self.row_hash, audit_length=self.chain_seq
            )

    def chain_case_id(self):
        raise NotImplementedError

    def chain_content(self) -> dict:
        # Database-assigned ids are unknown until the INSERT; the chain position stands in for them.
        fields = [
            f
            for f in self._meta.concrete_fields
            if f.attname != "row_hash" and not isinstance(f, models.AutoField | models.BigAutoField)
        ]
        return {f.attname: _plain(getattr(self, f.attname)) for f in fields}

    def compute_hash(self) -> str:
        content = json.dumps(self.chain_content(), sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(f"{self._meta.label}|{content}".encode()).hexdigest()


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


class Patient(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    mrn = models.CharField("MRN", max_length=32, unique=True)
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    birth_date = models.DateField()
    sex = models.CharField(max_length=10, choices=Sex.choices)
    phone = models.CharField(max_length=32, blank=True)
    # The phone's last nine digits, for the duplicate check (intake.matching.phone_key).
    phone_key = models.CharField(max_length=16, blank=True, editable=False)
    email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The desk form's one-time token: a double click or a resubmit finds this row.
    submission_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    class Meta:
        ordering = ["family_name", "given_name"]
        indexes = [
            models.Index(fields=["birth_date"]),
            models.Index(fields=["family_name", "given_name"]),
            models.Index(fields=["phone_key"]),
            models.Index(fields=["email"]),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(sex__in=Sex.values), name="patient_sex_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.family_name}, {self.given_name} ({self.mrn})"


class WebhookFormat(models.TextChoices):
    JSON = "json", "Referral JSON (API v1)"
    FHIR = "fhir", "FHIR R4 Bundle"


class Partner(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200, unique=True)
    webhook_url = models.URLField(blank=True, max_length=500)
    # Kept readable: the service signs every webhook with it.
    webhook_secret = models.CharField(max_length=100, blank=True)
    webhook_format = models.CharField(
        max_length=8,
        choices=WebhookFormat.choices,
        default=WebhookFormat.JSON,
        help_text="What a webhook's `data` holds: the referral as in API v1, or its FHIR R4 Bundle.",
    )
    is_active = models.BooleanField(default=True)
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


class CaseStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    DRAFTING = "drafting", "Drafting"
    DRAFT_FAILED = "draft_failed", "Draft failed"
    AWAITING_REVIEW = "awaiting_review", "Awaiting review"
    NEEDS_INFORMATION = "needs_information", "Needs information"
    DECIDED = "decided", "Decided"
    WITHDRAWN = "withdrawn", "Withdrawn"


FINAL_STATUSES = frozenset({CaseStatus.DECIDED, CaseStatus.WITHDRAWN})


class CaseSource(models.TextChoices):
    FRONT_DESK = "front_desk", "Front desk"
    PARTNER = "partner", "Partner"


class Priority(models.IntegerChoices):
    # Stored as a number so that ordering by it puts urgent first and an index serves it.
    URGENT = 1, "Urgent"
    ROUTINE = 2, "Routine"


CONTRAINDICATION_LABELS = {
    "active_malignancy": "Active malignancy",
    "active_infection": "Active infection",
    "pregnant": "Pregnant",
    "anticoagulant_therapy": "Anticoagulant therapy",
    "bleeding_disorder": "Bleeding disorder",
    "immunosuppressed": "Immunosuppressed",
}
CONTRAINDICATIONS = tuple(CONTRAINDICATION_LABELS)


class Case(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="cases")
    source = models.CharField(max_length=16, choices=CaseSource.choices)
    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, null=True, blank=True, related_name="cases"
    )
    # NULL, not "", for desk cases: the unique (partner, external_id) constraint skips NULLs.
    external_id = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The desk form's one-time token: a double click or a resubmit finds this row.
    submission_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    # Set when the patient could not be matched with certainty (partner referrals).
    patient_needs_review = models.BooleanField(default=False)

    condition_code = models.CharField("ICD-10 code", max_length=10)
    condition_text = models.CharField("condition description", max_length=500, blank=True)
    affected_sites = models.JSONField(default=list, blank=True)
    active_malignancy = models.BooleanField()
    active_infection = models.BooleanField()
    pregnant = models.BooleanField()
    anticoagulant_therapy = models.BooleanField()
    bleeding_disorder = models.BooleanField()
    immunosuppressed = models.BooleanField()
    consent_obtained = models.BooleanField()
    consent_form_version = models.CharField(max_length=32, blank=True)
    goals = models.TextField(blank=True)
    notes = models.TextField(blank=True)

    status = models.CharField(
        max_length=20, choices=CaseStatus.choices, default=CaseStatus.RECEIVED, editable=False
    )
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.ROUTINE)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    status_changed_at = models.DateTimeField(auto_now_add=True)
    due_at = models.DateTimeField()
    # When a draft task was last queued for the case; the sweep reads it.
    draft_enqueued_at = models.DateTimeField(default=timezone.now, editable=False)
    # The open question while the case needs information.
    open_question = models.TextField(blank=True, editable=False)
    # The newest draft, kept on the case so the queue reads it with one join.
    current_draft = models.ForeignKey(
        "recommendations.Recommendation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    # The specialist reviewing the case now, shown to the others.
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The newest hash of the case's audit chain and its length (intake.models.ChainedRecord).
    audit_head = models.CharField(max_length=64, blank=True, editable=False)
    audit_length = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["priority", "created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=CaseStatus.values), name="case_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(priority__in=Priority.values), name="case_priority_valid"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(source=CaseSource.PARTNER, partner__isnull=False)
                    | models.Q(source=CaseSource.FRONT_DESK, partner__isnull=True)
                ),
                name="case_source_matches_partner",
            ),
            models.UniqueConstraint(
                fields=["partner", "external_id"],
                condition=models.Q(external_id__isnull=False),
                name="case_unique_partner_external_id",
            ),
        ]
        indexes = [
            # The review queue and the board: one status, urgent first, oldest first.
            models.Index(fields=["status", "priority", "created_at"], name="case_queue_idx"),
            models.Index(fields=["status", "status_changed_at"], name="case_status_age_idx"),
        ]

    def __str__(self) -> str:
        return f"Case {str(self.id)[:8]} ({self.get_status_display()})"

    @property
    def contraindications(self) -> dict[str, bool]:
        return {name: getattr(self, name) for name in CONTRAINDICATIONS}

    @property
    def affected_site_labels(self) -> list[str]:
        return [BODY_SITES.get(site, site) for site in self.affected_sites]

    @property
    def contraindication_answers(self) -> list[tuple[str, bool]]:
        return [(label, getattr(self, name)) for name, label in CONTRAINDICATION_LABELS.items()]

    @property
    def is_overdue(self) -> bool:
        return self.status not in FINAL_STATUSES and self.due_at < timezone.now()

    @property
    def patient_age(self) -> int:
        born, today = self.patient.birth_date, timezone.localdate()
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


class CaseEvent(ChainedRecord):
    """The timeline and audit trail of a case: one row per step, never changed."""

    class Kind(models.TextChoices):
        STATUS = "status", "Status change"
        NOTE = "note", "Note"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.STATUS)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Who or what acted when it was not a user: "system", "partner: Name", "worker".
    actor_label = models.CharField(max_length=200)
    note = models.TextField(blank=True)
    # A default, not auto_now_add: the value must be known before the row's hash is taken.
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["case", "id"]
        indexes = [models.Index(fields=["case", "id"])]

    def __str__(self) -> str:
        if self.kind == self.Kind.STATUS:
            return f"{self.from_status or '-'} -> {self.to_status} by {self.actor_label}"
        return f"{self.actor_label}: {self.note[:40]}"

    def chain_case_id(self):
        return self.case_id

    @property
    def to_status_label(self) -> str:
        return CaseStatus(self.to_status).label if self.to_status else ""


class PartnerNotification(models.Model):
    """A status change a partner must be told about, written in the transaction that
    made it (an outbox), so the webhook is sent even if the broker was down then.
    Its id is the Standard Webhooks `webhook-id`, stable across retries."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Gave up"
        NO_URL = "no_url", "No webhook URL"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="notifications")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="notifications")
    event_type = models.CharField(max_length=50)
    payload = models.JSONField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="notification_due_idx")]
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


class ReadAccess(AppendOnlyModel):
    """Who opened which patient's case, when, and through which door."""

    class Channel(models.TextChoices):
        DESK = "desk", "Front-desk page"
        ADMIN = "admin", "Admin"
        API = "api", "Partner API"

    at = models.DateTimeField(auto_now_add=True)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    actor_label = models.CharField(max_length=200)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    path = models.CharField(max_length=300)

    class Meta:
        verbose_name_plural = "read accesses"
        indexes = [
            models.Index(fields=["patient", "at"], name="read_patient_idx"),
            models.Index(fields=["at"], name="read_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} read {self.case_id} ({self.channel})"
