"""The treatment course a treatment decision opens, and its moves (clinic.aftercare.courses)."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from clinic.aftercare.statuses import COURSE, CourseState
from intake.models import ChainedRecord


class TreatmentCourse(models.Model):
    """One per decision whose final route is a treatment. Its state changes only through
    clinic.aftercare.courses (compare-and-set, a CourseEvent per move)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.OneToOneField("intake.Case", on_delete=models.PROTECT, related_name="treatment_course")
    decision = models.OneToOneField(
        "recommendations.Decision", on_delete=models.PROTECT, related_name="treatment_course"
    )
    state = models.CharField(
        max_length=20, choices=CourseState.choices, default=CourseState.SCHEDULED, editable=False
    )
    state_changed_at = models.DateTimeField(default=timezone.now, editable=False)
    opened_at = models.DateTimeField(default=timezone.now, editable=False)
    # The decision's final route and protocol snapshot, copied so lists need no join.
    route = models.CharField(max_length=20, editable=False)
    protocol = models.JSONField(null=True, blank=True, default=None, editable=False)
    # The session the desk booked (None: not booked yet); a change is a note event.
    appointment_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The first signed record's administration time: follow-up days count from it.
    treated_at = models.DateTimeField(null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Why it was cancelled (required for cancelled) or why it ended otherwise.
    close_reason = models.TextField(blank=True, editable=False)
    sandbox = models.BooleanField(default=False, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=CourseState.values), name="course_state_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(state=CourseState.CANCELLED) | ~models.Q(close_reason=""),
                name="course_cancelled_has_reason",
            ),
        ]
        indexes = [
            # The desk's board: courses per state, by appointment.
            models.Index(fields=["state", "appointment_at"], name="course_board_idx"),
        ]

    def __str__(self) -> str:
        return f"Treatment course ({self.get_state_display()})"

    @property
    def facts(self):
        return COURSE[self.state]


class CourseEvent(ChainedRecord):
    """A step of a course (a move, a booking, a signed record), in the case's audit chain."""

    class Kind(models.TextChoices):
        STATE = "state", "State change"
        NOTE = "note", "Note"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    course = models.ForeignKey(TreatmentCourse, on_delete=models.PROTECT, related_name="events")
    case = models.ForeignKey("intake.Case", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.STATE)
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=200)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["case", "chain_seq"]

    def __str__(self) -> str:
        if self.kind == self.Kind.STATE:
            return f"{self.from_state or '-'} -> {self.to_state} by {self.actor_label}"
        return f"{self.actor_label}: {self.note[:40]}"

    def chain_case_id(self):
        return self.case_id

    @property
    def to_state_label(self) -> str:
        return CourseState(self.to_state).label if self.to_state else ""
