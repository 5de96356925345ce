"""Health checks as a load balancer and a supervisor use them (clinic.health)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from intake.models import Case, CaseStatus
from recommendations.services import make_draft
from tests.factories import make_case, make_patient, make_user
from tests.faults.conftest import own_broker  # noqa: F401 - a redis-server of its own, as a fixture


@pytest.mark.django_db
def test_live_answers_without_sign_in_and_without_the_database():
    with CaptureQueriesContext(connection) as ctx:
        response = Client().get("/health/live")

    assert (response.status_code, response.json()) == (200, {"status": "live"})
    assert ctx.captured_queries == []
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_ready_names_each_check_when_all_is_well():
    response = Client().get("/health/ready")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok", "broker": "ok", "draft_backlog": "ok"},
    }


@pytest.mark.faults
@pytest.mark.django_db
def test_ready_is_503_naming_the_broker_when_it_is_down_and_live_stays_200(own_broker):  # noqa: F811
    assert Client().get("/health/ready").status_code == 200  # the test's own broker, up

    own_broker.stop()
    response = Client().get("/health/ready")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert body["checks"]["database"] == "ok" and body["checks"]["migrations"] == "ok"
    assert body["checks"]["broker"].startswith("unreachable")
    assert str(own_broker.port) not in response.content.decode()  # no URL, no password
    assert Client().get("/health/live").status_code == 200


@pytest.mark.django_db
def test_probes_are_not_a_users_activity_and_not_redirected_to_https(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.IDLE_TIMEOUT_MINUTES = 15
    user = make_user(group="Front desk")
    client = Client()
    client.force_login(user)
    session = client.session
    session["last_activity"] = 1.0  # long ago: the next real page signs out
    session.save()

    for path in ("/health/live", "/health/ready"):
        assert client.get(path).status_code == 200  # plain HTTP, no redirect

    assert client.session.get("last_activity") == 1.0


def waiting_since(seconds: int, **fields) -> Case:
    case = make_case(**fields)
    Case.objects.filter(pk=case.pk).update(status_changed_at=timezone.now() - timedelta(seconds=seconds))
    return case


@pytest.mark.django_db
def test_ready_is_503_naming_a_draft_backlog_older_than_the_setting(settings):
    # Given the drafting workers stalled: a case has waited 10 minutes for its draft
    settings.READY_DRAFT_BACKLOG_SECONDS = 300
    stuck = waiting_since(600, patient=make_patient(family_name="Backlogged"))
    waiting_since(5)

    response = Client().get("/health/ready")

    # Then the load balancer hears of it, with the age and the limit, and nothing about the case
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert body["checks"]["database"] == "ok" and body["checks"]["broker"] == "ok"
    backlog = body["checks"]["draft_backlog"]
    assert backlog.startswith("oldest case waiting for its draft: 6") and backlog.endswith("(limit 300 s)")
    text = response.content.decode()
    assert str(stuck.pk) not in text and stuck.patient.mrn not in text and "Backlogged" not in text
    assert "http" not in text
    assert Client().get("/health/live").status_code == 200


@pytest.mark.django_db
def test_ready_is_200_when_every_waiting_case_is_younger_than_the_setting(settings):
    settings.READY_DRAFT_BACKLOG_SECONDS = 300
    drafted_long_ago = waiting_since(3600)
    make_draft(case_id=drafted_long_ago.pk)  # drafted: no longer waiting
    Case.objects.filter(pk=drafted_long_ago.pk).update(status_changed_at=timezone.now() - timedelta(hours=1))
    waiting_since(250)

    response = Client().get("/health/ready")

    assert Case.objects.get(pk=drafted_long_ago.pk).status == CaseStatus.AWAITING_REVIEW
    assert response.status_code == 200
    assert response.json()["checks"]["draft_backlog"] == "ok"
