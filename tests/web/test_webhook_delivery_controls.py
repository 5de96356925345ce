"""Delivery as Standard Webhooks asks (issue #30, item 5): a receiver answering 410 Gone disables the
partner's webhooks until someone re-enables them, retries are spread by jitter, and a rotated signing
secret signs beside the new one for an overlap. Real receivers, verified with `standardwebhooks`."""

import random
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.utils import timezone
from standardwebhooks import Webhook

from clinic.web import tasks, webhooks
from intake.models import Partner, PartnerNotification, WebhookAttempt
from tests.factories import make_partner, make_user
from tests.web.api.test_integration import client_for, decided

DELIVERIES = "/api/v1/webhook-deliveries/"
PARTNERS = "/admin/intake/partner/"


def admin_client(client):
    client.force_login(make_user(is_staff=True, is_superuser=True))
    return client


def sweep() -> int:
    """What the periodic task does every WEBHOOK_SWEEP_SECONDS: send every due delivery."""
    return tasks.deliver_due_notifications()


# --- 410 Gone ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_receiver_answering_410_is_disabled_after_that_delivery_and_later_events_wait(receiver):
    endpoint = receiver(codes=(410,))
    partner, key = make_partner(webhook_url=endpoint.url)
    first = PartnerNotification.objects.get(case=decided(partner, "RF-1"))

    assert webhooks.deliver(notification_id=first.pk) == "pending"

    partner.refresh_from_db()
    assert partner.webhook_disabled_at is not None
    assert (
        "410 Gone" in partner.webhook_disabled_reason
        and f"msg_{first.pk.hex}" in partner.webhook_disabled_reason
    )
    # A later event is still written (nothing is lost) but nothing is sent, now or by the sweep
    second = PartnerNotification.objects.get(case=decided(partner, "RF-2"))
    assert second.state == "pending"
    PartnerNotification.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=1))
    assert webhooks.deliver(notification_id=second.pk) is None
    assert sweep() == 0
    assert len(endpoint.received) == 1

    # The partner's delivery log says why on each waiting delivery
    deliveries = client_for(key).get(DELIVERIES).json()["results"]
    assert {d["id"] for d in deliveries} == {str(first.pk), str(second.pk)}
    for delivery in deliveries:
        assert delivery["state"] == "pending" and delivery["next_retry_at"] is None
        assert "410 Gone" in delivery["endpoint_disabled"]["reason"]
        assert "re-enabled" in delivery["endpoint_disabled"]["reason"]
    (gone,) = next(d for d in deliveries if d["id"] == str(first.pk))["attempts"]
    assert gone["status_code"] == 410 and "disabled" in gone["error"]


@pytest.mark.django_db
def test_while_disabled_a_partner_cannot_resend_or_ping_and_is_told_why(receiver):
    endpoint = receiver(codes=(410,))
    partner, key = make_partner(webhook_url=endpoint.url)
    notification = PartnerNotification.objects.get(case=decided(partner, "RF-1"))
    webhooks.deliver(notification_id=notification.pk)
    api = client_for(key)

    for response in (api.post(f"{DELIVERIES}{notification.pk}/resend"), api.post("/api/v1/webhooks/test")):
        assert response.status_code == 409
        assert response["Content-Type"] == "application/problem+json"
        problem = response.json()
        assert problem["type"].endswith("/webhooks-disabled")
        assert "410 Gone" in problem["detail"] and "re-enabled" in problem["detail"]
    assert len(endpoint.received) == 1


@pytest.mark.django_db
def test_a_ping_answered_410_disables_webhooks_too(receiver):
    endpoint = receiver(codes=(410,))
    partner, key = make_partner(webhook_url=endpoint.url)

    ping = client_for(key).post("/api/v1/webhooks/test").json()

    assert ping["state"] == "failed" and ping["attempts"][0]["status_code"] == 410
    assert Partner.objects.get(pk=partner.pk).webhook_disabled_at is not None


@pytest.mark.django_db
def test_the_admin_sees_why_and_re_enabling_sends_what_waited(receiver, client):
    endpoint = receiver(codes=(410, 200))
    partner, _ = make_partner(name="Northside Clinic", webhook_url=endpoint.url)
    first = PartnerNotification.objects.get(case=decided(partner, "RF-1"))
    webhooks.deliver(notification_id=first.pk)
    second = PartnerNotification.objects.get(case=decided(partner, "RF-2"))
    admin = admin_client(client)

    # The partner list and page, and the outbox, say webhooks are disabled and why
    assert "Disabled (410 Gone)" in admin.get(PARTNERS).content.decode()
    page = admin.get(f"{PARTNERS}{partner.pk}/change/").content.decode()
    assert "Disabled since" in page and "answered 410 Gone" in page and "2 waiting deliveries" in page
    outbox = admin.get(f"/admin/intake/partnernotification/{second.pk}/change/").content.decode()
    assert "webhooks to be re-enabled" in outbox and "answered 410 Gone" in outbox
    outbox = admin.get("/admin/intake/partnernotification/").content.decode()
    assert outbox.count("When webhooks are re-enabled (410 Gone)") == 2

    # One action re-enables them; what waited goes out with the next sweep
    done = admin.post(
        PARTNERS, {"action": "reenable_webhooks", "_selected_action": [str(partner.pk)]}, follow=True
    ).content.decode()
    assert "Webhooks of Northside Clinic re-enabled: 2 waiting deliveries go out now." in done
    assert sweep() == 2
    assert set(PartnerNotification.objects.values_list("state", flat=True)) == {"delivered"}
    assert len(endpoint.received) == 3
    for headers, body in endpoint.received[1:]:
        Webhook(partner.webhook_secret).verify(body, headers)
    # Recorded in the partner's history, with who did it
    entry = LogEntry.objects.get(object_id=str(partner.pk))
    assert "Re-enabled webhooks" in entry.get_change_message() and entry.user.is_superuser
    assert "Sending" in admin.get(PARTNERS).content.decode()


@pytest.mark.django_db
def test_a_new_webhook_url_re_enables_webhooks(receiver, client):
    gone, new = receiver(codes=(410,)), receiver()
    partner, _ = make_partner(webhook_url=gone.url)
    webhooks.deliver(notification_id=PartnerNotification.objects.get(case=decided(partner, "RF-1")).pk)
    admin = admin_client(client)
    url = f"{PARTNERS}{partner.pk}/change/"
    form = admin.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {name: value for name, value in data.items() if value not in (None, False)}

    admin.post(url, data | {"webhook_url": new.url}, follow=True)

    partner.refresh_from_db()
    assert partner.webhook_url == new.url and partner.webhook_disabled_at is None
    assert sweep() == 1 and len(new.received) == 1
    history = [entry.get_change_message() for entry in LogEntry.objects.filter(object_id=str(partner.pk))]
    assert "Re-enabled webhooks for the new URL; 1 due now." in history


@pytest.mark.django_db
def test_an_admin_saving_the_partner_page_keeps_a_secret_rotated_meanwhile(client):
    from intake.partner_webhooks import rotate_webhook_secret

    partner, _ = make_partner()
    admin = admin_client(client)
    url = f"{PARTNERS}{partner.pk}/change/"
    form = admin.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {name: value for name, value in data.items() if value not in (None, False)}
    rotated = rotate_webhook_secret(partner_id=partner.pk, by="test")  # while the page is open

    admin.post(url, data | {"name": "Renamed Clinic"}, follow=True)

    partner.refresh_from_db()
    assert partner.name == "Renamed Clinic" and partner.webhook_secret == rotated.secret


# --- jitter --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_two_deliveries_failing_at_the_same_moment_are_retried_at_different_instants(receiver, monkeypatch):
    monkeypatch.setattr(webhooks, "jitter_source", random.Random(1))  # draws 25.6 s then 34.2 s
    endpoint = receiver(codes=(503,))
    partner, _ = make_partner(webhook_url=endpoint.url)
    decided(partner, "RF-1"), decided(partner, "RF-2")

    assert sweep() == 2  # one partner's outage: both fail in the same sweep

    first, second = PartnerNotification.objects.order_by("created_at")
    # Without jitter both would come back at one instant (milliseconds apart); now seconds apart
    assert second.next_attempt_at - first.next_attempt_at > timedelta(seconds=5)
    for notification in (first, second):
        attempted = WebhookAttempt.objects.get(notification=notification).attempted_at
        assert timedelta(seconds=24) <= notification.next_attempt_at - attempted <= timedelta(seconds=36)


@pytest.mark.django_db
def test_the_outbox_does_not_resend_to_a_disabled_endpoint_and_says_why(receiver, client):
    endpoint = receiver(codes=(410,))
    partner, _ = make_partner(webhook_url=endpoint.url)
    notification = PartnerNotification.objects.get(case=decided(partner, "RF-1"))
    webhooks.deliver(notification_id=notification.pk)

    page = (
        admin_client(client)
        .post(
            "/admin/intake/partnernotification/",
            {"action": "resend_now", "_selected_action": [str(notification.pk)]},
            follow=True,
        )
        .content.decode()
    )

    assert "1 could not be sent: the partner&#x27;s webhooks are disabled" in page
    assert sweep() == 0 and len(endpoint.received) == 1


@pytest.mark.django_db
def test_staff_who_may_only_view_partners_cannot_re_enable_their_webhooks(client):
    # Given a partner whose webhooks a 410 disabled, and a staff member allowed only to view partners
    partner, _ = make_partner()
    Partner.objects.filter(pk=partner.pk).update(
        webhook_disabled_at=timezone.now(), webhook_disabled_reason="410"
    )
    viewer = make_user("partner_viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_partner"))
    client.force_login(viewer)

    # When they try the admin action, then the webhooks stay disabled
    client.post(
        "/admin/intake/partner/", {"action": "reenable_webhooks", "_selected_action": [str(partner.pk)]}
    )
    partner.refresh_from_db()
    assert partner.webhook_disabled_at is not None
