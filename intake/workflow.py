"""The case state machine: the only code that changes `Case.status`.

The allowed moves are data (TRANSITIONS). Every move is a compare-and-set on
the status the caller saw, so two processes racing for one case cannot both
win, and every move writes its CaseEvent in the same transaction.
"""

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from intake.models import FINAL_STATUSES, Case, CaseEvent, CaseStatus
from intake.notifications import PARTNER_EVENTS, record_partner_event

S = CaseStatus
__all__ = ["FINAL_STATUSES", "TRANSITIONS", "Actor", "TransitionError", "transition", "record_note"]

TRANSITIONS: dict[str, frozenset[str]] = {
    S.RECEIVED: frozenset({S.DRAFTING, S.WITHDRAWN}),
    S.DRAFTING: frozenset({S.AWAITING_REVIEW, S.DRAFT_FAILED, S.WITHDRAWN}),
    S.AWAITING_REVIEW: frozenset({S.DECIDED, S.NEEDS_INFORMATION, S.WITHDRAWN}),
    S.NEEDS_INFORMATION: frozenset({S.DRAFTING, S.WITHDRAWN}),
    S.DRAFT_FAILED: frozenset({S.WITHDRAWN}),
    S.DECIDED: frozenset(),
    S.WITHDRAWN: frozenset(),
}


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


def _label(status: str) -> str:
    return CaseStatus(status).label.lower()


def check_transition(from_status: str, to_status: str) -> None:
    if from_status in FINAL_STATUSES:
        raise TransitionError(
            f"This case is already {_label(from_status)} and cannot change any more; nothing was changed."
        )
    if to_status not in TRANSITIONS[from_status]:
        allowed = ", ".join(sorted(_label(s) for s in TRANSITIONS[from_status])) or "nothing"
        raise TransitionError(
            f"A case that is {_label(from_status)} cannot become {_label(to_status)} "
            f"(it can become: {allowed})."
        )


def transition(*, case: Case, to_status: str, actor: Actor, note: str = "", **fields: object) -> Case:
    """Move `case` from the status it was read with to `to_status`.

    Extra `fields` are written in the same UPDATE. Raises TransitionError when
    the move is not allowed, or when another process moved the case first.
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
            CaseEvent.objects.create(
                case_id=case.pk,
                kind=CaseEvent.Kind.STATUS,
                from_status=from_status,
                to_status=to_status,
                actor=actor.user,
                actor_label=actor.label,
                note=note,
            )
            if to_status in PARTNER_EVENTS:
                record_partner_event(case_id=case.pk)
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


def record_note(*, case: Case, actor: Actor, note: str) -> CaseEvent:
    """Add a timeline entry that is not a status change (a claim, an answer)."""
    return CaseEvent.objects.create(
        case_id=case.pk,
        kind=CaseEvent.Kind.NOTE,
        actor=actor.user,
        actor_label=actor.label,
        note=note,
    )
