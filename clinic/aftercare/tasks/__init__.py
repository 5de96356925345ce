"""Celery tasks of the aftercare app (autodiscovered here): the sandbox's simulated course and
the escalation of overdue reporting clocks, one module each."""

from clinic.aftercare.tasks.escalation import *  # noqa: F403
from clinic.aftercare.tasks.follow_up import *  # noqa: F403
from clinic.aftercare.tasks.sandbox import *  # noqa: F403
