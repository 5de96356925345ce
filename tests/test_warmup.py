"""Before a web process takes traffic it has loaded what its first requests would otherwise load
(clinic.warmup): in the master before it listens, and in each worker, recycled ones too."""

import json
import os
import subprocess
import sys
from http.client import HTTPConnection

from tests.factories import make_partner, referral_body
from tests.support import ROOT, committed_db
from tests.web_process import GunicornProcess

LOADED = """
import os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings_test")
import django
django.setup()
from django.db.backends.base.base import BaseDatabaseWrapper
from django.urls import get_resolver
from redis.connection import AbstractConnection
from intake.vocabulary import icd10cm
from clinic.warmup import load_code
opened = []
def refuse(self, *args, **kwargs):
    opened.append(type(self).__name__)
    raise RuntimeError("no connection may be opened before the fork")
BaseDatabaseWrapper.connect = AbstractConnection.connect = refuse
assert icd10cm._codes.cache_info().currsize == 0 and not get_resolver()._populated
timings = load_code()
print(icd10cm._codes.cache_info().currsize, get_resolver()._populated, opened, sorted(timings))
"""


def test_loading_the_code_reads_the_code_table_and_the_urls_and_opens_no_connection():
    # A fresh interpreter: nothing of it loaded by this test session.
    done = subprocess.run(
        [sys.executable, "-c", LOADED], cwd=ROOT, env=os.environ, capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[0] == "1 True [] ['api classes', 'code tables', 'url resolver']"


CONNECTED = """
import os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings_test")
import django
django.setup()
from clinic.warmup import connect
print(sorted(connect()))
"""


def test_a_broker_that_is_away_is_logged_and_the_worker_starts_anyway():
    # A port nothing listens on: the warm-up gives up on it and the worker connects on first use.
    env = {**os.environ, "CELERY_BROKER_URL": "redis://127.0.0.1:9/0", "LOG_LEVEL": "WARNING"}

    done = subprocess.run(
        [sys.executable, "-c", CONNECTED], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "['broker', 'database', 'throttle store']"
    assert "warm-up could not open the broker connection" in done.stdout + done.stderr


@committed_db
def test_gunicorn_warms_up_before_it_listens_and_every_recycled_worker_before_it_answers():
    _, key = make_partner()
    # Each worker is recycled after three requests: nine referrals see three workers.
    server = GunicornProcess(
        name="gunicorn-warmup",
        env={"LOG_LEVEL": "INFO"},
        options=("--max-requests", "3", "--max-requests-jitter", "0"),
    ).start()
    try:
        statuses = []
        for n in range(9):
            conn = HTTPConnection("127.0.0.1", server.port, timeout=30)
            body = json.dumps(referral_body(external_id=f"RF-warm-{n}"))
            conn.request(
                "POST",
                "/api/v1/referrals/",
                body,
                {"Authorization": f"Api-Key {key}", "Content-Type": "application/json"},
            )
            statuses.append(conn.getresponse().status)
            conn.close()
    finally:
        server.stop()
    log = server.log()

    assert statuses == [201] * 9
    assert log.index("warm-up in the master") < log.index("Listening at")
    assert log.count("warm-up in worker") >= 3
