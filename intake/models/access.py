"""Who read which patient's case: the read half of the audit trail."""

from django.conf import settings
from django.db import models

from intake.models.cases import Case
from intake.models.partners import Partner
from intake.models.patients import Patient
from intake.models.records import AppendOnlyModel


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
