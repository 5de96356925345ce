"""Overdue reporting clocks: beat's escalation pass and the email it sends after commit
(clinic.aftercare.escalation). Thin: the work and its rules are the service's."""

import logging
from datetime import timedelta

from celery import shared_task
from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerError

from clinic.aftercare import escalation

__all__ = ["escalate_overdue_clocks", "send_clock_escalation"]

log = logging.getLogger(__name__)

# Longer than the retries of one send take (backoff capped at BACKOFF_MAX, a few tries): a row
# still unsent this long after it was written has lost its task.
BACKOFF_MAX = 300
REQUEUE_AFTER = timedelta(minutes=10)


@shared_task(name="aftercare.escalate_overdue_clocks", acks_late=True)
def escalate_overdue_clocks() -> int:
    """Write what is owed now (each email queued after its row commits), then queue again every
    escalation whose email never went out. Returns how many were queued."""
    written = escalation.escalate_overdue_clocks(queue_send=_queue_send)
    lost = escalation.unsent_clock_escalations(older_than=REQUEUE_AFTER)
    for escalation_id in lost:
        _queue_send(escalation_id)
    return len(written) + len(lost)


@shared_task(
    name="aftercare.send_clock_escalation",
    acks_late=True,
    # Only a mail server or database that is away is worth another try; a bug fails at once.
    autoretry_for=(*escalation.MAIL_ERRORS, OperationalError, InterfaceError),
    retry_backoff=5,
    retry_backoff_max=BACKOFF_MAX,
    retry_jitter=True,
    max_retries=5,
)
def send_clock_escalation(escalation_id: int) -> bool:
    return escalation.send_clock_escalation(escalation_id=escalation_id)


def _queue_send(escalation_id: int) -> None:
    try:
        send_clock_escalation.delay(escalation_id)
    except BrokerError:
        # The row stays unsent: the next pass queues it again.
        log.exception("could not queue clock escalation %s", escalation_id)
