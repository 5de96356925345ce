"""Follow-up after treatment (DESIGN.md, "Follow-up"): the time points the protocol names, the
links patients answer them from, the answers with their scores, and each step in the case's
audit chain. Shipped instruments are data (clinic.aftercare.instruments); one the clinic added
from a FHIR Questionnaire file, with its licence recorded, is an Instrument row."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from clinic.aftercare.models.courses import TreatmentCourse
from intake.models import ChainedRecord


class Instrument(models.Model):
    """An instrument the clinic added: a FHIR R4 Questionnaire it holds a licence for."""

    class Better(models.TextChoices):
        HIGHER = "higher", "Higher is better"
        LOWER = "lower", "Lower is better"

    key = models.SlugField(max_length=40, unique=True)
    title = models.CharField(max_length=200)
    questionnaire = models.JSONField()
    better = models.CharField(max_length=6, choices=Better.choices)
    score_min = models.FloatField()
    score_max = models.FloatField()
    # None: no MCID derived in a comparable population; the responder value is then null.
    mcid = models.FloatField(null=True, blank=True)
    mcid_source = models.TextField(blank=True)
    licence = models.TextField(help_text="The licence or written permission the clinic holds, and its date.")
    licence_source = models.CharField(max_length=300)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    added_at = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self) -> str:
        return self.title


class TimePoint(models.Model):
    """One day of a course's follow-up: day 0 is the baseline, taken before treatment; any other
    day counts from the first session's date. Changes only through clinic.aftercare.follow_up."""

    class State(models.TextChoices):
        WAITING = "waiting", "Not due yet"
        INVITED = "invited", "Link sent"
        CALL = "call", "On the call list"
        COMPLETED = "completed", "Answered"
        UNREACHABLE = "unreachable", "Unreachable"
        CLOSED = "closed", "Closed unanswered"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    course = models.ForeignKey(TreatmentCourse, on_delete=models.PROTECT, related_name="time_points")
    case = models.ForeignKey("intake.Case", on_delete=models.PROTECT, related_name="+")
    day = models.PositiveIntegerField()
    instruments = models.JSONField(default=list)
    # The date it is due: the treatment date + day (None until treated; the baseline's is the day
    # the course was scheduled).
    due_on = models.DateField(null=True, blank=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.WAITING)
    state_changed_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    sandbox = models.BooleanField(default=False, editable=False)
    # Compare-and-set for the desk, the link and the sweeps.
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["course", "day"]
        constraints = [
            models.UniqueConstraint(fields=["course", "day"], name="time_point_one_per_day"),
            models.CheckConstraint(
                condition=models.Q(
                    state__in=["waiting", "invited", "call", "completed", "unreachable", "closed"]
                ),
                name="time_point_state_valid",
            ),
        ]
        indexes = [models.Index(fields=["state", "due_on"], name="time_point_due_idx")]

    def __str__(self) -> str:
        return "Baseline" if self.day == 0 else f"Day {self.day}"


class Invitation(models.Model):
    """The link a patient answers a time point from: `/f/<token>`, the token stored only as its
    SHA-256, expiring, usable until the form is submitted. Its email is sent after commit from its
    own queue; `sent_at` null with `attempts` counts what is still owed."""

    class Delivery(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Could not be sent"
        BOUNCED = "bounced", "Bounced"
        OPTED_OUT = "opted_out", "Patient opted out"
        NO_ADDRESS = "no_address", "No email address"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    time_point = models.ForeignKey(TimePoint, on_delete=models.PROTECT, related_name="invitations")
    case = models.ForeignKey("intake.Case", on_delete=models.PROTECT, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    delivery = models.CharField(max_length=12, choices=Delivery.choices, default=Delivery.PENDING)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True)
    # The provider's message id (django-anymail), to match a bounce to the invitation.
    message_id = models.CharField(max_length=200, blank=True)
    reminders_sent = models.PositiveSmallIntegerField(default=0)
    last_reminder_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["delivery", "created_at"], name="invitation_delivery_idx")]

    def __str__(self) -> str:
        return f"Invitation for {self.time_point}"


class FormResponse(models.Model):
    """A patient's (or the desk's) answers to one instrument at one time point, saved as they go
    until submitted; then scored and never changed. Kept as a FHIR QuestionnaireResponse."""

    class Source(models.TextChoices):
        LINK = "link", "Patient, from the link"
        DESK = "desk", "Entered at the desk"
        PHONE = "phone", "Answered by phone"
        SANDBOX = "sandbox", "Sandbox simulation"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    time_point = models.ForeignKey(TimePoint, on_delete=models.PROTECT, related_name="responses")
    case = models.ForeignKey("intake.Case", on_delete=models.PROTECT, related_name="+")
    instrument = models.CharField(max_length=40)
    answers = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=8, choices=Source.choices)
    started_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    score = models.FloatField(null=True, blank=True)
    baseline_score = models.FloatField(null=True, blank=True)
    improvement = models.FloatField(null=True, blank=True)
    # True/False when the instrument has an MCID for this population; None otherwise or at baseline.
    responder = models.BooleanField(null=True, blank=True)
    worsening = models.BooleanField(default=False)

    class Meta:
        ordering = ["time_point", "instrument"]
        constraints = [
            models.UniqueConstraint(
                fields=["time_point", "instrument"], name="form_response_one_per_instrument"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument} at {self.time_point}"


class FollowUpEvent(ChainedRecord):
    """A step of the follow-up (a link sent, a reminder, a bounce, an answer, a call), in the
    case's audit chain: every send is an event on the case."""

    class Kind(models.TextChoices):
        SCHEDULED = "scheduled", "Follow-up scheduled"
        INVITED = "invited", "Link sent"
        REMINDED = "reminded", "Reminder sent"
        SEND_FAILED = "send_failed", "Email could not be sent"
        BOUNCED = "bounced", "Email bounced"
        OPTED_OUT = "opted_out", "Patient opted out of email"
        CALL_LIST = "call_list", "Added to the follow-up call list"
        ANSWERED = "answered", "Answered"
        UNREACHABLE = "unreachable", "Unreachable by phone"
        CLOSED = "closed", "Closed unanswered"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey("intake.Case", on_delete=models.PROTECT, related_name="+")
    time_point = models.ForeignKey(
        TimePoint, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=200)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["case", "chain_seq"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.actor_label})"

    def chain_case_id(self):
        return self.case_id


class ContactOptOut(models.Model):
    """A patient asked for no more follow-up email (from the link, or told the desk); honoured
    for every later invitation. A bounce is recorded the same way until the address changes."""

    class Reason(models.TextChoices):
        OPTED_OUT = "opted_out", "The patient opted out"
        BOUNCED = "bounced", "The address bounced"

    patient = models.ForeignKey("intake.Patient", on_delete=models.PROTECT, related_name="+")
    # The address it applies to: a new address on the patient's record starts afresh.
    email = models.EmailField()
    reason = models.CharField(max_length=10, choices=Reason.choices)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["patient", "email"], name="contact_opt_out_once_per_address"),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()}: {self.email}"
