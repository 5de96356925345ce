"""The desk's status board: open cases grouped by status, newest activity first.

A fixed number of queries whatever the number of cases: one for the counts, and
two per group (its newest cards, its oldest waiting case).
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Count, Q
from django.utils import timezone

from intake.models import Case, CaseStatus

S = CaseStatus
RECENT_DAYS = 7
CARDS_PER_GROUP = 25
IN_PROGRESS = (S.RECEIVED, S.DRAFTING)

GROUPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("needs_information", "Needs your answer", (S.NEEDS_INFORMATION,)),
    ("draft_failed", "Drafting failed", (S.DRAFT_FAILED,)),
    ("in_progress", "Being drafted", IN_PROGRESS),
    ("awaiting_review", "Waiting for a specialist", (S.AWAITING_REVIEW,)),
    ("closed", f"Closed in the last {RECENT_DAYS} days", (S.DECIDED, S.WITHDRAWN)),
)


@dataclass
class Group:
    key: str
    title: str
    count: int
    cases: list[Case] = field(default_factory=list)
    oldest: Case | None = None


def _closed_since():
    return timezone.now() - timedelta(days=RECENT_DAYS)


def _scope(statuses: tuple[str, ...]) -> Q:
    scope = Q(status__in=statuses)
    if S.DECIDED in statuses:
        scope &= Q(status_changed_at__gte=_closed_since())
    return scope


def board() -> list[Group]:
    aggregates = {key: Count("id", filter=_scope(statuses)) for key, _title, statuses in GROUPS}
    counts = Case.objects.filter(
        Q(status__in=[s for s in S.values if s not in (S.DECIDED, S.WITHDRAWN)])
        | Q(status__in=(S.DECIDED, S.WITHDRAWN), status_changed_at__gte=_closed_since())
    ).aggregate(**aggregates)
    groups = []
    for key, title, statuses in GROUPS:
        group = Group(key=key, title=title, count=counts[key])
        if group.count:
            cases = Case.objects.filter(_scope(statuses)).select_related("patient", "partner")
            group.cases = list(cases.order_by("-status_changed_at")[:CARDS_PER_GROUP])
            if key != "closed":
                group.oldest = cases.order_by("created_at").first()
        groups.append(group)
    return groups


def any_in_progress(groups: list[Group]) -> bool:
    return any(group.count for group in groups if group.key == "in_progress")
