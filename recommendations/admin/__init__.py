"""The review desk in the Django admin (autodiscovered here): the queue and review page, and
the permanent records, and the clinic's protocols."""

from recommendations.admin import protocols, queue, records  # noqa: F401  (registers the ModelAdmins)
