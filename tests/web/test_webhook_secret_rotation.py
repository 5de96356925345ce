"""Rotating a partner's webhook signing secret without a gap (Standard Webhooks: several signatures in
`webhook-signature`): by the clinic's command or by the partner itself, each verified against a real
receiver with the `standardwebhooks` library."""

import io
import json
import logging
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from clinic.web import webhooks
from intake.models import Partner, PartnerNotification
from intake.partner_webhooks import rotate_webhook_secret
from tests.factories import make_partner, make_user
from tests.web.api.test_integration import client_for, decided

ROTATE = "/api/v1/webhooks/rotate-secret"


def delivered(partner: Partner, external_id: str, endpoint) -> tuple[dict, bytes]:
    notification = PartnerNotification.objects.get(case=decided(partner, external_id))
    assert webhooks.deliver(notification_id=notification.pk) == "delivered"
    return endpoint.received[-1]


def signatures(headers: dict) -> list[str]:
    return headers["webhook-signature"].split(" ")


@pytest.mark.django_db
def test_during_the_overlap_both_secrets_verify_and_after_it_only_the_new_one(receiver):
    endpoint = receiver()
    partner, _ = make_partner(webhook_url=endpoint.url)
    old = partner.webhook_secret

    rotation = rotate_webhook_secret(partner_id=partner.pk, by="test")

    assert rotation.secret.startswith("whsec_") and rotation.secret != old
    assert rotation.previous_expires_at - timezone.now() > timedelta(hours=23)  # the 24 h default
    headers, body = delivered(partner, "RF-1", endpoint)
    assert len(signatures(headers)) == 2 and all(s.startswith("v1,") for s in signatures(headers))
    assert Webhook(rotation.secret).verify(body, headers)["type"] == "referral.decided"
    assert Webhook(old).verify(body, headers)["type"] == "referral.decided"

    # Once the overlap has ended, only the new secret signs
    Partner.objects.filter(pk=partner.pk).update(
        previous_secret_expires_at=timezone.now() - timedelta(seconds=1)
    )
    headers, body = delivered(partner, "RF-2", endpoint)
    assert len(signatures(headers)) == 1
    Webhook(rotation.secret).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(body, headers)


@pytest.mark.django_db
def test_rotating_again_during_an_overlap_keeps_the_two_newest(receiver):
    endpoint = receiver()
    partner, _ = make_partner(webhook_url=endpoint.url)
    first = partner.webhook_secret
    second = rotate_webhook_secret(partner_id=partner.pk, by="test").secret

    third = rotate_webhook_secret(partner_id=partner.pk, by="test", overlap_hours=0).secret
    headers, body = delivered(partner, "RF-1", endpoint)
    assert len(signatures(headers)) == 1  # overlap 0: the one it replaced stopped at once
    Webhook(third).verify(body, headers)
    for stopped in (first, second):
        with pytest.raises(WebhookVerificationError):
            Webhook(stopped).verify(body, headers)


@pytest.mark.django_db
def test_the_command_rotates_and_prints_the_new_secret_once(receiver, caplog):
    endpoint = receiver()
    partner, _ = make_partner(name="Northside Clinic", webhook_url=endpoint.url)
    old = partner.webhook_secret
    out = io.StringIO()

    with caplog.at_level(logging.INFO, logger="intake.partner_webhooks"):
        call_command(
            "rotate_webhook_secret", "northside clinic", "--overlap-hours", "2", "--json", stdout=out
        )

    printed = json.loads(out.getvalue())
    partner.refresh_from_db()
    assert printed["id"] == str(partner.pk) and printed["webhook_secret"] == partner.webhook_secret != old
    expires = partner.previous_secret_expires_at
    assert printed["previous_secret_expires_at"] == expires.isoformat()
    assert timedelta(hours=1, minutes=59) < expires - timezone.now() <= timedelta(hours=2)
    headers, body = delivered(partner, "RF-1", endpoint)
    Webhook(old).verify(body, headers)
    Webhook(printed["webhook_secret"]).verify(body, headers)
    (record,) = [r for r in caplog.records if getattr(r, "partner_change", "").startswith("webhook signing")]
    assert "rotate_webhook_secret" in record.changed_by

    # By id, in words
    out = io.StringIO()
    call_command("rotate_webhook_secret", str(partner.pk), stdout=out)
    assert "New webhook secret: whsec_" in out.getvalue() and "not shown again" in out.getvalue()


@pytest.mark.django_db
def test_the_command_says_what_is_wrong():
    partner, _ = make_partner()
    with pytest.raises(CommandError, match="No partner named"):
        call_command("rotate_webhook_secret", "Nobody at all")
    with pytest.raises(CommandError, match="from 0 .* to 168"):
        call_command("rotate_webhook_secret", partner.name, "--overlap-hours", "1000")
    assert Partner.objects.get(pk=partner.pk).previous_webhook_secret == ""


@pytest.mark.django_db
def test_a_partner_rotates_its_own_secret(receiver, caplog):
    endpoint = receiver()
    partner, key = make_partner(webhook_url=endpoint.url)
    old = partner.webhook_secret

    with caplog.at_level(logging.INFO, logger="intake.partner_webhooks"):
        response = client_for(key).post(ROTATE, {}, format="json")

    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {"webhook_secret", "previous_secret_expires_at"}
    headers, payload = delivered(partner, "RF-1", endpoint)
    Webhook(body["webhook_secret"]).verify(payload, headers)
    Webhook(old).verify(payload, headers)
    # Recorded with the key that asked
    (record,) = [r for r in caplog.records if getattr(r, "partner_change", "").startswith("webhook signing")]
    assert record.changed_by == f"the partner's API key {key.split('_', 1)[1].split('.')[0]}"

    # Without a body too, and with no overlap when the secret leaked
    assert client_for(key).post(ROTATE).status_code == 200
    leaked = client_for(key).post(ROTATE, {"overlap_hours": 0}, format="json").json()
    assert leaked["previous_secret_expires_at"] is None
    assert Partner.objects.get(pk=partner.pk).previous_webhook_secret == ""


@pytest.mark.django_db
@pytest.mark.parametrize("overlap", [-1, 169, "soon", 2.5, True, None, [24]])
def test_a_bad_overlap_is_a_field_error(overlap):
    partner, key = make_partner()

    response = client_for(key).post(ROTATE, {"overlap_hours": overlap}, format="json")

    assert response.status_code == 400 and response["Content-Type"] == "application/problem+json"
    (error,) = response.json()["errors"]
    assert error["pointer"] == "#/overlap_hours" and "whole number of hours" in error["detail"]
    assert Partner.objects.get(pk=partner.pk).webhook_secret == partner.webhook_secret


@pytest.mark.django_db
def test_only_a_partner_key_rotates(client):
    assert client.post(ROTATE).status_code == 401
    client.force_login(make_user(is_staff=True, is_superuser=True))
    assert client.post(ROTATE).status_code == 403


@pytest.mark.django_db
def test_a_retry_with_the_same_idempotency_key_returns_the_same_secret_without_rotating_again():
    partner, key = make_partner()
    old = partner.webhook_secret
    api = client_for(key)

    first = api.post(ROTATE, {}, format="json", HTTP_IDEMPOTENCY_KEY="rotate-1")
    retry = api.post(ROTATE, {}, format="json", HTTP_IDEMPOTENCY_KEY="rotate-1")

    assert retry.json() == first.json() and retry["Idempotent-Replayed"] == "true"
    assert retry["Cache-Control"] == "no-store"
    partner.refresh_from_db()
    # Rotated once: the secret the receiver has deployed still signs during the overlap
    assert partner.webhook_secret == first.json()["webhook_secret"] and partner.previous_webhook_secret == old
