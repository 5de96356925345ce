"""What each case status means, in one table.

Every other module (the state machine, the board, the case page's progress bar,
partner webhooks, the FHIR Task and ServiceRequest, the sweep) reads its facts
from STATUS; none spells a status's meaning out again. A new status is one new
row here, and tests/intake/test_statuses.py fails until the row is complete.
"""

from dataclasses import dataclass

from django.db import models


class CaseStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    DRAFTING = "drafting", "Drafting"
    DRAFT_FAILED = "draft_failed", "Draft failed"
    AWAITING_REVIEW = "awaiting_review", "Awaiting review"
    NEEDS_INFORMATION = "needs_information", "Needs information"
    DECIDED = "decided", "Decided"
    WITHDRAWN = "withdrawn", "Withdrawn"


S = CaseStatus


@dataclass(frozen=True)
class BoardGroup:
    key: str
    title: str
    # Drawn in the warning colour: the desk has something to do.
    needs_attention: bool = False


# The desk board's groups, in the order it shows them. Final statuses show only
# for RECENT_DAYS after they were reached.
RECENT_DAYS = 7
BOARD_GROUPS: tuple[BoardGroup, ...] = (
    BoardGroup("needs_information", "Needs your answer", needs_attention=True),
    BoardGroup("draft_failed", "Drafting failed", needs_attention=True),
    BoardGroup("in_progress", "Being drafted"),
    BoardGroup("awaiting_review", "Waiting for a specialist"),
    BoardGroup("closed", f"Closed in the last {RECENT_DAYS} days"),
)
# The case page's progress bar, left to right; the current step reads its status's progress_label.
PROGRESS_STEPS: tuple[str, ...] = ("Received", "Drafting", "Specialist review", "Decided")


@dataclass(frozen=True)
class StatusFacts:
    next: frozenset[str]  # the statuses a case may move to from this one
    final: bool  # nothing changes afterwards
    partner_event: str | None  # the webhook event type a partner is sent on entering it
    board_group: str  # BoardGroup.key
    progress_step: int | None  # index into PROGRESS_STEPS; None: not on the bar
    desk_note: str  # what the case page says about a case in this status ("" for nothing)
    # The status as the desk reads it, by who acts next: "Waiting for you" when the desk must act.
    desk_label: str
    progress_label: str  # the progress bar's current step in this status ("" when not on the bar)
    awaits_draft: bool  # the drafting worker (and the stuck-case sweep) owes it a draft
    fhir_task: str  # FHIR R4 Task.status (businessStatus carries ours exactly)
    fhir_request: str  # FHIR R4 ServiceRequest.status


STATUS: dict[str, StatusFacts] = {
    S.RECEIVED: StatusFacts(
        next=frozenset({S.DRAFTING, S.WITHDRAWN}),
        final=False,
        partner_event=None,
        board_group="in_progress",
        progress_step=0,
        desk_note="The draft is being prepared; this page updates by itself.",
        desk_label="Being drafted",
        progress_label="Received",
        awaits_draft=True,
        fhir_task="received",
        fhir_request="active",
    ),
    S.DRAFTING: StatusFacts(
        next=frozenset({S.AWAITING_REVIEW, S.DRAFT_FAILED, S.WITHDRAWN}),
        final=False,
        partner_event=None,
        board_group="in_progress",
        progress_step=1,
        desk_note="The draft is being prepared; this page updates by itself.",
        desk_label="Being drafted",
        progress_label="Drafting",
        awaits_draft=True,
        fhir_task="in-progress",
        fhir_request="active",
    ),
    S.DRAFT_FAILED: StatusFacts(
        next=frozenset({S.WITHDRAWN}),
        final=False,
        partner_event=None,
        board_group="draft_failed",
        progress_step=1,
        desk_note=(
            "The draft could not be prepared after several attempts. Tell the clinic's administrator; "
            "the case can be withdrawn and entered again."
        ),
        desk_label="Waiting for you: drafting failed",
        progress_label="Drafting failed",
        awaits_draft=False,
        fhir_task="failed",
        fhir_request="active",
    ),
    S.AWAITING_REVIEW: StatusFacts(
        next=frozenset({S.DECIDED, S.NEEDS_INFORMATION, S.WITHDRAWN}),
        final=False,
        partner_event=None,
        board_group="awaiting_review",
        progress_step=2,
        desk_note="A specialist will review the case; it is due by {due_at}.",
        desk_label="Waiting for a specialist",
        progress_label="Waiting for a specialist",
        awaits_draft=False,
        fhir_task="in-progress",
        fhir_request="active",
    ),
    S.NEEDS_INFORMATION: StatusFacts(
        next=frozenset({S.DRAFTING, S.WITHDRAWN}),
        final=False,
        partner_event="referral.needs_information",
        board_group="needs_information",
        progress_step=2,
        desk_note="A specialist asks a question: answer it below, and the case is drafted again.",
        desk_label="Waiting for you: answer the specialist's question",
        progress_label="Waiting for you",
        awaits_draft=False,
        fhir_task="on-hold",
        fhir_request="active",
    ),
    S.DECIDED: StatusFacts(
        next=frozenset(),
        final=True,
        partner_event="referral.decided",
        board_group="closed",
        progress_step=3,
        desk_note="",
        desk_label="Decided",
        progress_label="Decided",
        awaits_draft=False,
        fhir_task="completed",
        fhir_request="completed",
    ),
    S.WITHDRAWN: StatusFacts(
        next=frozenset(),
        final=True,
        partner_event="referral.withdrawn",
        board_group="closed",
        progress_step=None,
        desk_note="",
        desk_label="Withdrawn",
        progress_label="",
        awaits_draft=False,
        fhir_task="cancelled",
        fhir_request="revoked",
    ),
}

# Views of the table that callers ask for often.
TRANSITIONS: dict[str, frozenset[str]] = {status: facts.next for status, facts in STATUS.items()}
FINAL_STATUSES = frozenset(status for status, facts in STATUS.items() if facts.final)
AWAITING_DRAFT = tuple(status for status, facts in STATUS.items() if facts.awaits_draft)
PARTNER_EVENTS: dict[str, str] = {
    status: facts.partner_event for status, facts in STATUS.items() if facts.partner_event
}


def statuses_in_group(key: str) -> tuple[str, ...]:
    return tuple(status for status, facts in STATUS.items() if facts.board_group == key)
