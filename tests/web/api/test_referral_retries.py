"""A referral sent again: Idempotency-Key replays, conflicts, races, limits and the throttle."""

import json

import pytest
from django.db import connection

from clinic.web.api import views
from intake.models import Case, IdempotencyRecord
from tests.factories import make_partner
from tests.support import at_once, committed_db
from tests.web.api.test_referrals import (  # noqa: F401  (autouse fixtures come along by name)
    URL,
    _infusion_covered,
    assert_problem,
    body,
    client_for,
    fresh_throttle,
    post,
)


@pytest.mark.django_db
def test_the_same_key_and_body_replays_the_first_response():
    client = client_for()
    first = post(client, body(), **{"Idempotency-Key": "k-1"})
    again = post(client, json.loads(json.dumps(body(), sort_keys=True)), **{"Idempotency-Key": "k-1"})

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Case.objects.count() == 1


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_422():
    client = client_for()
    post(client, body(), **{"Idempotency-Key": "k-2"})
    problem = assert_problem(post(client, body(goals="changed"), **{"Idempotency-Key": "k-2"}), 422)
    assert problem["type"] == "https://clinic.example.org/problems/idempotency-key-reused"
    assert "already used for another request" in problem["detail"]


@pytest.mark.django_db
def test_a_key_still_in_flight_is_409():
    partner, key = make_partner()
    from django.utils import timezone

    from intake.idempotency import fingerprint

    IdempotencyRecord.objects.create(
        partner=partner,
        key="k-3",
        request_hash=fingerprint(method="POST", path=URL, body=json.dumps(body()).encode()).request,
        expires_at=timezone.now() + timezone.timedelta(hours=24),
    )

    problem = assert_problem(post(client_for(key=key), body(), **{"Idempotency-Key": "k-3"}), 409)
    assert problem["type"] == "https://clinic.example.org/problems/idempotency-in-flight"
    assert "still being processed" in problem["detail"]


@pytest.mark.django_db
def test_a_validation_error_is_replayed_too_and_keys_are_per_partner():
    _, key_a = make_partner()
    _, key_b = make_partner()
    bad = body(condition={"icd10": "x"})

    first = post(client_for(key=key_a), bad, **{"Idempotency-Key": "same"})
    again = post(client_for(key=key_a), bad, **{"Idempotency-Key": "same"})
    other_partner = post(client_for(key=key_b), body(), **{"Idempotency-Key": "same"})

    assert first.json() == again.json() and again.status_code == 400
    assert other_partner.status_code == 201


@pytest.mark.django_db
@pytest.mark.parametrize("odd", ["nul\u0000here", "lone\ud800surrogate"])
def test_an_error_that_quotes_odd_characters_is_stored_and_replayed(odd):
    # Found by schemathesis: the 400 quotes the bad site, and jsonb refused to store it.
    client = client_for(key=make_partner()[1])
    bad = body(affected_sites=[odd])

    first = post(client, bad, **{"Idempotency-Key": "odd"})
    again = post(client, bad, **{"Idempotency-Key": "odd"})

    assert first.status_code == again.status_code == 400
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert first.json()["errors"][0]["field"] == "affected_sites.0"


@pytest.mark.django_db
def test_json_nested_deeper_than_python_can_read_is_a_400():
    deep = '{"notes": ' + "[" * 100_000 + "]" * 100_000 + "}"

    response = client_for(key=make_partner()[1]).post(URL, deep, content_type="application/json")

    assert "nested too deeply" in assert_problem(response, 400)["detail"]


@pytest.mark.django_db
def test_a_body_over_the_upload_limit_is_413_not_a_crash(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000
    client = client_for(key=make_partner()[1])

    problem = assert_problem(post(client, body(notes="x" * 200_000)), 413)

    assert "larger than 0.1 MB" in problem["detail"]
    assert not Case.objects.exists()


@committed_db
def test_twenty_concurrent_retries_with_one_key_make_one_referral():
    assert connection.vendor == "postgresql"
    _, key = make_partner()

    def send() -> tuple[int, dict]:
        response = post(client_for(key=key), body(), **{"Idempotency-Key": "burst"})
        return response.status_code, response.json()

    results = at_once(*[send] * 20)

    statuses = sorted(status for status, _ in results)
    print(f"20 concurrent retries: {statuses.count(201)} x 201, {statuses.count(409)} x 409")
    assert Case.objects.count() == 1
    assert set(statuses) <= {201, 409} and 201 in statuses
    assert {data["id"] for status, data in results if status == 201} == {str(Case.objects.get().pk)}


# --- 429 / 500 ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_partner_is_throttled_with_retry_after(settings):
    settings.PARTNER_THROTTLE_RATE = "3/min"
    _, key_a = make_partner()
    _, key_b = make_partner()
    client = client_for(key=key_a)

    codes = [client.get(URL).status_code for _ in range(3)]
    limited = client.get(URL)

    assert codes == [200, 200, 200]
    assert_problem(limited, 429)
    assert 0 < int(limited["Retry-After"]) <= 60
    assert client_for(key=key_b).get(URL).status_code == 200  # partner B has its own budget


@pytest.mark.django_db
def test_an_unexpected_error_is_a_500_problem_and_frees_the_key(monkeypatch):
    def broken(**kwargs):  # fault injection: a bug deep in the service
        raise RuntimeError("boom")

    monkeypatch.setattr(views, "submit_referral", broken)
    client = client_for()

    problem = assert_problem(post(client, body(), **{"Idempotency-Key": "k-500"}), 500)

    assert "boom" not in json.dumps(problem)
    assert not IdempotencyRecord.objects.filter(key="k-500").exists()  # the retry may run
    monkeypatch.undo()
    assert post(client, body(), **{"Idempotency-Key": "k-500"}).status_code == 201


# --- status, list, answer, withdraw ---------------------------------------------------------
