import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from intake.models import Case, ChainedRecord


class DraftRoute(models.TextChoices):
    LOCAL_INJECTION = "local_injection", "Local injection"
    INTRAVENOUS = "intravenous", "Intravenous infusion"
    NOT_RECOMMENDED = "not_recommended", "Not recommended"
    NEEDS_INFORMATION = "needs_information", "Needs information"


class FinalRoute(models.TextChoices):
    LOCAL_INJECTION = "local_injection", "Local injection"
    INTRAVENOUS = "intravenous", "Intravenous infusion"
    NOT_RECOMMENDED = "not_recommended", "Not recommended"


class Outcome(models.TextChoices):
    APPROVED = "approved", "Approved as drafted"
    AMENDED = "amended", "Amended to another route"
    DECLINED = "declined", "Declined"


class Recommendation(ChainedRecord):
    """A draft: written once by the engine, stored with everything it said, in its case's chain."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="recommendations")
    # 1 for the first draft of a case, 2 after new information, ...
    sequence = models.PositiveIntegerField()
    route = models.CharField(max_length=20, choices=DraftRoute.choices)
    rules = models.JSONField()
    flags = models.JSONField(default=list)
    ruleset_version = models.CharField(max_length=20)
    notice = models.TextField()
    missing = models.TextField(blank=True)
    condition = models.JSONField(default=dict)
    # Rule set v2 on: every contraindication answer, and why the other route was not drafted.
    answers = models.JSONField(default=list, blank=True)
    other_route = models.TextField(blank=True)
    # The plain data the engine read, so the draft can be explained and replayed.
    engine_input = models.JSONField()
    # A default, not auto_now_add: the value must be known before the row's hash is taken.
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["case", "-sequence"]
        constraints = [
            models.UniqueConstraint(fields=["case", "sequence"], name="recommendation_unique_sequence"),
            models.CheckConstraint(
                condition=models.Q(route__in=DraftRoute.values), name="recommendation_route_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Draft {self.sequence} of {self.case_id}: {self.route}"

    def chain_case_id(self):
        return self.case_id

    @property
    def notice_text(self) -> str:
        """The notice without its list of sources (rule set v2 appends them after "Sources:")."""
        return self.notice.split("\n\nSources: ", 1)[0]

    @property
    def notice_sources(self) -> list[str]:
        parts = self.notice.split("\n\nSources: ", 1)
        return parts[1].split("; ") if len(parts) == 2 else []


class Decision(ChainedRecord):
    """The specialist's final word on a case: one per case, never changed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="decision")
    recommendation = models.ForeignKey(Recommendation, on_delete=models.PROTECT, related_name="decisions")
    route = models.CharField(max_length=20, choices=FinalRoute.choices)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The signature as it was when the decision was made ("Dr. Maria Okafor, MD"); a later
    # change of the specialist's profile does not change a signed decision.
    signed_name = models.CharField(max_length=200, blank=True, editable=False)
    signed_credentials = models.CharField(max_length=100, blank=True, editable=False)
    # A default, not auto_now_add: the value must be known before the row's hash is taken.
    decided_at = models.DateTimeField(default=timezone.now, editable=False)

    chain_added_fields = ("signed_name", "signed_credentials")

    class Meta:
        permissions = [("decide_case", "Can decide cases (approve, amend, decline, ask)")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(route__in=FinalRoute.values), name="decision_route_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(outcome__in=Outcome.values), name="decision_outcome_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(outcome=Outcome.APPROVED) | ~models.Q(reason=""),
                name="decision_reason_unless_approved",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()}: {self.get_route_display()}"

    def chain_case_id(self):
        return self.case_id

    @property
    def signature(self) -> str:
        """ "Dr. Maria Okafor, MD"; decisions signed before signatures existed show the user name."""
        if self.signed_name:
            return (
                f"{self.signed_name}, {self.signed_credentials}"
                if self.signed_credentials
                else self.signed_name
            )
        return self.decided_by.get_username()


class SpecialistProfile(models.Model):
    """What a specialist signs decisions with: full name (with title) and credentials."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="specialist_profile"
    )
    full_name = models.CharField(
        max_length=200, help_text="As it should appear on a signed decision, e.g. Dr. Maria Okafor"
    )
    credentials = models.CharField(max_length=100, help_text="e.g. MD, or MD, PhD")

    def __str__(self) -> str:
        return f"{self.full_name}, {self.credentials}"

    @property
    def complete(self) -> bool:
        return bool(self.full_name.strip() and self.credentials.strip())


class Addendum(ChainedRecord):
    """A correction appended to a decision; the decision itself never changes."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="addenda")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name_plural = "addenda"
        ordering = ["decision", "created_at"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(reason=""), name="addendum_reason_required"),
        ]

    def __str__(self) -> str:
        return f"Addendum by {self.author_id} at {self.created_at:%Y-%m-%d %H:%M}"

    chain_case_lookup = "decision__case_id"

    def chain_case_id(self):
        return Decision.objects.filter(pk=self.decision_id).values_list("case_id", flat=True).get()


class ReviewCase(Case):
    """The review queue: cases awaiting a specialist, as the admin lists them."""

    class Meta:
        proxy = True
        verbose_name = "case awaiting review"
        verbose_name_plural = "review queue"


class Escalation(models.Model):
    """An overdue case's email to the specialists, at most once per escalation level. The row is
    written first (no network in that transaction); the email task sends it after commit and sets
    sent_at, so a row with sent_at null is an email still owed (recommendations.escalation)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="escalations")
    level = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    # A sending attempt holds the row until then; another attempt may take it over after.
    claimed_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)
    recipients = models.TextField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "level"], name="escalation_once_per_level")]

    def __str__(self) -> str:
        return f"Escalation {self.level} of {self.case_id}"
