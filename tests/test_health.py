"""Health checks as a load balancer and a supervisor use them (clinic.health)."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.factories import make_user
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
        "checks": {"database": "ok", "migrations": "ok", "broker": "ok"},
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
