"""The Celery app: `celery -A clinic worker` and `celery -A clinic beat`."""

import os
import time
from pathlib import Path

from celery import Celery, Task
from celery.signals import before_task_publish, task_postrun, task_prerun
from django.db import close_old_connections

from intake import telemetry, tracing

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

app = Celery("clinic")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _make_filesystem_broker_folders(sender: Celery, **kwargs: object) -> None:
    # Kombu's filesystem transport does not create its folders itself.
    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)


# The request id travels with each task as a message header, so the worker's log lines (and
# the tasks and webhooks it causes in turn) carry the id of the request that started the work.
REQUEST_ID_HEADER = "request_id"
_bound: dict[str, tuple] = {}


@before_task_publish.connect
def _send_request_id(headers: dict | None = None, **kwargs: object) -> None:
    if headers is not None and (request_id := tracing.current()):
        headers.setdefault(REQUEST_ID_HEADER, request_id)


@task_prerun.connect
@task_postrun.connect
def _close_old_connections(task: Task | None = None, **kwargs: object) -> None:
    # Each task as a request: a connection past CONN_MAX_AGE, or left unusable by an error (a
    # database restart), is closed, and the next query opens a new one (settings: CELERY_DB_REUSE_MAX).
    if task is None or not task.request.is_eager:
        close_old_connections()


@task_prerun.connect
def _bind_request_id(task_id: str, task: Task, **kwargs: object) -> None:
    request_id = task.request.get(REQUEST_ID_HEADER) or tracing.accept(None)
    _bound[task_id] = (tracing.bind(request_id), time.perf_counter())


@task_postrun.connect
def _unbind_request_id(task_id: str, task: Task, state: str | None = None, **kwargs: object) -> None:
    token, started = _bound.pop(task_id, (None, None))
    if token is not None:
        tracing.unbind(token)
        # Task timings for /metrics (intake.telemetry): by task name and final state only.
        telemetry.TASKS.labels(task=task.name, state=state or "UNKNOWN").observe(
            time.perf_counter() - started
        )
