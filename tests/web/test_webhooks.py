"""Webhooks delivered to a real HTTP server the test starts, verified with `standardwebhooks`."""

import json
import random
import socket
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from standardwebhooks import Webhook

from clinic.web import webhooks
from intake import webhook_urls
from intake.clinical import Answer
from intake.models import Case, PartnerNotification, WebhookAttempt
from intake.services import answer_information
from intake.workflow import SYSTEM
from recommendations import review
from recommendations.services import make_draft
from tests.factories import make_partner, make_referral, make_user
from tests.support import committed_db, wait_for


def decided_partner_case(partner) -> Case:
    case = make_referral(partner, external_id="RF-7")
    make_draft(case_id=case.pk)
    review.approve_draft(case_id=case.pk, user=make_user(group="Specialists"))
    return case


@pytest.mark.django_db
def test_a_decision_reaches_the_partner_signed_per_standard_webhooks(receiver):
    endpoint = receiver()
    partner, _ = make_partner(webhook_url=endpoint.url)
    case = decided_partner_case(partner)
    notification = PartnerNotification.objects.get(case=case)

    assert webhooks.deliver(notification_id=notification.pk) == "delivered"

    ((headers, body),) = endpoint.received
    payload = Webhook(partner.webhook_secret).verify(body, headers)  # raises if the signature is wrong
    assert payload["type"] == "referral.decided"
    assert payload["data"]["id"] == str(case.pk) and payload["data"]["external_id"] == "RF-7"
    assert payload["data"]["decision"]["route"] == "local_injection"
    assert headers["webhook-id"] == f"msg_{notification.pk.hex}"
    notification.refresh_from_db()
    assert notification.state == "delivered" and notification.attempts == 1
    assert WebhookAttempt.objects.get(notification=notification).status_code == 200


@pytest.mark.django_db
def test_a_fhir_partner_receives_the_referrals_fhir_bundle(receiver):
    endpoint = receiver()
    partner, _ = make_partner(webhook_url=endpoint.url, webhook_format="fhir")
    case = decided_partner_case(partner)

    webhooks.deliver(notification_id=PartnerNotification.objects.get(case=case).pk)

    ((headers, body),) = endpoint.received
    payload = Webhook(partner.webhook_secret).verify(body, headers)
    assert payload["type"] == "referral.decided"
    Bundle.model_validate(payload["data"])
    resources = {entry["resource"]["resourceType"]: entry["resource"] for entry in payload["data"]["entry"]}
    assert resources["ServiceRequest"]["id"] == str(case.pk)
    assert resources["Task"]["status"] == "completed"
    assert "Provenance" in resources


@pytest.mark.django_db
def test_a_fhir_bundle_tells_the_events_state_even_if_the_case_moved_on_before_it_was_sent(receiver):
    # Given a FHIR partner asked a question, and the desk answered before the webhook went out
    endpoint = receiver(codes=(503, 200))
    partner, _ = make_partner(webhook_url=endpoint.url, webhook_format="fhir")
    case = make_referral(partner, external_id="RF-8")
    make_draft(case_id=case.pk)
    review.request_information(case_id=case.pk, user=make_user(group="Specialists"), question="Which knee?")
    answer_information(case=Case.objects.get(pk=case.pk), actor=SYSTEM, answer=Answer("The right one"))
    notification = PartnerNotification.objects.get(case=case, event_type="referral.needs_information")

    # When it is sent, fails, and is sent again
    webhooks.deliver(notification_id=notification.pk)
    PartnerNotification.objects.filter(pk=notification.pk).update(next_attempt_at=timezone.now())
    webhooks.deliver(notification_id=notification.pk)

    # Then both attempts carry the same Bundle, which shows the question, not today's status
    (_, first), (headers, second) = endpoint.received
    assert first == second
    bundle = Webhook(partner.webhook_secret).verify(second, headers)["data"]
    task = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Task")
    assert task["status"] == "on-hold" and task["statusReason"]["text"] == "Which knee?"


@pytest.mark.django_db
def test_a_failing_receiver_is_retried_with_backoff_and_every_attempt_is_logged(receiver, monkeypatch):
    monkeypatch.setattr(webhooks, "jitter_source", random.Random(30))
    same_draws = random.Random(30)
    expected = [webhooks.backoff(n, rng=same_draws) for n in (1, 2)]
    endpoint = receiver(codes=(500, 503, 200))
    partner, _ = make_partner(webhook_url=endpoint.url)
    notification = PartnerNotification.objects.get(case=decided_partner_case(partner))
    delays = []

    for _ in range(3):
        webhooks.deliver(notification_id=notification.pk)
        notification.refresh_from_db()
        delays.append(notification.next_attempt_at - timezone.now())
        # Let the clock run to the next attempt.
        PartnerNotification.objects.filter(pk=notification.pk).update(next_attempt_at=timezone.now())

    attempts = list(WebhookAttempt.objects.filter(notification=notification).order_by("attempted_at"))
    assert [a.status_code for a in attempts] == [500, 503, 200]
    assert attempts[0].error == "HTTP 500"
    assert notification.state == "delivered"
    # The first retry after 30 s give or take 20%, then doubling (measured just after each attempt)
    assert timedelta(seconds=24) <= expected[0] <= timedelta(seconds=36)
    assert timedelta(seconds=48) <= expected[1] <= timedelta(seconds=72)
    for delay, wait in zip(delays, expected, strict=False):
        assert wait - timedelta(seconds=5) < delay <= wait
    ids = {headers["webhook-id"] for headers, _ in endpoint.received}
    assert len(ids) == 1  # the same webhook-id on every retry


@pytest.mark.django_db
def test_an_unreachable_receiver_is_logged_and_given_up_after_a_day(receiver):
    endpoint = receiver()
    partner, _ = make_partner(webhook_url=endpoint.url)
    notification = PartnerNotification.objects.get(case=decided_partner_case(partner))
    endpoint.close()

    webhooks.deliver(notification_id=notification.pk)
    first = WebhookAttempt.objects.get(notification=notification)
    assert first.status_code is None and first.error
    # A day and more later, the last attempt fails too:
    PartnerNotification.objects.filter(pk=notification.pk).update(
        created_at=timezone.now() - timedelta(hours=26), next_attempt_at=timezone.now()
    )
    assert webhooks.deliver(notification_id=notification.pk) == "failed"


def test_backoff_doubles_up_to_its_cap_with_jitter_and_retries_span_more_than_a_day(settings):
    draws = random.Random(7)
    for attempts, step in [(1, 30), (2, 60), (3, 120), (4, 240), (8, 3600), (11, 3600)]:
        waits = [webhooks.backoff(attempts, rng=draws).total_seconds() for _ in range(200)]
        # Within 20% of the doubling step (capped at an hour), and spread over that range
        assert step * 0.8 <= min(waits) < step * 0.85 and step * 1.15 < max(waits) <= step * 1.2
        assert len(set(waits)) == len(waits)
    assert settings.WEBHOOK_RETRY_MAX_SECONDS == 3600
    assert settings.WEBHOOK_GIVE_UP_HOURS >= 24


@pytest.mark.django_db
def test_only_one_process_sends_a_notification_at_a_time(receiver):
    endpoint = receiver()
    partner, _ = make_partner(webhook_url=endpoint.url)
    notification = PartnerNotification.objects.get(case=decided_partner_case(partner))

    results = [webhooks.deliver(notification_id=notification.pk) for _ in range(3)]

    assert results == ["delivered", None, None]
    assert len(endpoint.received) == 1


@pytest.mark.django_db
def test_needs_information_and_withdrawn_are_notified_too(receiver):
    from intake.services import withdraw_case
    from intake.workflow import SYSTEM

    endpoint = receiver()
    partner, _ = make_partner(webhook_url=endpoint.url)
    first = decided_partner_case(partner)
    other = make_referral(partner, external_id="RF-8")
    make_draft(case_id=other.pk)
    review.request_information(case_id=other.pk, user=make_user(group="Specialists"), question="Which knee?")
    other.refresh_from_db()
    withdraw_case(case=other, actor=SYSTEM, reason="Patient moved")

    kinds = list(PartnerNotification.objects.order_by("created_at").values_list("event_type", flat=True))
    assert kinds == ["referral.decided", "referral.needs_information", "referral.withdrawn"]
    question = PartnerNotification.objects.get(event_type="referral.needs_information").payload["data"]
    assert question["question"] == "Which knee?" and first.pk


@pytest.mark.django_db
def test_private_addresses_are_refused_in_production(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    for url in (
        "http://127.0.0.1/hook",
        "http://10.0.0.5/hook",
        "http://169.254.169.254/latest",
        "http://localhost:8000/",
        "http://[::1]/",
        "ftp://example.org/",
    ):
        with pytest.raises(webhook_urls.UnsafeWebhookURL):
            webhook_urls.check_url(url)
    webhook_urls.check_url("https://93.184.215.14/hook")  # a public address is fine

    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        make_partner(webhook_url="http://192.168.1.10/hook")


@pytest.mark.django_db
def test_a_partner_url_that_turned_private_is_not_called(settings, receiver):
    endpoint = receiver()
    partner, _ = make_partner(webhook_url=endpoint.url)
    notification = PartnerNotification.objects.get(case=decided_partner_case(partner))
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False

    webhooks.deliver(notification_id=notification.pk)

    assert endpoint.received == []
    assert "loopback" in WebhookAttempt.objects.get(notification=notification).error


@pytest.mark.django_db
def test_resend_from_the_admin_sends_again(receiver, client):
    endpoint = receiver()
    partner, _ = make_partner(webhook_url=endpoint.url)
    notification = PartnerNotification.objects.get(case=decided_partner_case(partner))
    PartnerNotification.objects.filter(pk=notification.pk).update(state="failed")
    client.force_login(make_user(is_staff=True, is_superuser=True))

    page = client.post(
        "/admin/intake/partnernotification/",
        {"action": "resend_now", "_selected_action": [str(notification.pk)]},
        follow=True,
    ).content.decode()
    assert "1 notification(s) will be sent again now" in page
    notification.refresh_from_db()
    assert notification.state == "pending"
    webhooks.deliver(notification_id=notification.pk)
    assert len(endpoint.received) == 1
    page = client.get(f"/admin/intake/partnernotification/{notification.pk}/change/").content.decode()
    assert "200" in page and endpoint.url in page


@pytest.mark.worker
@committed_db
def test_a_real_worker_delivers_the_webhook_after_the_decision_commits(celery_worker_process, receiver):
    endpoint = receiver()
    partner, _ = make_partner(webhook_url=endpoint.url)

    case = decided_partner_case(partner)  # committed: the delivery task is queued on commit

    assert wait_for(lambda: endpoint.received, timeout=30)
    headers, body = endpoint.received[0]
    assert Webhook(partner.webhook_secret).verify(body, headers)["data"]["id"] == str(case.pk)
    assert wait_for(lambda: PartnerNotification.objects.get(case=case).state == "delivered", timeout=10)
    assert json.loads(body)["type"] == "referral.decided"


class ChangingResolver:
    """A DNS that answers one thing, then another (DNS rebinding)."""

    def __init__(self, *answers: str):
        self.answers, self.calls = list(answers), 0

    def __call__(self, host, port, *args, **kwargs):
        self.calls += 1
        address = self.answers[min(self.calls, len(self.answers)) - 1]
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]


@pytest.mark.django_db
def test_the_webhook_connects_to_the_address_that_was_checked_whatever_dns_says_next(monkeypatch, settings):
    # Given a partner host that resolves to a public address, then to this machine
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    resolver = ChangingResolver("93.184.215.14", "127.0.0.1")
    monkeypatch.setattr(webhook_urls, "getaddrinfo", resolver)
    partner, _ = make_partner(webhook_url="https://partner.example.org/hooks")
    notification = PartnerNotification.objects.get(case=decided_partner_case(partner))
    connected = []

    def connect(address, timeout=None, *args):
        connected.append(address)
        raise ConnectionRefusedError("no network in tests")

    monkeypatch.setattr(webhooks.socket, "create_connection", connect)
    resolver.calls = 0  # the partner was checked when it was saved; now the delivery

    webhooks.deliver(notification_id=notification.pk)

    # Then the name was resolved once, and the connection went to that very address
    assert resolver.calls == 1
    assert connected == [("93.184.215.14", 443)]


@pytest.mark.django_db
def test_a_rebound_answer_is_refused_before_any_connection(monkeypatch, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    monkeypatch.setattr(webhook_urls, "getaddrinfo", ChangingResolver("93.184.215.14", "169.254.169.254"))
    partner, _ = make_partner(webhook_url="https://partner.example.org/hooks")  # checked: public
    notification = PartnerNotification.objects.get(case=decided_partner_case(partner))

    webhooks.deliver(notification_id=notification.pk)  # now it answers the metadata service

    attempt = WebhookAttempt.objects.get(notification=notification)
    assert attempt.status_code is None and "link-local" in attempt.error


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("93.184.215.14", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.10", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # shared address space (carrier-grade NAT)
        ("0.0.0.0", False),
        ("240.0.0.1", False),  # reserved
        ("224.0.0.1", False),  # multicast
        ("::1", False),
        ("fc00::1", False),
        ("fe80::1", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped loopback
        ("::ffff:169.254.169.254", False),
        ("2002:7f00:1::1", False),  # 6to4 around 127.0.0.1
    ],
)
def test_which_addresses_a_webhook_may_reach(address, allowed):
    assert webhook_urls.address_allowed(address) is allowed


@pytest.mark.django_db
def test_a_webhook_host_that_does_not_resolve_is_refused_when_the_partner_is_saved(monkeypatch):
    def nowhere(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(webhook_urls, "getaddrinfo", nowhere)

    with pytest.raises(ValidationError, match="does not resolve"):
        make_partner(webhook_url="https://no-such-host.example.org/hooks")
