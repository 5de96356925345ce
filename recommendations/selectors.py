"""Reads for the review desk (the queue and a case's review page) and the protocols drafts use."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Count, JSONField, Min, OuterRef, QuerySet, Subquery

from intake.models import Case, CaseEvent, CaseStatus
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
    """The draft a specialist decides on: the case's newest."""
    return Recommendation.objects.current_of(case)


def _newest_draft(field: str, **output) -> Subquery:
    newest = Recommendation.objects.filter(case=OuterRef("pk")).order_by("-sequence")
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
        addenda=decision.addenda.select_related("author") if decision else [],
        drafts=case.recommendations.order_by("-sequence"),
        events=case.events.order_by("id"),
        earlier_cases=(
            Case.objects.filter(patient=case.patient)
            .exclude(pk=case.pk)
            .select_related("decision", "partner")
            .order_by("-created_at")
        ),
    )


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
