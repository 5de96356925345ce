"""A partner developer's tools: the events feed, the webhook deliveries list, resend and ping."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from standardwebhooks import Webhook

from clinic.web import webhooks
from intake.models import Case, Partner, PartnerNotification
from recommendations import review
from recommendations.services import make_draft
from tests.factories import make_partner, make_referral, make_user

EVENTS = "/api/v1/events/"
DELIVERIES = "/api/v1/webhook-deliveries/"
PING = "/api/v1/webhooks/test"


def client_for(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def decided(partner: Partner, external_id: str) -> Case:
    case = make_referral(partner, external_id=external_id)
    make_draft(case_id=case.pk)
    review.approve_draft(case_id=case.pk, user=make_user(group="Specialists"))
    return case


def settled() -> None:
    """On SQLite events are listed once they are two seconds old; age the new ones instead of
    waiting (on PostgreSQL, which the tests run on, the feed orders by transaction instead)."""
    now = timezone.now()
    PartnerNotification.objects.filter(created_at__gt=now - timedelta(seconds=3)).update(
        created_at=now - timedelta(seconds=3)
    )


@pytest.mark.django_db
def test_the_feed_lists_the_partners_own_events_oldest_first_with_the_webhooks_payload():
    partner, key = make_partner()
    first, second = decided(partner, "RF-1"), decided(partner, "RF-2")
    decided(make_partner()[0], "RF-1")  # another partner's event
    for n, notification in enumerate(
        PartnerNotification.objects.filter(partner=partner).order_by("created_at")
    ):
        PartnerNotification.objects.filter(pk=notification.pk).update(
            created_at=timezone.now() - timedelta(minutes=10 - n)
        )

    page = client_for(key).get(EVENTS).json()

    assert [e["data"]["id"] for e in page["events"]] == [str(first.pk), str(second.pk)]
    stored = PartnerNotification.objects.get(case=first)
    assert page["events"][0] == {"id": f"msg_{stored.pk.hex}", **stored.payload}
    assert page["has_more"] is False


@pytest.mark.django_db
def test_reading_on_from_a_cursor_gives_only_what_came_after_and_nothing_is_read_twice():
    partner, key = make_partner()
    decided(partner, "RF-1")
    settled()
    client = client_for(key)
    cursor = client.get(EVENTS).json()["next"]

    again = client.get(EVENTS, {"after": cursor}).json()
    assert again["events"] == [] and again["next"] == cursor  # nothing new: poll with the same cursor

    later = decided(partner, "RF-2")
    (event,) = client.get(EVENTS, {"after": cursor}).json()["events"]
    assert event["data"]["id"] == str(later.pk)


@pytest.mark.django_db
def test_events_a_month_old_are_still_listed_and_pages_say_when_more_wait(monkeypatch):
    monkeypatch.setattr("clinic.web.api.integration.EVENTS_PER_PAGE", 2)
    partner, key = make_partner()
    for n in range(3):
        decided(partner, f"RF-{n}")
    PartnerNotification.objects.update(created_at=timezone.now() - timedelta(days=31))
    client = client_for(key)

    first = client.get(EVENTS).json()
    rest = client.get(EVENTS, {"after": first["next"]}).json()

    assert len(first["events"]) == 2 and first["has_more"] is True
    assert len(rest["events"]) == 1 and rest["has_more"] is False


@pytest.mark.django_db
@pytest.mark.parametrize("cursor", ["nonsense", "bm90LWEtZGF0ZXx4", "MjAyNi0wMS0wMXxub3QtYS11dWlk"])
def test_a_cursor_the_feed_did_not_give_is_a_clear_400(cursor):
    _, key = make_partner()

    response = client_for(key).get(EVENTS, {"after": cursor})

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "after"


@pytest.mark.django_db
def test_a_fhir_partners_feed_carries_the_bundle_its_webhook_carries(receiver):
    partner, key = make_partner(webhook_format="fhir")
    decided(partner, "RF-1")
    settled()

    (event,) = client_for(key).get(EVENTS).json()["events"]

    assert event["data"]["resourceType"] == "Bundle"
    assert (
        PartnerNotification.objects.get().payload["data"] == event["data"]
    )  # stored: a webhook sends the same


@pytest.mark.django_db
def test_the_deliveries_list_shows_each_attempt_and_the_next_retry(receiver):
    endpoint = receiver(codes=(503,))
    partner, key = make_partner(webhook_url=endpoint.url)
    case = decided(partner, "RF-1")

    webhooks.deliver(notification_id=PartnerNotification.objects.get(case=case).pk)

    (delivery,) = client_for(key).get(DELIVERIES).json()["results"]
    assert delivery["event_type"] == "referral.decided" and delivery["referral_id"] == str(case.pk)
    assert delivery["state"] == "pending" and delivery["next_retry_at"] is not None
    (attempt,) = delivery["attempts"]
    assert attempt["status_code"] == 503 and attempt["error"] == "HTTP 503" and attempt["url"] == endpoint.url
    assert client_for(key).get(DELIVERIES, {"state": "delivered"}).json()["results"] == []
    assert client_for(key).get(DELIVERIES, {"state": "lost"}).status_code == 400


@pytest.mark.django_db
def test_resend_sends_the_same_event_again_now(receiver):
    endpoint = receiver()
    partner, key = make_partner(webhook_url=endpoint.url)
    notification = PartnerNotification.objects.get(case=decided(partner, "RF-1"))
    webhooks.deliver(notification_id=notification.pk)
    assert webhooks.deliver(notification_id=notification.pk) is None  # delivered: nothing is due

    response = client_for(key).post(f"{DELIVERIES}{notification.pk}/resend")
    webhooks.deliver(notification_id=notification.pk)  # what the queued task does

    assert response.status_code == 202
    assert response.json()["state"] == "pending"
    assert len(endpoint.received) == 2
    assert endpoint.received[-1][0]["webhook-id"] == f"msg_{notification.pk.hex}"


@pytest.mark.django_db
def test_another_partners_delivery_is_not_found_and_nothing_is_sent(receiver):
    endpoint = receiver()
    owner, _ = make_partner(webhook_url=endpoint.url)
    _, other_key = make_partner()
    notification = PartnerNotification.objects.get(case=decided(owner, "RF-1"))

    response = client_for(other_key).post(f"{DELIVERIES}{notification.pk}/resend")

    assert response.status_code == 404
    notification.refresh_from_db()
    assert notification.attempts == 0 and endpoint.received == []


@pytest.mark.django_db
def test_ping_sends_a_signed_event_now_and_answers_with_what_the_endpoint_said(receiver):
    endpoint = receiver(codes=(204,))
    partner, key = make_partner(webhook_url=endpoint.url)

    response = client_for(key).post(PING)

    assert response.status_code == 200
    body = response.json()
    assert body["event_type"] == "ping" and body["state"] == "delivered" and body["referral_id"] is None
    assert body["attempts"][0]["status_code"] == 204
    ((headers, raw),) = endpoint.received
    assert Webhook(partner.webhook_secret).verify(raw, headers)["type"] == "ping"
    settled()
    assert client_for(key).get(EVENTS).json()["events"] == []  # a ping is a test, not an event
    assert client_for(key).post(f"{DELIVERIES}{body['id']}/resend").status_code == 409  # nor is it resent
    assert len(endpoint.received) == 1


@pytest.mark.django_db
def test_a_ping_that_fails_says_why_and_is_not_retried(receiver):
    endpoint = receiver(codes=(500,))
    _, key = make_partner(webhook_url=endpoint.url)

    body = client_for(key).post(PING).json()

    assert body["state"] == "failed" and body["next_retry_at"] is None
    assert body["attempts"][0]["error"] == "HTTP 500"


@pytest.mark.django_db
def test_without_a_webhook_url_ping_and_resend_say_what_to_do():
    partner, key = make_partner()
    notification = PartnerNotification.objects.get(case=decided(partner, "RF-1"))

    ping = client_for(key).post(PING)
    resend = client_for(key).post(f"{DELIVERIES}{notification.pk}/resend")

    for response in (ping, resend):
        assert response.status_code == 409
        assert "/api/v1/events/" in response.json()["detail"]
    assert PartnerNotification.objects.count() == 1


@pytest.mark.django_db
def test_pings_are_limited_to_six_a_minute_as_each_holds_a_web_process(receiver):
    endpoint = receiver(codes=(204,))
    _, key = make_partner(webhook_url=endpoint.url)
    client = client_for(key)

    answers = [client.post(PING).status_code for _ in range(7)]

    assert answers == [200] * 6 + [429]
    assert len(endpoint.received) == 6
