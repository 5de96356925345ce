"""The events feed never skips an event, however late its transaction commits, and no cursor a
partner can send turns into a server error."""

import base64
import threading
import time
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from intake.models import Case, PartnerNotification
from intake.services import withdraw_case
from intake.workflow import SYSTEM
from tests.factories import make_partner, make_referral
from tests.support import committed_db

EVENTS = "/api/v1/events/"


def client_for(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@committed_db
def test_an_event_whose_transaction_commits_late_is_still_read_by_a_partner_polling_past_it():
    # Given two referrals of one partner, and a withdrawal whose transaction stays open 4 s
    # (twice the feed's old settle time) after writing its event
    from django.db import connection, transaction

    partner, key = make_partner()
    slow, quick = make_referral(partner, external_id="SLOW-1"), make_referral(partner, external_id="QUICK-1")
    written = threading.Event()

    def withdraw_slowly() -> None:
        try:
            with transaction.atomic():
                withdraw_case(case=Case.objects.get(pk=slow.pk), actor=SYSTEM, reason="held open")
                written.set()
                time.sleep(4)
        finally:
            connection.close()

    holder = threading.Thread(target=withdraw_slowly)
    holder.start()
    assert written.wait(10)
    # When another event commits at once, and the partner polls every 0.3 s with the feed's cursor
    withdraw_case(case=Case.objects.get(pk=quick.pk), actor=SYSTEM, reason="at once")
    client, cursor, seen = client_for(key), "", []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len(seen) < 2:
        page = client.get(EVENTS, {"after": cursor} if cursor else {}).json()
        seen += [event["data"]["external_id"] for event in page["events"]]
        cursor = page["next"]
        time.sleep(0.3)
    holder.join()

    # Then both events are read, each once, the late one first (its transaction began first)
    assert seen == ["SLOW-1", "QUICK-1"]


@pytest.mark.django_db
def test_the_crafted_cursor_of_the_report_and_another_partners_event_are_400s_not_500s():
    partner, key = make_partner()
    other, _ = make_partner()
    withdraw_case(case=make_referral(other, external_id="X-1"), actor=SYSTEM, reason="test")
    others_event = PartnerNotification.objects.get(partner=other)
    client = client_for(key)

    for cursor in (
        b64(f"2026-12-01T10:00:00+23:59|{uuid.uuid4()}"),
        b64(f"9999-12-31T23:59:59+23:59|{uuid.uuid4()}"),
        b64(str(others_event.pk)),
        b64(f"2026-01-01T00:00:00+00:00|{others_event.pk}"),
        "\x00",
        "é" * 10,
        "A" * 5000,
    ):
        response = client.get(EVENTS, {"after": cursor})
        assert response.status_code == 400, cursor
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["errors"][0]["field"] == "after"


@pytest.mark.django_db
def test_a_cursor_of_the_earlier_form_still_reads_on_from_its_event():
    partner, key = make_partner()
    for n in (1, 2):
        withdraw_case(case=make_referral(partner, external_id=f"OLD-{n}"), actor=SYSTEM, reason="test")
    first = PartnerNotification.objects.get(case__external_id="OLD-1")
    old_form = b64(f"{first.created_at.isoformat()}|{first.pk}")

    page = client_for(key).get(EVENTS, {"after": old_form}).json()

    assert [e["data"]["external_id"] for e in page["events"]] == ["OLD-2"]


@pytest.mark.django_db
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cursor=st.one_of(st.text(max_size=80), st.binary(max_size=60).map(lambda b: b64(b.decode("latin-1")))))
def test_no_cursor_at_all_gives_a_server_error(cursor):
    _, key = make_partner()
    response = client_for(key).get(EVENTS, {"after": cursor})
    assert response.status_code in (200, 400), (cursor, response.status_code)
