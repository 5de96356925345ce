import uuid

from django.db import models


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
    # A sandbox partner's test patient: never matched with, or listed beside, real patients.
    sandbox = models.BooleanField(default=False, editable=False)

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
