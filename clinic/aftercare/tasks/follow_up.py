"""Follow-up email from its own queue (FOLLOW_UP_QUEUE): each link's email and reminders, and
beat's sweep "send-due-follow-ups". Thin: the rules are clinic.aftercare.delivery's. A task's
message holds an invitation's id, never its link."""

import logging
import uuid
from datetime import timedelta

from celery import shared_task
from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerError

from clinic.aftercare import delivery

__all__ = ["queue_send", "send_due_follow_ups", "send_invitation"]

log = logging.getLogger(__name__)

# Five retries, 5 s doubling (capped at BACKOFF_MAX), are over within a few minutes: a first email
# still owed REQUEUE_AFTER after its link was made has lost its task or used its retries, and each
# sweep queues it again until delivery.GIVE_UP_AFTER puts the time point on the call list.
BACKOFF_MAX = 300
REQUEUE_AFTER = timedelta(minutes=10)


@shared_task(
    name="aftercare.send_invitation",
    acks_late=True,
    # Only a mail server or database that is away is worth another try; a bug fails at once.
    autoretry_for=(*delivery.MAIL_ERRORS, OperationalError, InterfaceError),
    retry_backoff=5,
    retry_backoff_max=BACKOFF_MAX,
    retry_jitter=True,
    max_retries=5,
)
def send_invitation(invitation_id: str) -> str:
    """Email what the invitation owes now: its link, or its next reminder."""
    return delivery.send_owed(invitation_id=invitation_id)


@shared_task(name="aftercare.send_due_follow_ups", acks_late=True)
def send_due_follow_ups() -> int:
    """Issue the links that came due (each email queued after its commit), put the unanswered on
    the call list, then queue every email still owed: reminders, and first emails whose task was
    lost. Returns how many emails were queued here."""
    delivery.issue_due()
    delivery.close_unanswered()
    owed = delivery.owed_now(requeue_after=REQUEUE_AFTER)
    for invitation_id in owed:
        queue_send(invitation_id)
    return len(owed)


def queue_send(invitation_id: uuid.UUID | str) -> None:
    """Registered with follow_up.on_invitation (aftercare.apps): runs once the link has committed.
    A broker that is down only delays the email: the sweep queues it again."""
    try:
        send_invitation.delay(str(invitation_id))
    except BrokerError:
        log.exception("could not queue the follow-up email of invitation %s", invitation_id)
