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
from intake import tracing, webhooks
from intake.models import Case, PartnerNotification
from recommendations import review
from recommendations.services import make_draft
from tests.factories import make_partner, make_user, referral_body
from tests.support import OUTPUT, committed_db, wait_for

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
