"""Adverse events, each change to them, and their reporting clocks (DESIGN.md, "Adverse events").

An AdverseEvent holds the event as it stands now; it changes only through
clinic.aftercare.adverse_events, compare-and-set on `version`, and every change (the first
report included) appends an AdverseEventChange to the case's audit chain in the same
transaction. Nothing here is ever deleted."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from clinic.aftercare.models.courses import TreatmentCourse
from clinic.aftercare.vocabulary import (
    AdverseEventOutcome,
    AdverseEventSource,
    ClockState,
    ReporterQualification,
    Triage,
)
from intake.models import ChainedRecord, ImmutableRecordError


class KeptQuerySet(models.QuerySet):
    def delete(self):
        raise ImmutableRecordError(f"{self.model.__name__} rows are kept; they cannot be deleted.")


class AdverseEvent(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey("intake.Case", on_delete=models.PROTECT, related_name="adverse_events")
    course = models.ForeignKey(TreatmentCourse, on_delete=models.PROTECT, related_name="adverse_events")
    source = models.CharField(max_length=8, choices=AdverseEventSource.choices)
    # A partner's report: its own id for it (unique per partner), and who reported it.
    partner = models.ForeignKey(
        "intake.Partner", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    external_id = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001
    reporter_name = models.CharField(max_length=200, blank=True)
    reporter_qualification = models.CharField(
        max_length=32, choices=ReporterQualification.choices, blank=True
    )
    # The reporter's view of relatedness (WHO-UMC); the clinic's own assessment is below.
    relatedness_opinion = models.CharField(max_length=16, blank=True)
    triage = models.CharField(max_length=12, choices=Triage.choices, default=Triage.RECEIVED)

    onset = models.DateField()
    description = models.TextField(max_length=5000)
    # CTCAE v5.0 grade: severity, never seriousness. None until graded (a patient's flag).
    ctcae_grade = models.PositiveSmallIntegerField(null=True, blank=True)
    # None: not assessed yet.
    serious = models.BooleanField(null=True, blank=True)
    seriousness_criteria = models.JSONField(default=list, blank=True)
    communicable_disease = models.BooleanField(null=True, blank=True)
    device_involved = models.BooleanField(default=False)
    # The clinic's WHO-UMC assessment, one per suspect (blank: not assessed).
    relatedness_harvest = models.CharField(max_length=16, blank=True)
    relatedness_product = models.CharField(max_length=16, blank=True)
    relatedness_device = models.CharField(max_length=16, blank=True)
    # Against the basis's reference (investigator's brochure, prescribing information, consent risks).
    expected = models.BooleanField(null=True, blank=True)
    outcome = models.CharField(
        max_length=24, choices=AdverseEventOutcome.choices, default=AdverseEventOutcome.UNKNOWN
    )
    action_taken = models.TextField(blank=True)

    # When the clinic learned of it: clocks counted from receipt start here.
    received_at = models.DateTimeField(default=timezone.now, editable=False)
    # When the report or update that made it serious was received (the serious clock's start).
    serious_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When staff recorded the seriousness, expectedness and relatedness that make 312.32(c) apply.
    qualified_at = models.DateTimeField(null=True, blank=True, editable=False)
    triaged_at = models.DateTimeField(null=True, blank=True, editable=False)
    triaged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # A sandbox partner's test: no clock, no escalation, no data sheet, never in triage.
    sandbox = models.BooleanField(default=False, editable=False)
    # Compare-and-set: an edit names the version it was made on; a stale one is refused.
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = KeptQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "external_id"],
                condition=models.Q(external_id__isnull=False),
                name="adverse_event_unique_partner_external_id",
            ),
            models.CheckConstraint(
                condition=models.Q(ctcae_grade__isnull=True)
                | models.Q(ctcae_grade__gte=1, ctcae_grade__lte=5),
                name="adverse_event_grade_1_to_5",
            ),
            models.CheckConstraint(
                condition=models.Q(outcome__in=AdverseEventOutcome.values), name="adverse_event_outcome_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(triage__in=Triage.values), name="adverse_event_triage_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(source__in=AdverseEventSource.values), name="adverse_event_source_valid"
            ),
            # Grade 5 is death: it needs outcome fatal (the criterion `death` is checked by the service).
            models.CheckConstraint(
                condition=~models.Q(ctcae_grade=5) | models.Q(outcome=AdverseEventOutcome.FATAL),
                name="adverse_event_grade_5_fatal",
            ),
        ]
        indexes = [models.Index(fields=["triage", "received_at"], name="adverse_event_triage_idx")]

    def __str__(self) -> str:
        grade = f"grade {self.ctcae_grade}" if self.ctcae_grade else "not graded"
        return f"Adverse event of {self.onset:%Y-%m-%d} ({grade})"

    def delete(self, *args, **kwargs):
        raise ImmutableRecordError("An adverse event is never deleted; record its outcome instead.")


class AdverseEventChange(ChainedRecord):
    """One change to an adverse event (its first report included): what changed, who said so."""

    class Kind(models.TextChoices):
        REPORTED = "reported", "Reported"
        UPDATE = "update", "New information"
        ASSESSMENT = "assessment", "Assessment"
        TRIAGE = "triage", "Triage"
        SUBMISSION = "submission", "Submission recorded"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    adverse_event = models.ForeignKey(AdverseEvent, on_delete=models.PROTECT, related_name="changes")
    case = models.ForeignKey("intake.Case", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    source = models.CharField(max_length=8, choices=AdverseEventSource.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=200)
    # A partner's update: its own id for it, unique per report.
    external_id = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001
    # Field name -> new value, as JSON.
    changes = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True)
    received_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["adverse_event", "chain_seq"]
        constraints = [
            models.UniqueConstraint(
                fields=["adverse_event", "external_id"],
                condition=models.Q(external_id__isnull=False),
                name="adverse_event_change_unique_external_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.actor_label}"

    def chain_case_id(self):
        return self.case_id


class ReportingClock(models.Model):
    """One row of "who reports what, by when" that applies to an adverse event: its start, its
    deadline (None: a voluntary report with no deadline) and, once a user records it, the
    submission. The software submits nothing."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    adverse_event = models.ForeignKey(AdverseEvent, on_delete=models.PROTECT, related_name="clocks")
    case = models.ForeignKey("intake.Case", on_delete=models.PROTECT, related_name="+")
    # The row's key in clinic.aftercare.clocks (e.g. "ind_sponsor_7_day").
    rule = models.CharField(max_length=40)
    recipient = models.CharField(max_length=200)
    citation = models.CharField(max_length=100)
    form = models.CharField(max_length=40, blank=True)
    starts_at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=16, choices=ClockState.choices, default=ClockState.OPEN)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_to = models.CharField(max_length=200, blank=True)
    submission_reference = models.CharField(max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = KeptQuerySet.as_manager()

    class Meta:
        ordering = ["due_at"]
        constraints = [
            models.UniqueConstraint(fields=["adverse_event", "rule"], name="reporting_clock_one_per_rule"),
            models.CheckConstraint(
                condition=models.Q(state__in=ClockState.values), name="reporting_clock_state_valid"
            ),
        ]
        # The board's and the queue's open clocks, soonest first.
        indexes = [models.Index(fields=["state", "due_at"], name="reporting_clock_due_idx")]

    def __str__(self) -> str:
        return f"{self.citation}: {self.recipient}"

    @property
    def is_overdue(self) -> bool:
        return self.state == ClockState.OPEN and self.due_at is not None and self.due_at < timezone.now()

    def delete(self, *args, **kwargs):
        raise ImmutableRecordError("A reporting clock is kept; it cannot be deleted.")


class ClockEscalation(models.Model):
    """An overdue clock's email to the specialists, once per level: the row is written first,
    the email sent after commit (the pattern of recommendations.models.Escalation)."""

    clock = models.ForeignKey(ReportingClock, on_delete=models.PROTECT, related_name="escalations")
    level = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)
    recipients = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["clock", "level"], name="clock_escalation_once_per_level")
        ]

    def __str__(self) -> str:
        return f"Escalation {self.level} of {self.clock_id}"
