"""Celery tasks: thin wrappers that call the drafting services."""

import logging
from datetime import timedelta

from celery import Task, shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerError

from intake import telemetry
from intake.workflow import Moved
from recommendations import escalation, publish, sandbox
from recommendations.services import (
    find_stuck_cases,
    make_draft,
    mark_draft_failed,
    note_requeued,
    owes_draft,
)

log = logging.getLogger(__name__)

# Only errors that a later attempt can cure are retried; a bug fails at once.
RETRYABLE = (OperationalError, InterfaceError)


class DraftTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo):  # noqa: ANN001
        case_id = kwargs.get("case_id") or (args[0] if args else None)
        if case_id is None:
            return
        telemetry.DRAFTS_FAILED.inc()
        try:
            mark_draft_failed(
                case_id=case_id, error=f"{type(exc).__name__}: {exc}", error_type=type(exc).__name__
            )
        except RETRYABLE:
            # The database is still away: the case stays received/drafting and
            # the sweep queues it again once it is back.
            log.exception("could not mark case %s as draft_failed", case_id)


@shared_task(
    name="recommendations.draft_case",
    base=DraftTask,
    acks_late=True,
    autoretry_for=RETRYABLE,
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=settings.DRAFT_MAX_RETRIES,
)
def draft_case(case_id: str) -> None:
    draft = make_draft(case_id=case_id)
    if draft is not None:
        telemetry.DRAFTS.inc()
        if draft.sequence == 1:
            telemetry.DRAFT_LATENCY.observe((draft.created_at - draft.case.created_at).total_seconds())


@shared_task(
    name="recommendations.decide_sandbox_case",
    acks_late=True,
    autoretry_for=RETRYABLE,
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=5,
)
def decide_sandbox_case(case_id: str) -> str | None:
    return sandbox.decide_sandbox_case(case_id=case_id)


def decide_sandbox_after_draft(moved: Moved) -> None:
    """Registered after commit (recommendations.apps): the sandbox decides a few seconds later."""
    if sandbox.owes_decision(moved):
        decide_sandbox_case.apply_async(
            args=[str(moved.case_id)], countdown=settings.SANDBOX_DECISION_DELAY_SECONDS
        )


@shared_task(name="recommendations.sweep_stuck_cases", acks_late=True)
def sweep_stuck_cases() -> int:
    _sweep_sandbox_decisions()
    case_ids = find_stuck_cases()
    queued = []
    for case_id in case_ids:
        try:
            draft_case.delay(str(case_id))
        except BrokerError:
            log.exception("sweep could not queue case %s", case_id)
            break
        queued.append(case_id)
    if queued:
        telemetry.SWEEP_REQUEUES.inc(len(queued))
        note_requeued(case_ids=queued)
        log.info("sweep re-queued %d stuck case(s)", len(queued))
    return len(queued)


def _sweep_sandbox_decisions() -> None:
    # A sandbox decision whose task was lost (broker away at the time) is queued again.
    for case_id in sandbox.undecided_sandbox_cases():
        try:
            decide_sandbox_case.delay(str(case_id))
        except BrokerError:
            log.exception("sweep could not queue the sandbox decision of case %s", case_id)
            return


def queue_draft_after_move(moved: Moved) -> None:
    """Registered after commit (recommendations.apps). A broker that is down here only delays
    the draft: the stuck-case sweep queues it later."""
    if owes_draft(moved) and not publish.lpush_task(draft_case.name, [str(moved.case_id)]):
        draft_case.delay(str(moved.case_id))


@shared_task(name="recommendations.escalate_overdue", acks_late=True)
def escalate_overdue() -> int:
    """Beat's escalation pass: write what is owed now (each email queued after its row commits),
    then queue again every escalation whose email never went out. Returns how many were queued."""
    written = escalation.escalate_overdue(queue_send=_queue_escalation)
    lost = escalation.unsent_escalations(older_than=ESCALATION_REQUEUE_AFTER)
    for escalation_id in lost:
        _queue_escalation(escalation_id)
    return len(written) + len(lost)


# Longer than the retries of one send take (backoff capped at ESCALATION_BACKOFF_MAX, a few tries):
# a row still unsent this long after it was written has lost its task.
ESCALATION_BACKOFF_MAX = 300
ESCALATION_REQUEUE_AFTER = timedelta(minutes=10)


@shared_task(
    name="recommendations.send_escalation",
    acks_late=True,
    autoretry_for=escalation.MAIL_ERRORS + RETRYABLE,
    retry_backoff=5,
    retry_backoff_max=ESCALATION_BACKOFF_MAX,
    retry_jitter=True,
    max_retries=5,
)
def send_escalation(escalation_id: int) -> bool:
    return escalation.send_escalation(escalation_id=escalation_id)


def _queue_escalation(escalation_id: int) -> None:
    try:
        send_escalation.delay(escalation_id)
    except BrokerError:
        # The row stays unsent: the next escalation pass queues it again.
        log.exception("could not queue escalation %s", escalation_id)
