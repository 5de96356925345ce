"""The production settings plus the benchmark's bare baselines (a view and a task)."""

from clinic.settings import *  # noqa: F403

ROOT_URLCONF = "tests.benchmarks.urls"
CELERY_IMPORTS = ["tests.benchmarks.bare"]
