"""A verified API key is remembered for a few seconds (PARTNER_KEY_CACHE_SECONDS): a busy partner's
requests skip the key's lookup and hash, and a revoked key, a deactivated partner or an expired
key is still refused within those seconds (expiry at once)."""

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from intake.models import Partner, PartnerAPIKey
from tests.factories import make_partner, referral_body

URL = "/api/v1/referrals/"
pytestmark = pytest.mark.django_db


def send(key: str, external_id: str):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client.post(URL, referral_body(external_id=external_id), format="json")


def key_row(key: str):
    return PartnerAPIKey.objects.filter(prefix=key.removeprefix("live_").split(".")[0])


def key_lookups(queries) -> int:
    return sum(1 for query in queries if "intake_partnerapikey" in query["sql"])


def test_a_verified_key_is_not_looked_up_again_on_the_next_request():
    _, key = make_partner()
    with CaptureQueriesContext(connection) as first:
        assert send(key, "RF-1").status_code == 201
    with CaptureQueriesContext(connection) as second:
        assert send(key, "RF-2").status_code == 201

    assert (key_lookups(first.captured_queries), key_lookups(second.captured_queries)) == (1, 0)


def test_a_key_revoked_after_use_is_refused_once_the_remembered_seconds_pass(settings):
    settings.PARTNER_KEY_CACHE_SECONDS = 1
    _, key = make_partner()
    assert send(key, "RF-1").status_code == 201

    key_row(key).update(revoked=True)  # as the admin's "revoked" box does, from another process
    time.sleep(1.1)

    refused = send(key, "RF-2")
    assert refused.status_code == 401
    assert refused.json()["detail"] == "This API key is not valid or has been revoked."


def test_a_partner_deactivated_after_use_is_refused_once_the_remembered_seconds_pass(settings):
    settings.PARTNER_KEY_CACHE_SECONDS = 1
    partner, key = make_partner()
    assert send(key, "RF-1").status_code == 201

    Partner.objects.filter(pk=partner.pk).update(is_active=False)
    time.sleep(1.1)

    refused = send(key, "RF-2")
    assert refused.status_code == 401
    assert refused.json()["detail"] == "This partner account is not active."


def test_with_no_remembered_seconds_a_revoked_key_is_refused_at_once(settings):
    settings.PARTNER_KEY_CACHE_SECONDS = 0
    _, key = make_partner()
    assert send(key, "RF-1").status_code == 201

    key_row(key).update(revoked=True)

    assert send(key, "RF-2").status_code == 401


def test_a_remembered_key_that_expires_is_refused_at_once():
    _, key = make_partner()
    key_row(key).update(expiry_date=timezone.now() + timedelta(seconds=1))
    assert send(key, "RF-1").status_code == 201

    time.sleep(1.1)  # within the remembered seconds (5), past the key's expiry

    refused = send(key, "RF-2")
    assert refused.status_code == 401
    assert refused.json()["detail"] == "This API key has expired."


def test_a_wrong_secret_with_a_remembered_keys_prefix_is_refused():
    _, key = make_partner()
    assert send(key, "RF-1").status_code == 201
    prefix, _, secret = key.partition(".")

    assert send(f"{prefix}.{secret[::-1]}", "RF-2").status_code == 401
