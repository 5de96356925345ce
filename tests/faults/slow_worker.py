"""A real Celery worker whose drafts take longer: `python -m tests.faults.slow_worker SECONDS ARGS...`.

The delay is added around the pure engine call, inside the drafting transaction,
so a kill or a dropped connection lands while a draft is in progress.
"""

import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings_test")
django.setup()

from clinic.celery import app  # noqa: E402
from recommendations import services  # noqa: E402

DELAY = float(sys.argv[1])
_draft = services.engine.draft


def slow_draft(*args, **kwargs):
    time.sleep(DELAY)
    return _draft(*args, **kwargs)


services.engine.draft = slow_draft

if __name__ == "__main__":
    app.worker_main(["worker", *sys.argv[2:]])
