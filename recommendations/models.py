import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from intake.models import AppendOnlyQuerySet, Case, ChainedRecord
from intake.vocabulary.routes import FINAL_ROUTES, OUTCOMES


def _choices(name: str, labels: dict[str, str]) -> type[models.TextChoices]:
    """TextChoices whose members are named after their values (LOCAL_INJECTION for local_injection)."""
    members = [(value.upper(), (value, label)) for value, label in labels.items()]
    return models.TextChoices(name, members, module=__name__)


DraftRoute = _choices("DraftRoute", {**FINAL_ROUTES, "needs_information": "Needs information"})
FinalRoute = _choices("FinalRoute", FINAL_ROUTES)
Outcome = _choices("Outcome", OUTCOMES)


class DraftQuerySet(AppendOnlyQuerySet):
    def live(self) -> "DraftQuerySet":
        """The drafts specialists, partners and the sandbox see: every draft but the shadow ones."""
        return self.filter(shadow=False)

    def current_of(self, case: Case) -> "Recommendation | None":
        """The draft a specialist decides on: the case's newest live one, with the highest sequence
        (every draft is a row of its case's chain, so the case holds no pointer to it). A shadow
        draft is never current."""
        return self.live().filter(case_id=case.pk).order_by("-sequence").first()


class Recommendation(ChainedRecord):
    """A draft: written once by the engine, stored with everything it said, in its case's chain."""

    objects = DraftQuerySet.as_manager()

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
    # Rule set v3 on: the protocol the draft used (empty when none covered) and what it still needs
    # (the engine's Draft.needs: finding keys, consent, the partner contract's members).
    protocol_id = models.CharField(max_length=64, blank=True)
    protocol_version = models.PositiveIntegerField(null=True, blank=True)
    needs = models.JSONField(default=dict, blank=True)
    # A default, not auto_now_add: the value must be known before the row's hash is taken.
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # The draft the rule set RULESET_SHADOW would have made, stored beside the live draft of the same
    # sequence: never current, never shown to partners, never used for needs, the queue or the sandbox;
    # compared with the live drafts against outcomes (clinic.aftercare.outcomes).
    shadow = models.BooleanField(default=False, editable=False)

    chain_added_fields = ("protocol_id", "protocol_version", "needs")

    class Meta:
        ordering = ["case", "-sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "sequence"],
                condition=models.Q(shadow=False),
                name="recommendation_unique_sequence",
            ),
            # One shadow per live draft and rule set (the setting may name another rule set later).
            models.UniqueConstraint(
                fields=["case", "sequence", "ruleset_version"],
                condition=models.Q(shadow=True),
                name="recommendation_unique_shadow",
            ),
            models.CheckConstraint(
                condition=models.Q(route__in=DraftRoute.values), name="recommendation_route_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Draft {self.sequence} of case {self.case.reference}: {self.get_route_display()}"

    def chain_case_id(self):
        return self.case_id

    def chain_content(self) -> dict:
        content = super().chain_content()
        # Added after drafts were chained: a live draft's hash leaves the flag out, so the drafts
        # hashed before it keep their hashes; a shadow draft's hash holds it.
        if not self.shadow:
            content.pop("shadow", None)
        return content

    @property
    def notice_text(self) -> str:
        """The notice without its list of sources (rule set v2 appends them after "Sources:")."""
        return self.notice.split("\n\nSources: ", 1)[0]

    @property
    def notice_sources(self) -> list[str]:
        parts = self.notice.split("\n\nSources: ", 1)
        return parts[1].split("; ") if len(parts) == 2 else []


class ProtocolBasis(models.TextChoices):
    APPROVED_PRODUCT = "approved_product", "FDA-licensed product, within its labelled indication"
    IND = "ind", "Investigation under an FDA IND"
    IRB_TRIAL = "irb_trial", "IRB-approved study needing no IND"
    SAME_SURGICAL_PROCEDURE = "same_surgical_procedure", "Same surgical procedure, 21 CFR 1271.15(b)"
    MINIMAL_MANIPULATION_HOMOLOGOUS = (
        "minimal_manipulation_homologous",
        "Minimally manipulated, homologous use, 21 CFR 1271.10(a)",
    )
    NON_US_AUTHORISATION = "non_us_authorisation", "Authorised by a regulator outside the US"


class ProtocolRoute(models.TextChoices):
    LOCAL_INJECTION = "local_injection", "Local injection"
    INTRAVENOUS = "intravenous", "Intravenous infusion"


class Protocol(models.Model):
    """One version of a clinic treatment protocol (rule set v3, rule 1). Versions are never edited:
    a change is saved as version n+1 and n is deactivated (recommendations.protocols)."""

    protocol_id = models.SlugField(max_length=64, help_text="The protocol's id, shared by its versions")
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=300)
    route = models.CharField(max_length=20, choices=ProtocolRoute.choices)
    active = models.BooleanField(default=True)
    indications = models.JSONField(default=list, help_text="ICD-10-CM codes, categories or ranges")
    sites = models.JSONField(default=list, blank=True, help_text="Body sites (local injection only)")
    max_sites_per_session = models.PositiveIntegerField(null=True, blank=True)
    age_min = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: the age of majority")
    age_max = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: no upper age")
    age_min_months = models.PositiveIntegerField(null=True, blank=True)
    requires = models.JSONField(default=list, blank=True, help_text="Finding keys the protocol needs")
    limits = models.JSONField(default=dict, blank=True, help_text='{"kl_grade": {"max": 3}}')
    follow_up = models.JSONField(default=dict, blank=True, help_text='{"instruments": [...], "days": [...]}')
    basis = models.CharField(max_length=40, choices=ProtocolBasis.choices)
    reference = models.TextField(blank=True)
    basis_rationale = models.TextField(blank=True)
    clinic_role = models.CharField(max_length=40, blank=True)
    irb_report_days = models.PositiveIntegerField(null=True, blank=True)
    assent_waived = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["protocol_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["protocol_id", "version"], name="protocol_unique_version"),
            models.UniqueConstraint(
                fields=["protocol_id"], condition=models.Q(active=True), name="protocol_one_active_version"
            ),
            models.CheckConstraint(
                condition=models.Q(basis__in=ProtocolBasis.values), name="protocol_basis_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(route__in=ProtocolRoute.values), name="protocol_route_valid"
            ),
            models.CheckConstraint(condition=models.Q(version__gte=1), name="protocol_version_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.protocol_id} v{self.version}"

    def as_dict(self) -> dict:
        """The protocol in the JSON format of a protocol file (DESIGN, "Protocol file")."""
        age: dict = {"min": self.age_min, "max": self.age_max}
        if self.age_min_months is not None:
            age["min_months"] = self.age_min_months
        data = {
            "id": self.protocol_id,
            "version": self.version,
            "title": self.title,
            "route": self.route,
            "active": self.active,
            "indications": self.indications if self.indications is not None else [],
            "sites": self.sites if self.sites is not None else [],
            "max_sites_per_session": self.max_sites_per_session,
            "age": age,
            "basis": self.basis,
            "reference": self.reference,
            "basis_rationale": self.basis_rationale,
            "requires": self.requires if self.requires is not None else [],
            # A value of the wrong shape (typed in the admin) passes as it is, for from_dict to name.
            "limits": self.limits if self.limits is not None else {},
            "follow_up": {
                "instruments": list(self.follow_up.get("instruments", [])),
                "days": list(self.follow_up.get("days", [])),
            }
            if isinstance(self.follow_up, dict)
            else self.follow_up or {},
        }
        if self.clinic_role:
            data["clinic_role"] = self.clinic_role
        if self.irb_report_days is not None:
            data["irb_report_days"] = self.irb_report_days
        if self.assent_waived:
            data["assent_waived"] = True
        return data


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
    # Rule set v3 on: the protocol the decision is made under, as a snapshot ({"id", "version", "title",
    # "basis", "reference"}; null for not_recommended, declined and decisions on v1/v2 drafts) so partners
    # read it without a join and a later protocol version never changes it; the case's sites when
    # signed; and the regulatory notice text the specialist saw when signing.
    protocol = models.JSONField(null=True, blank=True, default=None, editable=False)
    sites = models.JSONField(default=list, blank=True, editable=False)
    notice = models.TextField(blank=True, editable=False)

    chain_added_fields = ("signed_name", "signed_credentials", "protocol", "sites", "notice")

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

    # The notice as signed, stored as a draft stores it.
    notice_text = Recommendation.notice_text
    notice_sources = Recommendation.notice_sources

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
        return f"Addendum of {timezone.localtime(self.created_at):%Y-%m-%d %H:%M}"

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
