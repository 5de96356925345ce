"""The review desk for what follows the decision (Django admin, autodiscovered here): treatment
records to sign and signed, adverse events to triage and assess, and their reporting clocks (with
a panel on the specialists' review queue)."""

from clinic.aftercare.admin import adverse_events, clocks, treatments  # noqa: F401  (registers the ModelAdmins)
