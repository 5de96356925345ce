import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Upper

from intake.vocabulary.names import name_key


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
    # The whole name folded (intake.vocabulary.names.fold: no case, no accents, any script), for the desk's
    # search: "nguyen" finds "Nguyễn". Kept by save(); computed in Python so that the embedded
    # SQLite quick start and PostgreSQL find the same patients.
    name_key = models.CharField(max_length=300, blank=True, editable=False, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The desk form's one-time token: a double click or a resubmit finds this row.
    submission_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    # A sandbox partner's test patient: never matched with, or listed beside, real patients.
    sandbox = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["family_name", "given_name"]
        indexes = [
            models.Index(fields=["birth_date"]),
            models.Index(fields=["family_name", "given_name"]),
            models.Index(fields=["phone_key"]),
            models.Index(fields=["email"]),
            # MRNs are unique whatever their case (intake.services), and searched so.
            models.Index(Upper("mrn"), name="patient_mrn_upper_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(sex__in=Sex.values), name="patient_sex_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.family_name}, {self.given_name} ({self.mrn})"

    def save(self, *args, **kwargs) -> None:
        self.name_key = name_key(self.given_name, self.family_name)
        fields = kwargs.get("update_fields")
        if fields is not None and {"given_name", "family_name"} & set(fields):
            kwargs["update_fields"] = {*fields, "name_key"}
        super().save(*args, **kwargs)


class PendingContactUpdate(models.Model):
    """Contact details a partner sent for a patient it matched, that add to or differ from the
    record: kept for the desk to accept or dismiss, never applied silently (intake.contacts)."""

    class Outcome(models.TextChoices):
        ACCEPTED = "accepted", "Accepted"
        DISMISSED = "dismissed", "Dismissed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="pending_contact_updates")
    # The referral that brought it.
    case = models.ForeignKey("intake.Case", on_delete=models.PROTECT, related_name="contact_updates")
    partner = models.ForeignKey(
        "intake.Partner", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # What the partner sent that the record lacks or has otherwise; "" where it sent nothing new.
    phone = models.CharField(max_length=32, blank=True)
    email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            models.Index(
                fields=["patient", "created_at"],
                condition=models.Q(resolved_at__isnull=True),
                name="contact_update_pending_idx",
            ),
        ]
        constraints = [
            # The same update from two referrals at one moment waits once (intake.contacts).
            models.UniqueConstraint(
                fields=["patient", "phone", "email"],
                condition=models.Q(resolved_at__isnull=True),
                name="contact_update_once_pending",
            ),
            models.CheckConstraint(
                condition=~models.Q(phone="", email=""), name="contact_update_has_a_detail"
            ),
            models.CheckConstraint(
                condition=models.Q(resolved_at__isnull=True, outcome="")
                | models.Q(resolved_at__isnull=False, outcome__in=["accepted", "dismissed"]),
                name="contact_update_outcome_when_resolved",
            ),
        ]

    def __str__(self) -> str:
        return f"Contact update for {self.patient_id} ({self.outcome or 'pending'})"

    @property
    def is_pending(self) -> bool:
        return self.resolved_at is None

    @property
    def fields(self) -> list[str]:
        """The fields it would change, as a person reads them: ["phone", "email"]."""
        return [name for name in ("phone", "email") if getattr(self, name)]
