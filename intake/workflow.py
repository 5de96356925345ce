"""The case state machine: the only code that changes `Case.status`.

The allowed moves are data (intake.statuses.STATUS). Every move is a
compare-and-set on the status the caller saw, so two processes racing for one
case cannot both win, and every move writes its CaseEvent in the same transaction.

What follows a move (queueing a draft, telling a partner) is not known here: the
apps register handlers with `on_move` in their `AppConfig.ready()`. A handler
registered `in_transaction` runs inside the move's transaction (for rows that must
commit with it, such as an outbox row); one registered `after_commit` runs once the
transaction has committed, and never for one that rolled back.
"""

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from intake import chain, tracing
from intake.models import Case, CaseEvent, ChainedRecord
from intake.statuses import FINAL_STATUSES, STATUS, TRANSITIONS, CaseStatus

__all__ = [
    "FINAL_STATUSES",
    "SYSTEM",
    "TRANSITIONS",
    "WORKER",
    "Actor",
    "Moved",
    "TransitionError",
    "on_move",
    "record_note",
    "open_case",
    "transition",
    "Step",
    "move_locked",
]


class TransitionError(Exception):
    """A status move that the state machine does not allow, or that lost a race."""


@dataclass(frozen=True)
class Actor:
    """Who made a change: a signed-in user, or a named system part."""

    label: str
    user: AbstractBaseUser | None = None

    @classmethod
    def of_user(cls, user: AbstractBaseUser) -> "Actor":
        return cls(label=user.get_username(), user=user)


SYSTEM = Actor(label="system")
WORKER = Actor(label="drafting worker")


@dataclass(frozen=True)
class Moved:
    """A committed (or committing) status move, as handlers are told of it."""

    case_id: uuid.UUID
    from_status: str  # "" when the case was just opened
    to_status: str
    actor_label: str
    sandbox: bool = False  # a sandbox partner's test case (see recommendations.sandbox)


Handler = Callable[[Moved], None]
_in_transaction: list[Handler] = []
_after_commit: list[Handler] = []


def on_move(handler: Handler, *, after_commit: bool) -> None:
    """Register what follows a status move. Registering the same handler twice is a no-op."""
    handlers = _after_commit if after_commit else _in_transaction
    if handler not in handlers:
        handlers.append(handler)


def _announce(moved: Moved) -> None:
    for handler in _in_transaction:
        handler(moved)
    # Work that follows the commit belongs to the request that made the move, even when the
    # commit comes after that request's own code has returned (an outer transaction).
    request_id = tracing.current()
    for handler in _after_commit:
        # robust: the move is committed when this runs; a broker outage must not turn the
        # request into an error (the sweeps catch up). A named function, not a partial:
        # Django logs a robust hook's failure by its __qualname__.
        def run(handler: Handler = handler) -> None:
            with tracing.bound(request_id or tracing.current()):
                handler(moved)

        run.__qualname__ = getattr(handler, "__qualname__", "after_commit_handler")
        transaction.on_commit(run, robust=True)


def _label(status: str) -> str:
    return CaseStatus(status).label.lower()


def check_transition(from_status: str, to_status: str) -> None:
    if STATUS[from_status].final:
        raise TransitionError(
            f"This case is already {_label(from_status)} and cannot change any more; nothing was changed."
        )
    if to_status not in TRANSITIONS[from_status]:
        allowed = ", ".join(sorted(_label(s) for s in TRANSITIONS[from_status])) or "nothing"
        raise TransitionError(
            f"A case that is {_label(from_status)} cannot become {_label(to_status)} "
            f"(it can become: {allowed})."
        )


def _event(*, case_id, actor: Actor, note: str, **fields) -> CaseEvent:
    return chain.append(
        CaseEvent(case_id=case_id, actor=actor.user, actor_label=actor.label, note=note, **fields)
    )


def open_case(*, case: Case, actor: Actor, note: str = "Intake received") -> Case:
    """Save a new case with its first event (status `received`) and announce it like a move.

    Two INSERTs: the case row carries its chain head (intake.chain.first_link)."""
    event = chain.first_link(
        CaseEvent(
            case_id=case.pk,
            actor=actor.user,
            actor_label=actor.label,
            note=note,
            to_status=CaseStatus.RECEIVED,
        ),
        case=case,
    )
    with transaction.atomic(savepoint=False):
        case.save(force_insert=True)
        event.save()
        _announce(Moved(case.pk, "", CaseStatus.RECEIVED, actor.label, case.sandbox))
    return case


def transition(
    *,
    case: Case,
    to_status: str,
    actor: Actor,
    note: str = "",
    records: Sequence[ChainedRecord] = (),
    **fields: object,
) -> Case:
    """Move `case` from the status it was read with to `to_status`.

    Extra `fields` are written in the same UPDATE; `records` (a draft) join the case's
    chain just before the move's event, with the same locked read and head update.
    Raises TransitionError when the move is not allowed, or when another process moved
    the case first (and then nothing, `records` included, is written).
    """
    from_status = case.status
    check_transition(from_status, to_status)
    now = timezone.now()
    # No savepoint (one round trip less per move): a lost race is reported after
    # the block, which wrote nothing in that case, so the caller's transaction stays usable.
    with transaction.atomic(savepoint=False):
        updated = Case.objects.filter(pk=case.pk, status=from_status).update(
            status=to_status, status_changed_at=now, **fields
        )
        if updated == 1:
            event = CaseEvent(
                case_id=case.pk,
                actor=actor.user,
                actor_label=actor.label,
                note=note,
                kind=CaseEvent.Kind.STATUS,
                from_status=from_status,
                to_status=to_status,
            )
            chain.append_all([*records, event])
            _announce(Moved(case.pk, from_status, to_status, actor.label, case.sandbox))
    if updated != 1:
        current = Case.objects.filter(pk=case.pk).values_list("status", flat=True).first()
        if current is None:
            raise TransitionError(f"Case {case.pk} does not exist.")
        raise TransitionError(
            f"The case was already {_label(current)} when this change was made; "
            f"nothing was changed. Reload the case to see its current state."
        )
    case.status = to_status
    case.status_changed_at = now
    for name, value in fields.items():
        setattr(case, name, value)
    return case


@dataclass(frozen=True)
class Step:
    """One move of a path (move_locked): to this status, with its note; `records` (a draft) join
    the chain just before the move's event."""

    to_status: str
    note: str = ""
    records: Sequence[ChainedRecord] = ()
    # When the move happened (its event's time): a step is made when it is taken.
    at: datetime = field(default_factory=timezone.now)


def move_locked(*, case: Case, steps: Sequence[Step], actor: Actor, **fields: object) -> Case:
    """Move `case` through `steps` (received -> drafting -> awaiting_review) in the caller's
    transaction, in which the caller read it under its lock:
    `Case.objects.select_for_update(of=("self", "patient")).select_related("patient")`.

    Every move is checked and has its event, and handlers hear each one in order; but the rows are
    written with one INSERT per table and the case with one UPDATE (status, `fields`, chain head
    and seal), guarded by the status it was read with. The lock is what makes one writer: a second
    worker waits for it, then reads the moved case."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise TransitionError("move_locked needs the caller's transaction, holding the case's lock.")
    if any(hasattr(value, "resolve_expression") for value in fields.values()):
        # The seal is made from the values in memory: an expression would be sealed as its text.
        raise TypeError("move_locked takes plain values, not expressions.")
    from_status = current = case.status
    moves = []
    for step in steps:
        check_transition(current, step.to_status)
        moves.append((current, step))
        current = step.to_status
    now = timezone.now()
    links: list[ChainedRecord] = []
    for before, step in moves:
        links += [
            *step.records,
            CaseEvent(
                case_id=case.pk,
                actor=actor.user,
                actor_label=actor.label,
                note=step.note,
                kind=CaseEvent.Kind.STATUS,
                from_status=before,
                to_status=step.to_status,
                created_at=step.at,
            ),
        ]
    case.status, case.status_changed_at = current, now
    for name, value in fields.items():
        setattr(case, name, value)
    head = chain.link_locked(links, case=case)
    events = [link for link in links if isinstance(link, CaseEvent)]
    CaseEvent.objects.bulk_create(events)
    for link in links:
        if not isinstance(link, CaseEvent):
            link.save()
    updated = Case.objects.filter(pk=case.pk, status=from_status).update(
        status=current, status_changed_at=now, **fields, **head
    )
    if updated != 1:
        # Only a caller that did not hold the lock gets here; its transaction must not commit.
        raise TransitionError(
            f"Case {case.pk} was not {_label(from_status)} under its lock; nothing was changed."
        )
    for before, step in moves:
        _announce(Moved(case.pk, before, step.to_status, actor.label, case.sandbox))
    for name, value in head.items():
        setattr(case, name, value)
    return case


def record_note(*, case: Case, actor: Actor, note: str) -> CaseEvent:
    """Add a timeline entry that is not a status change (a claim, an answer)."""
    return _event(case_id=case.pk, actor=actor, note=note, kind=CaseEvent.Kind.NOTE)
