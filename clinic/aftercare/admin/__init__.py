"""The review desk for what follows the decision (Django admin)."""
