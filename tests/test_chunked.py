"""A body sent with Transfer-Encoding: chunked (no Content-Length) is read, under the gunicorn
that production runs."""

import json

import pytest
from django.conf import settings

from intake.models import Case
from tests.factories import make_partner, referral_body
from tests.support import committed_db
from tests.web_process import GunicornProcess


@pytest.fixture(scope="module")
def gunicorn(django_db_setup):
    server = GunicornProcess(name="gunicorn-chunked").start()
    yield server
    server.stop()


def chunked_post(server: GunicornProcess, path: str, body: bytes, *, key: str, chunk: int = 100) -> tuple:
    pieces = [body[i : i + chunk] for i in range(0, len(body), chunk)]
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces)
    request = (
        (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Api-Key {key}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        ).encode()
        + chunks
        + b"0\r\n\r\n"
    )
    head, _, payload = server.raw(request).partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    headers = dict(line.decode().lower().split(": ", 1) for line in head.split(b"\r\n")[1:])
    if "chunked" in headers.get("transfer-encoding", ""):
        payload = _dechunk(payload)
    return status, headers, json.loads(payload)


def _dechunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out, data = out + data[:size], data[size + 2 :]
    return out


@committed_db
def test_a_valid_referral_sent_in_chunks_is_accepted(gunicorn):
    # Given a partner whose HTTP client streams the body in chunks, with no Content-Length
    _, key = make_partner()
    body = json.dumps(referral_body(external_id="RF-CHUNKED-1")).encode()

    # When it posts a valid referral
    status, headers, answer = chunked_post(gunicorn, "/api/v1/referrals/", body, key=key)

    # Then it is accepted as if the length had been given, and the case holds what was sent
    assert status == 201, answer
    case = Case.objects.get(pk=answer["id"])
    assert case.external_id == "RF-CHUNKED-1" and case.patient.family_name == "Silva"


@committed_db
def test_a_chunked_body_over_the_upload_limit_is_413_too_large(gunicorn):
    _, key = make_partner()
    body = json.dumps(referral_body(notes="x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10))).encode()

    status, headers, answer = chunked_post(gunicorn, "/api/v1/referrals/", body, key=key, chunk=65536)

    assert status == 413 and headers["content-type"] == "application/problem+json"
    assert answer["type"].endswith("/too-large") and "MB" in answer["detail"]
    assert not Case.objects.exists()
