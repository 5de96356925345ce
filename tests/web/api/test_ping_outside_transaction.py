"""A webhook test ping is an HTTP call to the partner: it is made with nothing of ours uncommitted,
with or without an Idempotency-Key (a receiver that looks the delivery up while answering finds it)."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from clinic.web.api import throttle
from intake.models import PartnerNotification
from tests.factories import make_partner
from tests.support import committed_db

PING = "/api/v1/webhooks/test"


@pytest.fixture(autouse=True)
def fresh_throttle():
    throttle.store(settings.CACHE_URL).reset()


def api(key):
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return c


class PeekingReceiver:
    """Answers 200 and, while the request is open, looks from its own DB connection whether the
    ping row the clinic is sending is committed (i.e. whether the sender is inside a transaction)."""

    def __init__(self):
        self.seen = []
        outer = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers["Content-Length"]))
                try:
                    outer.seen.append(PartnerNotification.objects.filter(event_type="ping").exists())
                finally:
                    connection.close()
                self.send_response(200)
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@committed_db
@pytest.mark.parametrize("with_key", [False, True])
def test_ping_http_call_is_made_outside_any_db_transaction(with_key):
    r = PeekingReceiver()
    try:
        partner, key = make_partner(webhook_url=r.url)
        extra = {"HTTP_IDEMPOTENCY_KEY": "ping-1"} if with_key else {}
        resp = api(key).post(PING, **extra)
        assert resp.status_code == 200, resp.content
        assert r.seen == [True], "the webhook POST went out while the ping row was still uncommitted"
    finally:
        r.close()
