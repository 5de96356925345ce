"""The referral path's cost in statements, and what it still guarantees without savepoints."""

import copy

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from clinic.web.api import throttle
from intake.audit import verify_chains
from intake.models import Case, CaseEvent, Patient
from tests.factories import make_partner, referral_body
from tests.support import at_once, committed_db

URL = "/api/v1/referrals/"
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK")


@pytest.fixture(autouse=True)
def fresh_throttle():
    throttle.store(settings.CACHE_URL).reset()


def new_person_body(external_id: str, family_name: str) -> dict:
    data = copy.deepcopy(referral_body(external_id=external_id))
    data["patient"] |= {"family_name": family_name, "birth_date": "1970-03-04", "phone": "", "email": ""}
    return data


def send(key: str, data: dict, **headers):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client.post(URL, data, format="json", headers=headers)


def statements(queries) -> list[str]:
    return [q["sql"] for q in queries]


@committed_db
def test_a_new_referral_for_a_new_patient_costs_at_most_six_statements():
    # Committed transactions, as in production: a test transaction would add savepoints.
    _, key = make_partner()
    send(key, new_person_body("warm-up", "Warm"))  # the first request loads what a process caches

    with CaptureQueriesContext(connection) as plain:
        without_key = send(key, new_person_body("RF-1", "Okonkwo"))
    with CaptureQueriesContext(connection) as keyed:
        with_key = send(key, new_person_body("RF-2", "Nakamura"), **{"Idempotency-Key": "k-2"})

    assert (without_key.status_code, with_key.status_code) == (201, 201)
    sent, sent_keyed = statements(plain.captured_queries), statements(keyed.captured_queries)
    print(f"\nwithout Idempotency-Key: {len(sent)} statements", *sent, sep="\n  ")
    print(f"with Idempotency-Key: {len(sent_keyed)} statements", *sent_keyed, sep="\n  ")
    # Without a key: BEGIN, the patient match, 3 INSERTs, COMMIT. The API key was verified by the
    # warm-up request and is remembered; a repeated external_id is found by the unique index.
    assert len(sent) <= 6
    assert not [s for s in sent if "intake_partnerapikey" in s]
    # With a key, the key's own INSERT (committed alone) and UPDATE come on top of the work:
    # still at most eight queries when BEGIN and COMMIT are not counted.
    assert len([s for s in sent_keyed if s not in TRANSACTION_CONTROL]) <= 8
    assert not [s for s in sent + sent_keyed if "SAVEPOINT" in s]
    # The case number came from the INSERT itself, and the chain is whole.
    for response in (without_key, with_key):
        case = Case.objects.get(pk=response.json()["id"])
        assert case.number and case.reference.startswith("C-")
        assert case.audit_length == CaseEvent.objects.filter(case=case).count() == 1
    assert list(verify_chains()) == []


@committed_db
def test_one_external_id_sent_by_ten_at_once_without_keys_opens_one_case():
    """The unique index decides the race, and the losers (run again, now checking first) answer
    409 naming the winner, never 500."""
    assert connection.vendor == "postgresql"
    _, key = make_partner()
    data = new_person_body("RF-race", "Race")

    results = at_once(*[lambda: send(key, data)] * 10)

    statuses = sorted(r.status_code for r in results)
    winner = Case.objects.get()
    print(f"\nten at once: {statuses.count(201)} x 201, {statuses.count(409)} x 409")
    assert statuses == [201] + [409] * 9
    assert {r.json()["referral_id"] for r in results if r.status_code == 409} == {str(winner.pk)}
    assert Patient.objects.count() == 1  # the losers' patients were rolled back with them


@committed_db
def test_one_external_id_under_ten_different_keys_at_once_opens_one_case():
    _, key = make_partner()
    data = new_person_body("RF-keys", "Keys")

    results = at_once(*[lambda i=i: send(key, data, **{"Idempotency-Key": f"k-{i}"}) for i in range(10)])

    statuses = sorted(r.status_code for r in results)
    assert statuses == [201] + [409] * 9
    assert Case.objects.count() == 1 and Patient.objects.count() == 1
    # Each key keeps the answer it got, so each retry replays it.
    replay = send(key, data, **{"Idempotency-Key": "k-3"})
    assert (replay.status_code, replay.json()) == (results[3].status_code, results[3].json())
    assert replay["Idempotent-Replayed"] == "true"
