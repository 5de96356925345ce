"""(d): the review queue, the desk board and a /metrics scrape at two sizes, in-process: time
and SQL queries."""

import statistics
import time

from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

from intake.models import Case
from tests.benchmarks.data import add_cases

PAGES = {
    "review queue": "/admin/recommendations/reviewcase/",
    "desk board": "/desk/",
    "metrics scrape": "/metrics",
}
METRICS_TOKEN = "benchmark-scrape"  # noqa: S105


def _client(username: str, group: str, *, staff: bool) -> Client:
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(username=username, defaults={"is_staff": staff})
    user.groups.add(Group.objects.get(name=group))
    client = Client()
    client.force_login(user)
    return client


def _measure(client: Client, path: str, runs: int = 7) -> dict:
    client.get(path)  # warm caches and the connection
    times, queries = [], 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
        queries = len(ctx.captured_queries)
    return {"ms": statistics.median(times), "queries": queries}


def measure_pages(small: int, large: int) -> dict:
    clients = {
        "review queue": _client("bench_specialist", "Specialists", staff=True),
        "desk board": _client("bench_desk", "Front desk", staff=False),
        "metrics scrape": Client(HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}"),
    }
    results: dict = {page: {} for page in PAGES}
    for target in (small, large):
        # The cases the load left (a partner's, mostly withdrawn) do not have a clinic's mix of
        # statuses: at least a fifth of each size is the mix, so every group of the board has cards.
        missing = max(target - Case.objects.count(), target // 5)
        add_cases(missing, seed=target)
        size = Case.objects.count()
        with override_settings(METRICS_TOKEN=METRICS_TOKEN):
            for page, path in PAGES.items():
                results[page][str(size)] = _measure(clients[page], path)
    return results
