"""The sandbox's simulated course (clinic.aftercare.sandbox): one task per simulated day, each a
thin call of a service that does nothing when its step was done already."""

import logging

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerError

from clinic.aftercare import sandbox
from clinic.aftercare.courses import CourseMoved

__all__ = ["simulate_sandbox_course", "start_sandbox_course"]

log = logging.getLogger(__name__)

# Only errors that a later attempt can cure are retried; a bug fails at once.
RETRYABLE = (OperationalError, InterfaceError)


@shared_task(
    name="aftercare.simulate_sandbox_course",
    acks_late=True,
    autoretry_for=RETRYABLE,
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=5,
)
def simulate_sandbox_course(course_id: str, day: int = 0) -> str:
    """Day 0 treats the course, then queues day 1 when the external_id asks for an adverse event."""
    if day == 0:
        record = sandbox.simulate_treatment(course_id=course_id)
        # Queued whenever still owed, not only after this run signed: a run that signed and then
        # lost its broker is repaired by the retry.
        if sandbox.owes_adverse_event(course_id):
            simulate_sandbox_course.apply_async(
                args=[course_id], kwargs={"day": sandbox.AE_DAY}, countdown=settings.SANDBOX_TIME_SCALE
            )
        return "treated" if record else "nothing to do"
    if day == sandbox.AE_DAY:
        return "adverse event" if sandbox.simulate_adverse_event(course_id=course_id) else "nothing to do"
    return "nothing to do"


def start_sandbox_course(moved: CourseMoved) -> None:
    """Registered after commit (aftercare.apps): day 0 comes one simulated day after the approval."""
    if not sandbox.owes_simulation(moved):
        return
    try:
        simulate_sandbox_course.apply_async(
            args=[str(moved.course_id)], countdown=settings.SANDBOX_TIME_SCALE
        )
    except BrokerError:
        # The approval has committed; the partner's simulated course is only missed, never the decision.
        log.exception("could not queue the sandbox course %s", moved.course_id)
