"""Overdue reporting clocks: escalation emails (clinic.aftercare.escalation)."""

__all__: list[str] = []
