"""Reads for the review desk (the queue and a case's review page) and the protocols drafts use."""

import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import CharField, Count, Func, JSONField, Max, Min, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from intake.models import Case, CaseEvent, CaseStatus
from intake.selectors import REFERENCE
from recommendations import protocol_rules
from recommendations.engine.protocols import Protocol as EngineProtocol
from recommendations.models import Addendum, Decision, Protocol, Recommendation


def with_decision(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Cases with their decision, if any, read in the same SELECT (`case.decision`, and who signed)."""
    return cases.select_related("decision", "decision__decided_by")


def decision_of(case: Case) -> Decision | None:
    """The case's decision once it is decided; None before (a case read with_decision reads none)."""
    return getattr(case, "decision", None) if case.status == CaseStatus.DECIDED else None


def current_draft(case: Case) -> Recommendation | None:
    """The draft a specialist decides on: the case's newest live one (never a shadow draft)."""
    return Recommendation.objects.current_of(case)


def _newest_draft(field: str, **output) -> Subquery:
    newest = Recommendation.objects.live().filter(case=OuterRef("pk")).order_by("-sequence")
    return Subquery(newest.values(field)[:1], **output)


def with_current_draft(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Cases with their current draft's route and flags as `draft_route` and `draft_flags`, read
    in the same SELECT (served by the draft table's unique (case, sequence) index)."""
    return cases.annotate(
        draft_route=_newest_draft("route"), draft_flags=_newest_draft("flags", output_field=JSONField())
    )


def review_queue(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Cases awaiting a specialist, with what the queue's columns show (the current draft's
    route and flags; ordered urgent first, then oldest, served by `case_queue_idx`)."""
    return with_current_draft(
        # A sandbox partner's test cases are decided automatically, never by a specialist.
        cases.filter(status=CaseStatus.AWAITING_REVIEW, sandbox=False)
        .select_related("patient", "partner", "claimed_by")
        .order_by("priority", "created_at")
    )


def queue_version() -> str:
    """What the queue's rows depend on, in one aggregate over the cases awaiting review: a case
    arriving or leaving (the count and the newest arrival) and a claim taken or given back. The
    queue page asks for it every few seconds and reloads only when it moves."""
    figures = Case.objects.filter(status=CaseStatus.AWAITING_REVIEW, sandbox=False).aggregate(
        cases=Count("id"),
        newest=Max("status_changed_at"),
        claims=Count("claimed_by"),
        claimed=Max("claimed_at"),
    )
    return ":".join(
        value.isoformat() if isinstance(value, datetime) else str(value or 0) for value in figures.values()
    )


def next_in_queue(*, user: AbstractBaseUser, after: uuid.UUID | str | None = None) -> Case | None:
    """The case `user` should open next: the head of the queue (urgent first, then oldest) that no
    one else holds an active claim on; `after` (the case just left) is skipped."""
    lapsed = timezone.now() - timedelta(minutes=settings.REVIEW_CLAIM_MINUTES)
    free = Q(claimed_by__isnull=True) | Q(claimed_by=user.pk) | Q(claimed_at__lt=lapsed)
    cases = Case.objects.filter(free, status=CaseStatus.AWAITING_REVIEW, sandbox=False)
    if after:
        cases = cases.exclude(pk=after)
    return cases.order_by("priority", "created_at").only("pk").first()


# Combining accents (U+0300 to U+036F) as Unicode decomposition (NFD) separates them from letters.
ACCENTS = "[\u0300-\u036f]"


class Unaccented(Func):
    """The text without its accents, on PostgreSQL ("José" reads "Jose"); elsewhere (the SQLite quick
    start) the text as it is, so there a search is only case-insensitive."""

    template = "%(expressions)s"
    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"regexp_replace(normalize({sql}, NFD), %s, '', 'g')", (*params, ACCENTS)


def unaccented(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if not "\u0300" <= c <= "\u036f")


# Bounds of a typed reference worth asking the database about (its number is a bigint).
MIN_YEAR, MAX_YEAR, MAX_NUMBER = 2000, 2999, 2**63 - 1


def search_cases(cases: QuerySet, text: str, *, via: str = "", also: str = "") -> QuerySet:
    """`cases` found by what a specialist types: a case reference (C-2026-000123, leading zeros
    optional) or its number, the patient's MRN, the partner's reference, or words of the patient's
    name (each word in the given or family name, case- and accent-insensitive). `via` leads from
    the rows listed to their case ("case__" for decisions); `also` is a text field of those rows
    searched as well (a decision's signer)."""
    text = (text or "").strip()
    if not text:
        return cases
    if reference := REFERENCE.match(text):
        year, number = int(reference.group(1)), int(reference.group(2))
        if not (MIN_YEAR <= year <= MAX_YEAR and number <= MAX_NUMBER):
            return cases.none()  # no case was numbered so (and the database could not be asked)
        # The reference's year is the local year of intake, as Case.reference writes it.
        return cases.filter(**{f"{via}number": number, f"{via}created_at__year": year})
    found = Q(**{f"{via}patient__mrn__icontains": text}) | Q(**{f"{via}external_id__icontains": text})
    if also:
        found |= Q(**{f"{also}__icontains": text})
    if text.isascii() and text.isdigit() and int(text) <= MAX_NUMBER:
        found |= Q(**{f"{via}number": int(text)})
    names = Q()
    for word in text.split():
        # The word as typed too: where Unaccented keeps accents (SQLite), "josé" still finds José.
        bare, given, family = unaccented(word), f"{via}patient__given_name", f"{via}patient__family_name"
        names &= (
            Q(search_given__icontains=bare)
            | Q(search_family__icontains=bare)
            | Q(**{f"{given}__icontains": word})
            | Q(**{f"{family}__icontains": word})
        )
    return cases.annotate(
        search_given=Unaccented(f"{via}patient__given_name"),
        search_family=Unaccented(f"{via}patient__family_name"),
    ).filter(found | names)


def case_for_review(case_id: uuid.UUID | str) -> Case:
    """Raises Case.DoesNotExist (also for a sandbox test case: no specialist reviews those), or
    ValidationError for an id that is not a UUID."""
    return Case.objects.select_related("patient", "partner", "claimed_by").get(pk=case_id, sandbox=False)


@dataclass
class ReviewPage:
    decision: Decision | None
    addenda: QuerySet[Addendum] | list
    drafts: QuerySet[Recommendation]
    events: QuerySet[CaseEvent]
    earlier_cases: QuerySet[Case]


def review_page(case: Case) -> ReviewPage:
    decision = Decision.objects.filter(case=case).select_related("decided_by", "recommendation").first()
    return ReviewPage(
        decision=decision,
        addenda=decision.addenda.select_related("author__specialist_profile") if decision else [],
        # Shadow drafts are compared against outcomes, never shown beside the live ones.
        drafts=case.recommendations.filter(shadow=False).order_by("-sequence"),
        events=case.events.order_by("id"),
        earlier_cases=(
            Case.objects.filter(patient=case.patient)
            .exclude(pk=case.pk)
            .select_related("decision", "partner")
            .order_by("-created_at")
        ),
    )


@dataclass(frozen=True)
class DecidedDrafts:
    """A decided case's route given, and the route each rule set drafted for the draft answered: the
    live draft's rule set, and each shadow stored beside it (same sequence)."""

    case_id: uuid.UUID
    route_given: str
    live: tuple[str, str]  # (rule set, route drafted)
    shadows: dict[str, str] = field(default_factory=dict)  # rule set -> route drafted


def decided_drafts() -> list[DecidedDrafts]:
    """Every decided clinic case (sandbox cases left out) with the route its live draft gave and
    the routes of the shadow drafts stored beside that draft. Two queries."""
    decisions = list(
        Decision.objects.filter(case__sandbox=False)
        .select_related("recommendation")
        .only(
            "case_id",
            "route",
            "recommendation__route",
            "recommendation__sequence",
            "recommendation__ruleset_version",
        )
        .order_by("decided_at")
    )
    shadows: dict[tuple, dict[str, str]] = {}
    rows = Recommendation.objects.filter(shadow=True, case__sandbox=False, case__decision__isnull=False)
    for case_id, sequence, ruleset, route in rows.values_list(
        "case_id", "sequence", "ruleset_version", "route"
    ):
        shadows.setdefault((case_id, sequence), {})[ruleset] = route
    return [
        DecidedDrafts(
            case_id=d.case_id,
            route_given=d.route,
            live=(d.recommendation.ruleset_version, d.recommendation.route),
            shadows=shadows.get((d.case_id, d.recommendation.sequence), {}),
        )
        for d in decisions
    ]


@dataclass
class StatusFigure:
    status: str
    cases: int
    oldest_changed_at: datetime | None  # when the case longest in this status entered it


def operating_figures() -> tuple[list[StatusFigure], dict[str, int]]:
    """For /metrics: cases by status (with the oldest's entry time), and decisions by outcome.
    Two grouped queries; sandbox test cases are left out."""
    by_status = [
        StatusFigure(row["status"], row["n"], row["oldest"])
        for row in Case.objects.filter(sandbox=False)
        .values("status")
        .annotate(n=Count("id"), oldest=Min("status_changed_at"))
        .order_by()
    ]
    outcomes = dict(
        Decision.objects.filter(case__sandbox=False)
        .values("outcome")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("outcome", "n")
    )
    return by_status, outcomes


def effectiveness(protocol: dict) -> tuple[bool, str]:
    """(True, "") when coverage may use the protocol (its JSON shape) where the clinic is; else why not."""
    configured = (settings.CLINIC_JURISDICTION,) if settings.CLINIC_STATE_NOTICE_VERSION else ()
    return protocol_rules.effective(
        protocol,
        country=settings.CLINIC_COUNTRY,
        jurisdiction=settings.CLINIC_JURISDICTION,
        configured_notices=configured,
    )


def active_protocols() -> tuple[EngineProtocol, ...]:
    """The protocols a draft may use: active and effective where the clinic is (rule set v3, rule 1)."""
    found = []
    for row in Protocol.objects.filter(active=True).order_by("protocol_id"):
        data = row.as_dict()
        if effectiveness(data)[0]:
            found.append(EngineProtocol.from_dict(data))
    return tuple(found)


def required_findings(code: str) -> set[str]:
    """The finding keys that any active, effective protocol listing `code` requires. A union: which of
    them covers a draft also depends on the route, age and sites, which a partner asking before it
    refers does not know, so it is told everything a covering protocol could ask for."""
    return {key for protocol in active_protocols() if protocol.lists(code) for key in protocol.requires}
