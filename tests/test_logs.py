"""Log lines for operators: JSON, a request id that follows the work, and no patient data."""

import io
import json
import logging
import logging.config

import pytest
from django.conf import settings
from django.db import transaction
from rest_framework.test import APIClient

from clinic.logs import logging_config
from clinic.web import webhooks
from intake import tracing
from intake.models import Case, PartnerNotification
from recommendations import review
from recommendations.services import make_draft
from tests.factories import make_partner, make_user, referral_body
from tests.support import OUTPUT, committed_db, wait_for
from tests.web_process import GunicornProcess

NAME = "Zebedee Quargle"


@pytest.fixture
def json_lines():
    """The project's own log configuration, written to a buffer: what a collector would read."""
    stream = io.StringIO()
    config = logging_config(fmt="json", level="INFO")
    config["handlers"]["console"]["stream"] = stream
    logging.config.dictConfig(config)

    def lines() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield lines
    logging.config.dictConfig(settings.LOGGING)


def test_an_exception_is_logged_by_its_type_and_stack_never_by_its_message(json_lines):
    try:
        raise ValueError(f"Unknown site for {NAME}")
    except ValueError:
        with tracing.bound("req-1"):
            logging.getLogger("intake.test").exception("something failed", extra={"case_id": "c-1"})

    (line,) = json_lines()
    assert line["message"] == "something failed" and line["level"] == "ERROR"
    assert line["request_id"] == "req-1" and line["case_id"] == "c-1"
    assert "builtins.ValueError" in line["exc_info"] and "test_logs.py" in line["exc_info"]
    assert NAME not in json.dumps(line)


def test_celerys_failure_line_keeps_the_task_and_drops_the_exceptions_text_and_arguments(json_lines):
    exc = RuntimeError(f"patient {NAME}")
    context = {
        "hostname": "w@h",
        "id": "t-1",
        "name": "recommendations.draft_case",
        "exc": repr(exc),  # as Celery passes it
        "traceback": f"Traceback ... RuntimeError: patient {NAME}",
        "args": f"('{NAME}',)",
        "kwargs": "{}",
        "description": "raised unexpected",
        "internal": False,
    }
    try:
        raise exc
    except RuntimeError:
        logging.getLogger("celery.app.trace").error(
            "Task %(name)s[%(id)s] %(description)s: %(exc)s", context, exc_info=True, extra={"data": context}
        )

    (line,) = json_lines()
    assert line["message"] == "Task recommendations.draft_case[t-1] raised unexpected: RuntimeError"
    assert NAME not in json.dumps(line)


@pytest.mark.django_db
def test_a_request_id_is_taken_or_made_returned_and_logged_without_the_query(json_lines):
    client = APIClient()
    _, key = make_partner()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")

    given = client.get("/api/v1/referrals/?status=decided", HTTP_X_REQUEST_ID="abc-123")
    made = client.get("/api/v1/referrals/", HTTP_X_REQUEST_ID="bad id with spaces")
    newline = client.get("/api/v1/referrals/", HTTP_X_REQUEST_ID="abc-123\n")

    assert given["X-Request-ID"] == "abc-123"
    assert made["X-Request-ID"] != "bad id with spaces" and len(made["X-Request-ID"]) == 32
    assert newline["X-Request-ID"] != "abc-123\n" and len(newline["X-Request-ID"]) == 32
    access = [line for line in json_lines() if line["logger"] == "clinic.requests"]
    assert [a["request_id"] for a in access] == ["abc-123", made["X-Request-ID"], newline["X-Request-ID"]]
    assert access[0]["path"] == "/api/v1/referrals/" and access[0]["status"] == 200
    assert access[0]["partner_id"] and "decided" not in json.dumps(access[0])


@pytest.mark.django_db
def test_the_webhook_carries_the_request_id_of_the_request_that_caused_it(receiver):
    endpoint = receiver()
    partner, key = make_partner(webhook_url=endpoint.url)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    case = Case.objects.get(pk=client.post("/api/v1/referrals/", referral_body(), format="json").json()["id"])
    make_draft(case_id=case.pk)

    with tracing.bound("decided-in-req-9"):
        review.approve_draft(case_id=case.pk, user=make_user(group="Specialists"))
    webhooks.deliver(notification_id=PartnerNotification.objects.get(case=case).pk)

    ((headers, _),) = endpoint.received
    assert headers["x-request-id"] == "decided-in-req-9"


@pytest.mark.worker
@committed_db
def test_a_failed_drafts_log_lines_carry_the_request_id_and_no_patient_name(celery_worker_process):
    # Given a partner referral for a patient with a memorable name, sent with a request id,
    # whose stored answers are then broken so that drafting fails (in the same transaction,
    # so the worker only ever sees the broken row)
    _, key = make_partner()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    given, family = NAME.split()
    body = referral_body(patient=referral_body()["patient"] | {"given_name": given, "family_name": family})
    with transaction.atomic():
        response = client.post("/api/v1/referrals/", body, format="json", HTTP_X_REQUEST_ID="trace-fail-1")
        case_id = response.json()["id"]
        Case.objects.filter(pk=case_id).update(affected_sites=7)

    # When the real worker tries to draft it
    assert wait_for(lambda: Case.objects.get(pk=case_id).status == "draft_failed", timeout=40)

    # Then the worker's log lines for this work carry the request id, and none names the patient
    worker_log = (OUTPUT / "celery-worker.log").read_text(errors="replace")
    ours = [json.loads(line) for line in worker_log.splitlines() if "trace-fail-1" in line]
    assert any(
        line["message"] == "drafting failed: TypeError" and line["case_id"] == case_id for line in ours
    )
    assert any("raised unexpected: TypeError" in line["message"] for line in ours)
    # Every line about the case carries the request id, but for Celery's "received" line, which
    # the worker's main process logs before the task starts: that one is joined by the task id.
    about_the_case = [json.loads(line) for line in worker_log.splitlines() if case_id in line]
    received = [line for line in about_the_case if line["logger"] == "celery.worker.strategy"]
    during = [line for line in about_the_case if line not in received]
    assert during and all(line["request_id"] == "trace-fail-1" for line in during)
    task_ids = {line["data"]["id"] for line in ours if line["logger"] == "celery.app.trace"}
    assert {line["data"]["id"] for line in received} <= task_ids
    assert given not in worker_log and family not in worker_log


# A desk search or a partner's query string may hold a patient's name and birth date.
QUERY_NAME, QUERY_DATE = "Quargle", "1961-04-02"
QUERY = f"?q=Zebedee+{QUERY_NAME}+{QUERY_DATE}&birth_date={QUERY_DATE}"
NO_SUCH_CASE = "00000000-0000-0000-0000-000000000000"


@pytest.mark.django_db
def test_no_line_of_a_refused_request_holds_its_query_and_each_has_the_request_id(json_lines, capfd):
    # Given a partner and a front-desk user, each sending requests whose query holds a name and a date
    _, key = make_partner()
    partner = APIClient()
    partner.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    desk_user = make_user(group="Front desk")
    desk, csrf_checked = APIClient(), APIClient(enforce_csrf_checks=True)
    desk.force_login(desk_user)
    csrf_checked.force_login(desk_user)

    # When they are refused: 404, 400, 403 (CSRF) and 405
    statuses = [
        partner.get(f"/api/v1/referrals/{NO_SUCH_CASE}/{QUERY}", HTTP_X_REQUEST_ID="r-404"),
        partner.post(f"/api/v1/referrals/{QUERY}", {"notes": "x"}, format="json", HTTP_X_REQUEST_ID="r-400"),
        csrf_checked.post(f"/desk/patients/new/{QUERY}", {"given_name": "Zed"}, HTTP_X_REQUEST_ID="r-403"),
        desk.post(f"/desk/patients/{QUERY}", HTTP_X_REQUEST_ID="r-405"),
    ]
    assert [r.status_code for r in statuses] == [404, 400, 403, 405]

    # Then Django's own lines about them are there, none holds the name or the date, and each
    # carries the id of the request it is about
    lines = json_lines()
    django_lines = [line for line in lines if line["logger"].startswith("django.")]
    assert {line["logger"] for line in django_lines} >= {"django.request", "django.security.csrf"}
    assert len(django_lines) >= 4
    for line in lines:
        assert QUERY_NAME not in json.dumps(line) and QUERY_DATE not in json.dumps(line), line
        assert line["request_id"] in {"r-404", "r-400", "r-403", "r-405"}, line
    captured = capfd.readouterr()
    assert QUERY_NAME not in captured.out + captured.err


@committed_db
def test_under_gunicorn_no_line_holds_a_query_and_each_request_line_has_its_id():
    # Given the service under gunicorn, as production runs it, with gunicorn's access lines on
    _, key = make_partner()
    server = GunicornProcess(name="gunicorn-logs", env={"GUNICORN_ACCESS_LOG": "-"}).start()
    try:
        # When requests whose query holds a name and a birth date are refused: 404, 400, 403,
        # and one whose request line gunicorn itself cannot read (spaces in the query)
        auth = f"Authorization: Api-Key {key}\r\n"
        sent = {
            "g-404": f"GET /api/v1/referrals/{NO_SUCH_CASE}/{QUERY}",
            "g-400": f"POST /api/v1/referrals/{QUERY}",
            "g-403": f"POST /desk/patients/new/{QUERY}",
        }
        answers = {
            request_id: server.raw(
                f"{line} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}X-Request-ID: {request_id}\r\n"
                f"Referer: http://127.0.0.1/desk/patients/{QUERY}\r\nContent-Type: application/json\r\n"
                "Content-Length: 2\r\nConnection: close\r\n\r\n{}".encode()
            )
            for request_id, line in sent.items()
        }
        server.raw(f"GET /desk/patients/?q=Zebedee {QUERY_NAME} {QUERY_DATE} HTTP/1.1\r\n\r\n".encode())
    finally:
        server.stop()

    assert [answer.split(b" ", 2)[1] for answer in answers.values()] == [b"404", b"400", b"403"]
    # Then no line of gunicorn's output names the patient or the date
    output = server.log()
    assert QUERY_NAME not in output and QUERY_DATE not in output
    # and every line about those requests (Django's, ours, gunicorn's access line) has its id
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    about = [line for line in lines if line["logger"] != "gunicorn.error"]
    assert all(line["request_id"] in sent for line in about), about
    for request_id in sent:
        loggers = {line["logger"] for line in about if line["request_id"] == request_id}
        assert {"clinic.requests", "gunicorn.access"} <= loggers, (request_id, loggers)
    assert {"django.request", "django.security.csrf"} <= {line["logger"] for line in about}


@pytest.mark.django_db
def test_no_line_holds_a_patients_follow_up_link(json_lines, capfd, client):
    # Given a patient's link (a token is its own key: whoever reads it could open the form)
    token = "Qx7" + "a" * 40

    # When it is opened and refused (not valid), and its answer endpoint is posted to
    assert client.get(f"/f/{token}", HTTP_X_REQUEST_ID="r-f1").status_code == 404
    assert client.post(f"/f/{token}/answer", HTTP_X_REQUEST_ID="r-f2").status_code in (403, 404)

    # Then the request lines are there, and none holds the token
    lines = json_lines()
    assert any("/f/" in json.dumps(line) for line in lines)
    for line in lines:
        assert token not in json.dumps(line), line
    captured = capfd.readouterr()
    assert token not in captured.out + captured.err
