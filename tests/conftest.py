import os
from pathlib import Path

import pytest
import redis
from django.conf import settings

from intake import telemetry
from tests.support import Receiver, WorkerProcess

ROOT = Path(__file__).resolve().parent.parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Once started, the shared worker (session-scoped) drafts whatever a committed test queues on
    # the broker. The tests that need it run last, so every other test runs with nothing
    # consuming its queue, whichever folder it lives in. (A stable sort: otherwise in order.)
    items.sort(key=lambda item: "celery_worker_process" in getattr(item, "fixturenames", ()))


@pytest.fixture(scope="session", autouse=True)
def _fresh_metrics_directory():
    """/metrics adds up every process's figures: start from this run's alone."""
    telemetry.drop_stale(settings.PROMETHEUS_MULTIPROC_DIR, keep_pid=os.getpid())


@pytest.fixture(autouse=True)
def _no_remembered_api_keys():
    """Each test starts with no verified API key in memory (clinic.web.api.auth): a key
    remembered by an earlier test would carry that test's partner row, since rolled back."""
    from clinic.web.api.auth import forget_verified_keys

    forget_verified_keys()


_DATABASE_FIXTURES = frozenset({"db", "transactional_db", "live_server", "django_db_serialized_rollback"})


@pytest.fixture(autouse=True)
def _clinic_protocols(request):
    """Every test with database access starts with the clinic's demo protocols, as the product
    drafts (rule set v3) under the protocols the quick start imports. Per test, because a
    transactional test's flush empties the table. A test that needs an empty table (importing,
    saving protocols) asks for `no_demo_protocols`."""
    if "no_demo_protocols" in request.fixturenames:
        return
    if request.node.get_closest_marker("django_db") or _DATABASE_FIXTURES & set(request.fixturenames):
        from tests.factories import make_demo_protocols  # models load once Django is set up

        request.getfixturevalue("_django_db_helper")
        make_demo_protocols()


@pytest.fixture
def no_demo_protocols():
    """This test starts with no protocol in the database (see _clinic_protocols)."""


@pytest.fixture
def knee_infusion_protocol(_clinic_protocols, _django_db_helper):
    """A test-only protocol covering intravenous cells for knee osteoarthritis, for tests in which a
    specialist amends a knee draft to an infusion: rule set v3 takes a route only under a protocol."""
    from tests.factories import make_knee_infusion_protocol

    return make_knee_infusion_protocol()


@pytest.fixture(scope="session")
def broker_url() -> str:
    return settings.CELERY_BROKER_URL


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, broker_url):
    """A real `celery -A clinic worker` on the Redis broker and the test database."""
    redis.Redis.from_url(broker_url).flushdb()  # stale messages from earlier runs
    worker = WorkerProcess(broker_url=broker_url, name="celery-worker").start()
    yield worker.proc
    worker.stop()


SCREENSHOTS = ROOT / "test-output" / "screenshots"
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def page(live_server):
    """A page in Debian's chromium, driven by Playwright; nothing is downloaded.

    Function-scoped on purpose: Playwright's sync API runs an event loop in this
    thread, and Django then hands the test a fresh connection object. Starting it
    after the database fixture set the test up, and closing those connections
    before it stops, keeps the test database's setup and teardown on the real one.
    """
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from django.db import connections
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            connections.close_all()
            browser.close()


@pytest.fixture
def screenshot(page):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def receiver():
    made = []

    def start(codes=(200,)) -> Receiver:
        made.append(Receiver(codes))
        return made[-1]

    yield start
    for r in made:
        r.close()
