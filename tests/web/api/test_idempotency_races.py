"""Idempotency under concurrency, with committed transactions: duplicates of one request racing
each other act once, and a retry while the first still runs is 409 `idempotency-in-flight`, then
replayed (DESIGN.md, "Partner API v1")."""

import threading

import pytest
from django.conf import settings
from django.db import connection, transaction

from clinic.web.api import throttle
from intake.models import Case, IdempotencyRecord
from tests.factories import make_partner, make_referral
from tests.support import at_once, committed_db, wait_for
from tests.web.api.test_idempotency_bound import (
    IN_FLIGHT,
    PROBLEMS,
    REASON,
    ROUTES,
    client_for,
    notes,
    send,
)


@pytest.fixture(autouse=True)
def fresh_throttle():
    throttle.store(settings.CACHE_URL).reset()


@pytest.fixture(autouse=True)
def _infusion_covered(knee_infusion_protocol):
    """Specialists here may amend knee drafts, which rule set v3 takes under a protocol."""


# The route, and what its one run answers.
RACES = {
    "/api/v1/referrals/": 201,
    "/api/v1/fhir/ServiceRequest": 201,
    "/api/v1/referrals/{id}/information/": 200,
    "/api/v1/referrals/{id}/adverse-events/": 201,
}


def refusal(data: dict) -> str:
    """The problem type a 409 names, from problem+json or an OperationOutcome alike."""
    if "issue" in data:
        return PROBLEMS + data["issue"][0]["details"]["coding"][0]["code"]
    return data["type"]


@committed_db
@pytest.mark.parametrize("name", list(RACES))
def test_racing_duplicates_of_one_request_act_once(name):
    assert connection.vendor == "postgresql"
    route = ROUTES[name]
    partner, key = make_partner()
    ctx = route.setup(partner)
    path, body = route.path.format(**ctx), route.body(ctx)

    def retry():
        response = send(client_for(key), path, body, fhir=route.fhir, key="race")
        return response.status_code, response.json()

    results = at_once(*[retry] * 8)

    done = [data for status, data in results if status != 409]
    waiting = [data for status, data in results if status == 409]
    print(f"\n{name}: {len(done)} answered (first or replayed), {len(waiting)} x 409 in flight")
    assert route.acted(partner, ctx) == 1
    assert done and all(data == done[0] for data in done)
    assert {status for status, _ in results} - {409} == {RACES[name]}
    # Only ever "still running": never a second answer's wrong-status, nor a duplicate referral.
    assert {refusal(data) for data in waiting} <= {IN_FLIGHT}


@committed_db
def test_while_the_first_request_runs_a_retry_is_409_in_flight_then_replayed():
    partner, key = make_partner()
    case = make_referral(partner, external_id="RF-held")
    path, body = f"/api/v1/referrals/{case.pk}/withdraw/", {"reason": REASON}
    locked, release, first = threading.Event(), threading.Event(), {}

    def hold_the_case():
        # Another session holds the case's row, as a specialist's save would: the withdrawal waits.
        with transaction.atomic():
            Case.objects.select_for_update().get(pk=case.pk)
            locked.set()
            release.wait()
        connection.close()

    def withdraw():
        first["response"] = send(client_for(key), path, body, key="slow")
        connection.close()

    holder, sender = threading.Thread(target=hold_the_case), threading.Thread(target=withdraw)
    holder.start()
    locked.wait()
    sender.start()
    try:
        assert wait_for(lambda: IdempotencyRecord.objects.filter(key="slow").exists())
        retry = send(client_for(key), path, body, key="slow")
    finally:
        release.set()
        holder.join()
        sender.join()
    replay = send(client_for(key), path, body, key="slow")

    assert retry.status_code == 409, retry.content
    assert retry.json()["type"] == IN_FLIGHT and "still being processed" in retry.json()["detail"]
    assert first["response"].status_code == 200
    assert (replay.status_code, replay.json()) == (200, first["response"].json())
    assert replay["Idempotent-Replayed"] == "true"
    assert notes(case.pk, REASON) == 1
