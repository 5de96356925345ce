"""The review desk in the Django admin (autodiscovered here): the queue and review page, and
the permanent records."""

from recommendations.admin import queue, records  # noqa: F401  (registers the ModelAdmins)
