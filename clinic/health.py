"""Health checks for the load balancer and the process supervisor (issue 17, part 1).

`/health/live`: the process answers; it touches nothing else, so a database outage
does not get healthy web processes restarted. `/health/ready`: the database answers,
every migration is applied and the broker accepts a connection; otherwise 503 and a
JSON body naming what failed. Both are unauthenticated and carry no patient data.
"""

from collections.abc import Callable

from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu.exceptions import OperationalError as BrokerError

from clinic.celery import app

# How long the broker may take to accept a connection before it counts as down.
BROKER_TIMEOUT_SECONDS = 2.0
_migrated = False  # once everything is applied it stays so for this process's code


def _database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        return f"unreachable ({type(exc).__name__})"
    return None


def _migrations() -> str | None:
    global _migrated
    if _migrated:
        return None
    try:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as exc:
        return f"cannot be read ({type(exc).__name__})"
    if pending:
        names = ", ".join(f"{migration.app_label}.{migration.name}" for migration, _ in pending[:5])
        return f"{len(pending)} not applied: {names}"
    _migrated = True
    return None


def _broker() -> str | None:
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=0, timeout=BROKER_TIMEOUT_SECONDS)
    except (BrokerError, OSError) as exc:
        # The URL stays out of the answer: it may hold a password.
        return f"unreachable ({type(exc).__name__})"
    return None


CHECKS: dict[str, Callable[[], str | None]] = {
    "database": _database,
    "migrations": _migrations,
    "broker": _broker,
}


@never_cache
@require_GET
def live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "live"})


@never_cache
@require_GET
def ready(request: HttpRequest) -> JsonResponse:
    checks: dict[str, str] = {}
    for name, check in CHECKS.items():
        if name == "migrations" and checks["database"] != "ok":
            checks[name] = "not checked: no database"
            continue
        checks[name] = check() or "ok"
    failed = any(result != "ok" for result in checks.values())
    return JsonResponse(
        {"status": "not ready" if failed else "ready", "checks": checks}, status=503 if failed else 200
    )
