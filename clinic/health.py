"""Health checks for the load balancer and the process supervisor (issue 17, part 1).

`/health/live`: the process answers; it touches nothing else, so a database outage
does not get healthy web processes restarted. `/health/ready`: the database answers,
every migration is applied, the broker accepts a connection and no case has waited for its
draft longer than READY_DRAFT_BACKLOG_SECONDS (the drafting workers are down, stuck or far
behind); otherwise 503 and a JSON body naming what failed. Both are unauthenticated and carry no patient data.
"""

from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Min
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu.exceptions import OperationalError as BrokerError

from clinic.celery import app
from intake.models import Case
from intake.statuses import AWAITING_DRAFT

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


def _draft_backlog() -> str | None:
    # Counted from the case's last status move: a case sent back to drafting by an answer waits
    # from then. Only an age in seconds leaves: no case id, no patient.
    try:
        oldest = Case.objects.filter(status__in=AWAITING_DRAFT).aggregate(at=Min("status_changed_at"))["at"]
    except DatabaseError as exc:
        return f"cannot be read ({type(exc).__name__})"
    if oldest is None:
        return None
    waited = int((timezone.now() - oldest).total_seconds())
    limit = settings.READY_DRAFT_BACKLOG_SECONDS
    return f"oldest case waiting for its draft: {waited} s (limit {limit} s)" if waited > limit else None


CHECKS: dict[str, Callable[[], str | None]] = {
    "database": _database,
    "migrations": _migrations,
    "broker": _broker,
    "draft_backlog": _draft_backlog,
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
        if name in ("migrations", "draft_backlog") and checks["database"] != "ok":
            checks[name] = "not checked: no database"
            continue
        checks[name] = check() or "ok"
    failed = any(result != "ok" for result in checks.values())
    return JsonResponse(
        {"status": "not ready" if failed else "ready", "checks": checks}, status=503 if failed else 200
    )
