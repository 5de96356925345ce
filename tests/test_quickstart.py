"""The quick start as a newcomer meets it: the demo cases `quickstart` seeds (through `seed_demo`), a
broker that publishes without kombu's warning, and one log line per request from its web server."""

import os
import socket
import subprocess
import sys
from collections import Counter
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Count

from clinic.aftercare.demo import COHORT, MRN_PREFIX
from intake.models import Case, Priority
from recommendations.demo import DEMO_CASES
from recommendations.models import Decision
from tests.support import OUTPUT, ROOT, wait_for
from tests.web_process import free_port

EVERY_STATE = {
    "received": 1,
    "awaiting_review": 2,
    "needs_information": 1,
    "draft_failed": 1,
    "decided": 3,
    "withdrawn": 1,
}


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def statuses() -> dict[str, int]:
    """The demo cases' statuses; the demo's treated patients (clinic.aftercare.demo) are counted apart."""
    cases = Case.objects.exclude(patient__mrn__startswith=MRN_PREFIX)
    return dict(cases.values_list("status").annotate(n=Count("id")).order_by())


@pytest.mark.django_db
def test_the_quick_starts_demo_data_shows_every_state_of_the_board_and_the_queue(settings, client):
    settings.DEBUG = True  # as quickstart runs it

    out = seed()

    assert statuses() == EVERY_STATE
    waiting = Case.objects.filter(status="awaiting_review")
    assert {(c.priority, c.partner.name if c.partner else None) for c in waiting} == {
        (Priority.URGENT, None),
        (Priority.ROUTINE, "Demo Partner Clinic"),
    }
    asked = Case.objects.get(status="needs_information")
    assert "conservative care" in asked.open_question and asked.partner is None  # the desk answers it
    assert Case.objects.filter(patient__mrn__startswith=MRN_PREFIX, status="decided").count() == len(COHORT)
    demo_decisions = Decision.objects.exclude(case__patient__mrn__startswith=MRN_PREFIX)
    assert Counter(demo_decisions.values_list("outcome", flat=True)) == {
        "approved": 1,
        "amended": 1,
        "declined": 1,
    }
    # Each case is printed with what it shows, and the board lists every one of them.
    assert out.count("Demo case    C-") == len(DEMO_CASES) == sum(EVERY_STATE.values())
    client.force_login(get_user_model().objects.get(username="desk"))
    board = client.get("/desk/").content.decode()
    assert all(case.reference in board for case in Case.objects.all())
    # Every record went through the services: the audit chain of every case verifies.
    call_command("verify_audit", "--all", stdout=StringIO())


@pytest.mark.django_db
def test_running_the_quick_start_again_adds_no_demo_case(settings):
    settings.DEBUG = True
    seed()
    first = set(Case.objects.values_list("id", flat=True))

    again = seed()

    assert set(Case.objects.values_list("id", flat=True)) == first
    assert statuses() == EVERY_STATE
    assert "Demo case    C-" not in again and "Demo cases   already there" in again
    assert "Demo outcomes already there" in again
    assert "password: " in again  # the demo passwords are new each time, as before


def quick_start_env(tmp_path, **extra: str) -> dict[str, str]:
    """The quick start's own settings (DEBUG, SQLite, the file broker) in a folder of the test's."""
    env = {k: v for k, v in os.environ.items() if k not in ("CELERY_BROKER_URL", "CLINIC_TEST_ENVIRONMENT")}
    return env | {
        "DJANGO_SETTINGS_MODULE": "clinic.settings",
        "CLINIC_ENV_FILE": os.devnull,
        "DEBUG": "1",
        "CLINIC_VAR_DIR": str(tmp_path),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'clinic.sqlite3'}",
        **extra,
    }


PUBLISH = (
    "import django; django.setup(); from clinic.celery import app; "
    "app.send_task('recommendations.sweep_stuck_cases'); app.send_task('recommendations.sweep_stuck_cases')"
)


def test_the_quick_starts_broker_takes_tasks_without_kombus_hostname_warning(tmp_path):
    env = quick_start_env(tmp_path)

    done = subprocess.run(
        [sys.executable, "-c", PUBLISH], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )

    assert done.returncode == 0, done.stderr
    assert len(list((tmp_path / "broker" / "queue").iterdir())) == 2
    assert "No hostname" not in done.stdout + done.stderr


@pytest.mark.django_db
def test_the_quick_starts_web_server_logs_one_line_per_request():
    # Given the quick start's web server (runserver, as quickstart starts it) on the test database,
    # with the service's log configuration
    db = settings.DATABASES["default"]
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "clinic.settings_test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": "memory://",
    }
    OUTPUT.mkdir(exist_ok=True)
    log_path = OUTPUT / "runserver-one-line.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        assert wait_for(lambda: _listening(port) or server.poll() is not None, timeout=60) and _listening(
            port
        )

        # When a page is asked for once, and a request it cannot read is sent
        headers = b"Host: 127.0.0.1\r\nX-Request-ID: one-line-1\r\nConnection: close\r\n"
        answer = _raw(port, b"GET /desk/login/ HTTP/1.1\r\n" + headers + b"\r\n")
        unreadable = _raw(port, b"NONSENSE\r\n\r\n")
        assert wait_for(lambda: "Bad request syntax" in log_path.read_text(errors="replace"), timeout=10)
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=20)

    # Then the page's request is one log line (the service's own, with its id), and the unreadable
    # request, which never reached Django, one line too
    output = log_path.read_text(errors="replace")
    assert answer.startswith(b"HTTP/1.1 200") and b"400 - Bad request syntax" in unreadable
    about_the_page = [line for line in output.splitlines() if "one-line-1" in line or "/desk/login/" in line]
    assert len(about_the_page) == 1, about_the_page
    assert '"logger": "clinic.requests"' in about_the_page[0]
    assert len([line for line in output.splitlines() if "NONSENSE" in line]) == 1, output


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def _raw(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


REFER_TWICE = """
import django; django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from rest_framework.test import APIClient
from intake.partners import create_partner
from tests.factories import referral_body
_, key = create_partner(name="Quick")
client = APIClient(HTTP_AUTHORIZATION=f"Api-Key {key}")
first = client.post("/api/v1/referrals/", referral_body(external_id="Q-1"), format="json")
again = client.post("/api/v1/referrals/", referral_body(external_id="Q-2"), format="json")
print(first.status_code, again.status_code, first.json()["id"] != again.json()["id"])
"""


def test_a_partner_referral_for_a_known_patient_is_matched_on_the_quick_starts_sqlite(tmp_path):
    # The patient match runs a query compiled once per database (intake.matching): SQLite's own.
    env = quick_start_env(tmp_path)

    done = subprocess.run(
        [sys.executable, "-c", REFER_TWICE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "201 201 True"
