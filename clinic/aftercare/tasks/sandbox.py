"""The sandbox's simulated course (clinic.aftercare.sandbox): one task per simulated day with
something to do (treatment, adverse event, each follow-up day), each a thin call of services that
do nothing when their step was done already."""

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
    """One simulated day of a sandbox course (clinic.aftercare.sandbox), then the next day that has
    something to do, queued SANDBOX_TIME_SCALE seconds a day later."""
    done = sandbox.simulate_day(course_id=course_id, day=day)
    # Queued whenever something is still owed, not only when this run did something: the retry of a
    # run that changed the course and then failed still queues the day after it.
    following = sandbox.next_day(course_id, after=day)
    if following is not None:
        simulate_sandbox_course.apply_async(
            args=[course_id],
            kwargs={"day": following},
            countdown=(following - day) * settings.SANDBOX_TIME_SCALE,
        )
    return ", ".join(done) or "nothing to do"


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
