"""Reads for the desk and the partner API: the board, a case's page, a partner's referrals.

The board takes a fixed number of queries whatever the number of cases: one for
the counts, and two per group (its newest cards, its oldest waiting case).
"""

import re
import uuid
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import connection
from django.db.models import Count, Max, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from intake.models import Case, CaseEvent, Partner, PartnerNotification, PendingContactUpdate, Priority
from intake.statuses import BOARD_GROUPS, FINAL_STATUSES, RECENT_DAYS, STATUS, BoardGroup, statuses_in_group

CARDS_PER_GROUP = 25


@dataclass
class Group:
    group: BoardGroup
    count: int
    cases: list[Case] = field(default_factory=list)
    oldest: Case | None = None

    @property
    def key(self) -> str:
        return self.group.key

    @property
    def title(self) -> str:
        return self.group.title


def _closed_since():
    return timezone.now() - timedelta(days=RECENT_DAYS)


def _scope(statuses: tuple[str, ...]) -> Q:
    scope = Q(status__in=statuses)
    if any(status in FINAL_STATUSES for status in statuses):
        scope &= Q(status_changed_at__gte=_closed_since())
    return scope


_ORDER_COLUMNS = {"status_changed_at": "status_changed_at", "created_at": "created_at"}


def _firsts(statuses: tuple[str, ...], *, order: str, limit: int) -> RawSQL:
    """The ids of the first `limit` cases of each (status, priority) pair by `order`.

    One short index range scan per pair (case_board_idx, case_queue_idx), combined with
    UNION ALL, instead of sorting every case of the group: the board's cost does not
    grow with the table. Raw SQL because the ORM refuses LIMIT inside a compound
    statement on SQLite, the quick start's database; there each part sits in its own
    sub-select. Only values are parameters: the column, the direction and the limit
    come from this module."""
    column, direction = _ORDER_COLUMNS[order.lstrip("-")], "DESC" if order.startswith("-") else "ASC"
    parts, params = [], []
    for n, (status, priority) in enumerate((s, p) for s in statuses for p in Priority.values):
        recent = status in FINAL_STATUSES
        window = " AND status_changed_at >= %s" if recent else ""
        # No caller value is spliced in (see the docstring).
        part = f"SELECT id FROM intake_case WHERE status = %s AND priority = %s AND sandbox = %s{window}"  # noqa: S608  # nosec B608
        ordered = f"{part} ORDER BY {column} {direction} LIMIT {int(limit)}"
        parts.append(f"SELECT id FROM ({ordered}) AS part_{n}")  # noqa: S608  # nosec B608
        params += [status, priority, False] + ([_closed_since()] if recent else [])
    return RawSQL(" UNION ALL ".join(parts), params)  # noqa: S611  # nosec B611


def board(*, cards: Callable[[QuerySet[Case]], QuerySet[Case]] = lambda cases: cases) -> list[Group]:
    """The desk's board; `cards` adds what a face shows on a card beyond the case (its decision,
    read through the app that owns it)."""
    members = {group.key: statuses_in_group(group.key) for group in BOARD_GROUPS}
    aggregates = {key: Count("id", filter=_scope(statuses)) for key, statuses in members.items()}
    # Sandbox partners' test cases are theirs alone: never on the board.
    counts = Case.objects.filter(
        Q(status__in=[s for s in STATUS if s not in FINAL_STATUSES])
        | Q(status__in=FINAL_STATUSES, status_changed_at__gte=_closed_since()),
        sandbox=False,
    ).aggregate(**aggregates)
    groups = []
    for board_group in BOARD_GROUPS:
        statuses = members[board_group.key]
        group = Group(group=board_group, count=counts[board_group.key])
        if group.count:
            # Urgent first, marked; then the newest activity.
            firsts = _firsts(statuses, order="-status_changed_at", limit=CARDS_PER_GROUP)
            shown = cards(Case.objects.filter(pk__in=firsts).select_related("patient", "partner"))
            group.cases = list(shown.order_by("priority", "-status_changed_at")[:CARDS_PER_GROUP])
            if not any(status in FINAL_STATUSES for status in statuses):
                oldest = _firsts(statuses, order="created_at", limit=1)
                group.oldest = Case.objects.filter(pk__in=oldest).order_by("created_at").first()
        groups.append(group)
    return groups


def desk_cases() -> QuerySet[Case]:
    """The cases the desk may open, with what their page and print view show of the case. Not a
    sandbox partner's test case: those are the partner's, not the clinic's."""
    return Case.objects.select_related("patient", "partner").filter(sandbox=False)


def timeline(case: Case) -> QuerySet[CaseEvent]:
    return case.events.select_related("actor").order_by("id")


def recent_cases_of(patient_id: uuid.UUID, *, limit: int = 5) -> QuerySet[Case]:
    return Case.objects.filter(patient_id=patient_id).order_by("-created_at")[:limit]


def open_cases_of(patient_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[Case]]:
    """Each patient's cases still under way (not final), newest first, in one query: the desk's
    search results show them beside the patient. A patient with none is not a key."""
    ids = list(patient_ids)
    if not ids:
        return {}
    found: dict[uuid.UUID, list[Case]] = {}
    cases = Case.objects.filter(patient_id__in=ids, sandbox=False).exclude(status__in=FINAL_STATUSES)
    for case in cases.select_related("partner").order_by("-created_at", "pk"):
        found.setdefault(case.patient_id, []).append(case)
    return found


def pending_contact_updates(patient_id: uuid.UUID) -> list[PendingContactUpdate]:
    """Contact details partners sent for the patient that the desk has not accepted or dismissed
    yet, oldest first, with the referral and the partner that brought each."""
    updates = PendingContactUpdate.objects.filter(patient_id=patient_id, resolved_at__isnull=True)
    return list(updates.select_related("case", "partner").order_by("created_at", "pk"))


def partner_referrals(*, partner: Partner, status: str | None = None) -> QuerySet[Case]:
    """The partner's own referrals; another partner's id is simply not among them."""
    cases = Case.objects.filter(partner=partner)
    return cases.filter(status=status) if status is not None else cases


def board_version() -> str:
    """When the newest change any case saw happened: one indexed query (`case_changed_idx`). A new
    case counts too (its status_changed_at is its creation). The board reloads when it moves."""
    latest = Case.objects.aggregate(latest=Max("status_changed_at"))["latest"]
    return latest.isoformat() if latest else ""


REFERENCE = re.compile(r"^\s*C-(\d{4})-0*(\d+)\s*$", re.IGNORECASE)


def case_by_reference(text: str) -> Case | None:
    """The case a reference such as "C-2026-000123" names (any case, leading zeros optional)."""
    match = REFERENCE.match(text or "")
    if not match:
        return None
    case = Case.objects.filter(number=int(match.group(2)), sandbox=False).first()
    if case is None or timezone.localtime(case.created_at).year != int(match.group(1)):
        return None
    return case


def case_from_submission(submission_key: uuid.UUID | None) -> Case | None:
    """The case a desk intake form already created, if this is the same form again."""
    return Case.objects.filter(submission_key=submission_key).first() if submission_key else None


def case_code(case_id: uuid.UUID | str) -> str | None:
    return Case.objects.filter(pk=case_id).values_list("condition_code", flat=True).first()


def case_for_patient(*, case_id: uuid.UUID | str, patient_id: uuid.UUID) -> Case | None:
    return Case.objects.filter(pk=case_id, patient_id=patient_id).first()


# The embedded SQLite quick start (one writer at a time, no transaction ids) lists only events
# older than this, so that a transaction that commits late does not slip in behind a cursor.
FEED_SETTLE = timedelta(seconds=2)
# PostgreSQL: only rows of transactions older than every transaction still running, plus the
# reader's own (a test, or a caller's transaction, sees what it wrote).
_FEED_HORIZON = RawSQL("pg_snapshot_xmin(pg_current_snapshot())::text::bigint", [])
_OWN_TRANSACTION = RawSQL("pg_current_xact_id_if_assigned()::text::bigint", [])


class UnknownEventCursor(Exception):
    """The cursor names no event of this partner's feed."""


def partner_events(
    *, partner: Partner, after: uuid.UUID | None, limit: int, types: Collection[str] | None = None
) -> list[PartnerNotification]:
    """The partner's own events, oldest first, after the event `after` (the last one read). Pings
    are webhook tests, not events. Nothing is purged: events stay listed (at least 30 days).

    On PostgreSQL the order is the writing transaction's id (PartnerNotification.feed_txid), and
    an event is listed only once no transaction that could precede it is still running: however
    late a transaction commits, a cursor can never pass its events. Raises UnknownEventCursor."""
    events = PartnerNotification.objects.filter(partner=partner).exclude(event_type=PartnerNotification.PING)
    if types is not None:
        # Only these types: the feed's `types=` among the partner's subscriptions (clinic.web.api.catalogue).
        events = events.filter(event_type__in=list(types))
    if connection.vendor == "postgresql":
        events = events.filter(Q(feed_txid__lt=_FEED_HORIZON) | Q(feed_txid=_OWN_TRANSACTION))
        order = ("feed_txid", "created_at", "id")
    else:
        events = events.filter(created_at__lt=timezone.now() - FEED_SETTLE)
        order = ("created_at", "id")
    if after is not None:
        mark = PartnerNotification.objects.filter(partner=partner, pk=after).values(*order).first()
        if mark is None:
            raise UnknownEventCursor(str(after))
        events = events.filter(_after_position(order, mark))
    return list(events.select_related("partner").order_by(*order)[:limit])


def _after_position(order: tuple[str, ...], mark: dict) -> Q:
    """Rows after `mark` in `order`: (a > A) or (a = A and b > B) or ..."""
    later, same = Q(), Q()
    for name in order:
        later |= same & Q(**{f"{name}__gt": mark[name]})
        same &= Q(**{name: mark[name]})
    return later


def partner_deliveries(*, partner: Partner, state: str | None = None) -> QuerySet[PartnerNotification]:
    """The partner's webhook deliveries (one per event, and its pings), newest first, with
    their attempts."""
    deliveries = PartnerNotification.objects.filter(partner=partner).prefetch_related("attempt_log")
    return deliveries.filter(state=state) if state else deliveries


def partner_delivery(*, partner: Partner, delivery_id: uuid.UUID | str) -> PartnerNotification:
    """Another partner's id is simply not found (PartnerNotification.DoesNotExist)."""
    return PartnerNotification.objects.prefetch_related("attempt_log").get(pk=delivery_id, partner=partner)
