"""The sandbox's simulated course (clinic.aftercare.sandbox)."""

__all__: list[str] = []
