"""What was given, to whom, by whom, from which product (DESIGN.md, "Treatment record").

A record entered by someone other than the performer is a TreatmentEntry (a draft, editable)
until the performer signs it; the signed TreatmentRecord is immutable and joins the case's audit
chain like a decision; a correction is a TreatmentAddendum. There is no delete path: 21 CFR
1271.270(d) keeps records at least ten years after administration."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from clinic.aftercare.models.courses import TreatmentCourse
from clinic.aftercare.vocabulary import ImageGuidance, PerformerRole, ProductSource
from intake.models import ChainedRecord, ImmutableRecordError


class TreatmentFields(models.Model):
    """The clinical content of a treatment session, shared by the draft and the signed record.
    Numbers are stored as int/float (never Decimal) so a row hashes the same before and after
    it is read back."""

    session = models.PositiveSmallIntegerField(default=1)
    performer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    performer_role = models.CharField(
        max_length=24, choices=PerformerRole.choices, default=PerformerRole.PHYSICIAN
    )
    administered_at = models.DateTimeField()
    route = models.CharField(max_length=20)
    # Required when the route differs from the decision's.
    route_reason = models.TextField(blank=True)
    sites = models.JSONField(default=list, blank=True)
    image_guidance = models.CharField(max_length=16, choices=ImageGuidance.choices)
    # The decision's protocol, as administered under (id, version, basis).
    protocol_id = models.CharField(max_length=100, blank=True)
    protocol_version = models.PositiveIntegerField(null=True, blank=True)
    basis = models.CharField("regulatory basis", max_length=40, blank=True)
    product_kind = models.CharField(max_length=200)
    product_source = models.CharField(max_length=12, choices=ProductSource.choices)
    processing_facility = models.CharField(max_length=200)
    lot = models.CharField(max_length=100)
    # 21 CFR 1271.290(c): never the patient's name, SSN, MRN or birth date (clinic.aftercare.product_codes).
    distinct_code = models.CharField("distinct identification code", max_length=100)
    # Label legends applied under 21 CFR 1271.90(c), e.g. "FOR AUTOLOGOUS USE ONLY".
    label_legends = models.JSONField(default=list, blank=True)
    dose_tnc = models.PositiveBigIntegerField("total nucleated cells", null=True, blank=True)
    viability_percent = models.FloatField("viability (%)", null=True, blank=True)
    volume_ml = models.FloatField("volume (mL)", null=True, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        abstract = True


class TreatmentEntry(TreatmentFields):
    """A treatment record not yet signed by its performer: entered at the desk, signed in the
    review desk (clinic.aftercare.treatments.sign_treatment)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    course = models.ForeignKey(TreatmentCourse, on_delete=models.PROTECT, related_name="entries")
    case = models.ForeignKey("intake.Case", on_delete=models.PROTECT, related_name="+")
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    # Set when signed: the entry is then closed and the record is the truth.
    signed_record = models.OneToOneField(
        "aftercare.TreatmentRecord", on_delete=models.PROTECT, null=True, blank=True, related_name="entry"
    )

    class Meta:
        verbose_name_plural = "treatment entries"

    def __str__(self) -> str:
        return (
            f"Treatment entry, session {self.session} ({'signed' if self.signed_record_id else 'unsigned'})"
        )

    def delete(self, *args, **kwargs):
        raise ImmutableRecordError("A treatment entry is kept; it cannot be deleted.")


class TreatmentRecord(TreatmentFields, ChainedRecord):
    """The signed record of one session: never changed, never deleted."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    course = models.ForeignKey(TreatmentCourse, on_delete=models.PROTECT, related_name="records")
    case = models.ForeignKey("intake.Case", on_delete=models.PROTECT, related_name="+")
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The signature as it was when signed (the performer's signing profile).
    signed_name = models.CharField(max_length=200)
    signed_credentials = models.CharField(max_length=100)
    signed_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["course", "session"]
        constraints = [
            models.UniqueConstraint(fields=["course", "session"], name="treatment_record_one_per_session"),
        ]

    def __str__(self) -> str:
        return f"Treatment record, session {self.session}"

    def chain_case_id(self):
        return self.case_id

    @property
    def signature(self) -> str:
        return f"{self.signed_name}, {self.signed_credentials}"


class TreatmentAddendum(ChainedRecord):
    """A correction appended to a signed treatment record, signed by its author."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    record = models.ForeignKey(TreatmentRecord, on_delete=models.PROTECT, related_name="addenda")
    case = models.ForeignKey("intake.Case", on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_name = models.CharField(max_length=200)
    signed_credentials = models.CharField(max_length=100)
    reason = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name_plural = "treatment addenda"
        ordering = ["record", "created_at"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(reason=""), name="treatment_addendum_reason_required"),
        ]

    def __str__(self) -> str:
        return f"Addendum of {timezone.localtime(self.created_at):%Y-%m-%d %H:%M}"

    def chain_case_id(self):
        return self.case_id
