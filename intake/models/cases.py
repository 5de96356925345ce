"""Cases and their timeline."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from intake.models.patients import Patient
from intake.models.records import ChainedRecord
from intake.statuses import FINAL_STATUSES, STATUS, CaseStatus, StatusFacts
from intake.vocabulary import icd10cm
from intake.vocabulary.body_sites import BODY_SITES
from intake.vocabulary.contraindications import CONTRAINDICATION_LABELS, CONTRAINDICATIONS


class NextCaseNumber(models.Func):
    """The case number's column default: the next value of its sequence on PostgreSQL, drawn in
    the INSERT itself (and returned by it). Elsewhere NULL: the embedded SQLite quick start,
    one writer at a time, has no sequences and is given the number by intake.services."""

    output_field = models.PositiveBigIntegerField()

    def as_sql(self, compiler, connection, **extra_context):
        return "NULL", []

    def as_postgresql(self, compiler, connection, **extra_context):
        return "nextval('intake_case_number_seq')", []


class CaseSource(models.TextChoices):
    FRONT_DESK = "front_desk", "Front desk"
    PARTNER = "partner", "Partner"


class ConsentBy(models.TextChoices):
    PATIENT = "patient", "The patient"
    GUARDIAN = "guardian", "A parent or guardian"
    LEGAL_REPRESENTATIVE = "legal_representative", "A legal representative"


class Priority(models.IntegerChoices):
    # Stored as a number so that ordering by it puts urgent first and an index serves it.
    URGENT = 1, "Urgent"
    ROUTINE = 2, "Routine"


class Case(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="cases")
    source = models.CharField(max_length=16, choices=CaseSource.choices)
    partner = models.ForeignKey(
        "intake.Partner", on_delete=models.PROTECT, null=True, blank=True, related_name="cases"
    )
    # NULL, not "", for desk cases: the unique (partner, external_id) constraint skips NULLs.
    external_id = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The desk form's one-time token: a double click or a resubmit finds this row.
    submission_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    # The case number people read and say (reference "C-2026-000123"); from a database sequence.
    number = models.PositiveBigIntegerField(
        unique=True, null=True, editable=False, db_default=NextCaseNumber()
    )
    # Set when the patient could not be matched with certainty (partner referrals).
    patient_needs_review = models.BooleanField(default=False)
    # A sandbox partner's test case: fixed at opening, never on the board, the queue or in analytics.
    sandbox = models.BooleanField(default=False, editable=False)

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
    # Rule set v3's intake (DESIGN.md, rules 3, 4 and 6): findings by published key, up to five
    # further coded conditions, who consented, a minor's assent (None: not recorded) and the
    # optional breastfeeding answer (None: not asked).
    findings = models.JSONField(default=dict, blank=True)
    additional_conditions = models.JSONField(default=list, blank=True)
    consent_by = models.CharField(max_length=24, blank=True, choices=ConsentBy.choices)
    assent = models.BooleanField(null=True, blank=True)
    breastfeeding = models.BooleanField(null=True, blank=True)
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
    # "<key id>:<HMAC>" over the head, the length, the clinical fields and the patient's identity
    # (intake.models.records.seal), written with the head: a change that wrote no chained row shows.
    audit_seal = models.CharField(max_length=100, blank=True, editable=False)

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
                condition=models.Q(consent_by__in=["", *ConsentBy.values]), name="case_consent_by_valid"
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
            # The board's cards: per status and priority, the newest activity (intake.selectors).
            models.Index(fields=["status", "priority", "status_changed_at"], name="case_board_idx"),
            # The board's "has anything changed since?" question: one index lookup.
            models.Index(fields=["status_changed_at"], name="case_changed_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} ({self.get_status_display()})"

    @property
    def reference(self) -> str:
        """The short case reference a person reads, writes and searches for: C-2026-000123."""
        if self.number is None:
            return f"C-{str(self.id)[:8]}"
        return f"C-{timezone.localtime(self.created_at).year}-{self.number:06d}"

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
    def condition_descriptor(self) -> str:
        """The official ICD-10-CM descriptor of the condition code ("" for a code not in the code set)."""
        found = icd10cm.get(self.condition_code)
        return found.descriptor if found else ""

    @property
    def facts(self) -> StatusFacts:
        """What the case's status means (intake.statuses), for templates and callers."""
        return STATUS[self.status]

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

    @property
    def from_status_label(self) -> str:
        return CaseStatus(self.from_status).label if self.from_status else ""
