"""Load, before a web process takes traffic, what its first requests would otherwise load.

A fresh process answered its first referral in about 600 ms instead of 7: the URL patterns (every
view module) imported on the first request, the ICD-10-CM code table (74,000 codes) read on the
first validation, DRF's classes on the first API call, and connections opened on first use. After
a deploy or a worker recycle (gunicorn's max_requests), that was the p99 of the first seconds.

gunicorn (clinic/gunicorn.conf.py) calls `load_code()` in the master before it forks the workers
(with preload_app, so a recycled worker starts with it all in memory) and `connect()` in each
worker before it accepts a connection: connections must never be opened before a fork.
"""

import logging
import time

from django.conf import settings
from django.db import DatabaseError, connections
from django.urls import get_resolver, resolve
from kombu.exceptions import OperationalError as BrokerError
from limits.errors import StorageError
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


def load_code() -> dict[str, float]:
    """Imports and tables only, no connection (safe before a fork). Milliseconds per part."""
    from clinic.web.api.reuse import validated_referral
    from clinic.web.api.views import EXAMPLE_BODY, EXAMPLE_BODY_V3, ReferralListCreateView

    timings: dict[str, float] = {}

    def part(name: str, work) -> None:
        started = time.perf_counter()
        work()
        timings[name] = (time.perf_counter() - started) * 1000

    def urls() -> None:
        resolver = get_resolver()
        resolver.url_patterns  # noqa: B018 - imports every view module
        resolver.reverse_dict  # noqa: B018 - what reverse() builds on its first call
        resolve("/api/v1/referrals/")

    def tables() -> None:
        # Validating the documented examples reads the code table and the v3 checks' tables.
        for body in (EXAMPLE_BODY, EXAMPLE_BODY_V3):
            _, errors = validated_referral(body)
            if errors:
                raise RuntimeError(f"the documented example referral does not validate: {errors}")

    def api() -> None:
        from clinic.celery import app

        app.tasks  # noqa: B018 - finalizes the Celery app: every task registered
        view = ReferralListCreateView()
        view.get_authenticators(), view.get_permissions(), view.get_throttles()
        view.get_parsers(), view.get_renderers(), view.get_content_negotiator()

    part("url resolver", urls)
    part("code tables", tables)
    part("api classes", api)
    # Nothing above should connect; were anything to, no connection may cross a fork.
    connections.close_all()
    return timings


def connect() -> dict[str, float]:
    """Open this process's connections (database, throttle store, broker). A store that is away
    is logged, never fatal: the process then connects on first use, as it would have."""
    from clinic.celery import app
    from clinic.web.api.throttle import limiter

    timings: dict[str, float] = {}

    def database() -> None:
        for alias in settings.DATABASES:
            connections[alias].ensure_connection()

    for name, work, errors in (
        ("database", database, DatabaseError),
        ("throttle store", lambda: limiter().storage.check(), StorageError),
        ("broker", lambda: _broker(app), (BrokerError, RedisError, OSError)),
    ):
        started = time.perf_counter()
        try:
            work()
        except errors as exc:
            log.warning("warm-up could not open the %s connection: %s", name, exc)
        timings[name] = (time.perf_counter() - started) * 1000
    return timings


def _broker(app) -> None:
    from recommendations.publish import client_ready

    app.backend  # noqa: B018 - built on the first publish otherwise
    # A referral queues its draft with one LPUSH on recommendations.publish's client, opened here
    # (nothing to open for an in-process or file broker); other tasks go through Celery's pool,
    # which connects on first use, off the referral path.
    client_ready()


def warm() -> dict[str, float]:
    """Both, in this process (the benchmark's in-process measurements; a server without preload)."""
    return load_code() | connect()
