from clinic import metrics_store

# Before anything imports prometheus_client (the Celery app below does, through its signals).
metrics_store.prepare()

from clinic.celery import app as celery_app  # noqa: E402

__all__ = ("celery_app",)
