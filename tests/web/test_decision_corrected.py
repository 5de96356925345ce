"""`referral.decision_corrected` (DESIGN.md, "Partners: events after the decision"): an addendum
to a decision sends it, signed like every webhook, whose `data` is the referral as in
`referral.decided`; off by default, so only a partner subscribed when it happens gets it (by
webhook and in its events feed). Partners subscribe through the admin or `create_partner
--events`; a sandbox partner starts subscribed."""

import json
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from fhir.resources.R4B.bundle import Bundle
from rest_framework.test import APIClient
from standardwebhooks import Webhook

from clinic.web import tasks, webhooks
from intake import event_types
from intake.models import Case, Partner, PartnerNotification
from recommendations import review
from recommendations.services import make_draft
from tests.factories import make_case, make_partner, make_referral, make_user
from tests.support import committed_db, wait_for

CORRECTED = "referral.decision_corrected"
CORRECTION = "The route should read intravenous; the left knee was meant. Call Dr Reyes."


def decided(partner: Partner | None, external_id: str = "RF-ADD") -> tuple[Case, object, object]:
    """A decided referral of `partner` (a desk case when None), its decision and the specialist."""
    case = make_referral(partner, external_id=external_id) if partner else make_case()
    make_draft(case_id=case.pk)
    doctor = make_user(group="Specialists")
    return case, review.approve_draft(case_id=case.pk, user=doctor), doctor


def feed(key: str) -> list[dict]:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    # The feed lists an event once no transaction before it is open: the test's own is.
    PartnerNotification.objects.update(feed_txid=0)
    return client.get("/api/v1/events/").json()["events"]


@pytest.mark.django_db
def test_a_subscribed_partner_is_sent_the_corrected_referral_signed(receiver):
    endpoint = receiver()
    partner, key = make_partner(webhook_url=endpoint.url, events=[CORRECTED])
    case, decision, doctor = decided(partner)

    review.add_addendum(decision_id=decision.pk, user=doctor, reason=CORRECTION)

    notification = PartnerNotification.objects.get(case=case, event_type=CORRECTED)
    assert notification.state == "pending"
    assert tasks.deliver_due_notifications() == 2  # the decision's webhook, then the correction's
    by_type = {json.loads(body)["type"]: (headers, body) for headers, body in endpoint.received}
    headers, body = by_type[CORRECTED]
    payload = Webhook(partner.webhook_secret).verify(body, headers)  # raises unless signed with its secret
    assert headers["webhook-id"] == f"msg_{notification.pk.hex}"
    decided_data = json.loads(by_type["referral.decided"][1])["data"]
    assert payload["data"] == decided_data  # the referral as in referral.decided
    assert payload["data"]["decision"]["outcome"] == "approved"
    assert "Reyes" not in body.decode() and "intravenous" not in body.decode()  # the clinic's text stays
    assert [event["type"] for event in feed(key)] == ["referral.decided", CORRECTED]


@pytest.mark.django_db
def test_a_partner_not_subscribed_is_sent_nothing_and_its_feed_shows_nothing(receiver):
    endpoint = receiver()
    partner, key = make_partner(webhook_url=endpoint.url)
    case, decision, doctor = decided(partner)

    review.add_addendum(decision_id=decision.pk, user=doctor, reason=CORRECTION)
    tasks.deliver_due_notifications()

    assert not PartnerNotification.objects.filter(event_type=CORRECTED).exists()
    assert [json.loads(body)["type"] for _, body in endpoint.received] == ["referral.decided"]
    assert [event["type"] for event in feed(key)] == ["referral.decided"]


@pytest.mark.django_db
def test_an_event_is_written_only_for_partners_subscribed_when_it_happens(receiver):
    partner, _ = make_partner(webhook_url=receiver().url)
    case, decision, doctor = decided(partner)
    review.add_addendum(decision_id=decision.pk, user=doctor, reason="First correction")

    Partner.objects.filter(pk=partner.pk).update(event_types=[CORRECTED])
    review.add_addendum(decision_id=decision.pk, user=doctor, reason="Second correction")

    assert PartnerNotification.objects.filter(case=case, event_type=CORRECTED).count() == 1


@pytest.mark.django_db
def test_a_fhir_partner_gets_the_referrals_bundle(receiver):
    endpoint = receiver()
    partner, _ = make_partner(webhook_url=endpoint.url, webhook_format="fhir", events=[CORRECTED])
    case, decision, doctor = decided(partner)
    review.add_addendum(decision_id=decision.pk, user=doctor, reason=CORRECTION)

    webhooks.deliver(notification_id=PartnerNotification.objects.get(event_type=CORRECTED).pk)

    ((headers, body),) = endpoint.received
    payload = Webhook(partner.webhook_secret).verify(body, headers)
    assert payload["type"] == CORRECTED
    Bundle.model_validate(payload["data"])
    kinds = {entry["resource"]["resourceType"] for entry in payload["data"]["entry"]}
    assert kinds == {"ServiceRequest", "Task", "Provenance"}  # the v1 resources only


@pytest.mark.django_db
def test_a_partner_without_a_url_finds_it_in_its_feed():
    partner, key = make_partner(events=[CORRECTED])
    _, decision, doctor = decided(partner)

    review.add_addendum(decision_id=decision.pk, user=doctor, reason=CORRECTION)

    assert PartnerNotification.objects.get(event_type=CORRECTED).state == "no_url"
    assert [event["type"] for event in feed(key)] == ["referral.decided", CORRECTED]


@pytest.mark.django_db
def test_an_addendum_on_a_desk_case_tells_no_partner():
    _, decision, doctor = decided(None)

    review.add_addendum(decision_id=decision.pk, user=doctor, reason=CORRECTION)

    assert not PartnerNotification.objects.exists()


@pytest.mark.django_db
def test_an_addendum_refused_writes_no_event():
    partner, _ = make_partner(events=[CORRECTED])
    _, decision, doctor = decided(partner)

    with pytest.raises(Exception, match="Write the correction"):
        review.add_addendum(decision_id=decision.pk, user=doctor, reason="  ")

    assert not PartnerNotification.objects.filter(event_type=CORRECTED).exists()


@pytest.mark.django_db
def test_a_sandbox_partner_starts_subscribed_to_every_optional_type():
    sandbox, _ = make_partner(sandbox=True)
    live, _ = make_partner()

    assert sandbox.event_types == list(event_types.OPTIONAL) and CORRECTED in sandbox.event_types
    assert live.event_types == []
    assert event_types.receives(sandbox.event_types, CORRECTED)
    assert not event_types.receives(live.event_types, CORRECTED)
    assert event_types.receives(live.event_types, "referral.decided")  # v1 types: always on


@pytest.mark.worker
@committed_db
def test_a_real_worker_delivers_the_correction_after_the_addendum_commits(celery_worker_process, receiver):
    endpoint = receiver()
    partner, _ = make_partner(webhook_url=endpoint.url, events=[CORRECTED])
    case, decision, doctor = decided(partner)

    review.add_addendum(decision_id=decision.pk, user=doctor, reason=CORRECTION)  # committed: queued

    assert wait_for(lambda: len(endpoint.received) == 2, timeout=30)
    corrected = [(h, b) for h, b in endpoint.received if json.loads(b)["type"] == CORRECTED]
    ((headers, body),) = corrected
    assert Webhook(partner.webhook_secret).verify(body, headers)["data"]["id"] == str(case.pk)
    notification = PartnerNotification.objects.get(event_type=CORRECTED)
    assert wait_for(lambda: PartnerNotification.objects.get(pk=notification.pk).state == "delivered")


# --- subscribing: create_partner --events and the admin -----------------------------------------


def create_partner(*args: str) -> dict:
    out = StringIO()
    call_command("create_partner", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.django_db
def test_create_partner_subscribes_to_the_events_named():
    payload = create_partner("Events Clinic", "--events", f" {CORRECTED} ,referral.decided,")

    # A v1 type is always on: accepted, nothing to store.
    assert payload["event_types"] == [CORRECTED]
    assert Partner.objects.get(pk=payload["id"]).event_types == [CORRECTED]


@pytest.mark.django_db
def test_create_partner_without_events_subscribes_to_none_and_a_sandbox_to_all():
    assert create_partner("Plain Clinic")["event_types"] == []
    assert create_partner("Sandbox Clinic", "--sandbox")["event_types"] == list(event_types.OPTIONAL)


@pytest.mark.django_db
def test_create_partner_refuses_an_unknown_event_type_naming_the_known_ones():
    with pytest.raises(CommandError) as refused:
        create_partner("Typo Clinic", "--events", "referral.amended")

    assert "referral.amended" in str(refused.value) and CORRECTED in str(refused.value)
    assert not Partner.objects.filter(name="Typo Clinic").exists()


@pytest.mark.django_db
def test_the_admin_subscribes_a_partner_and_the_next_addendum_reaches_it(client):
    partner, _ = make_partner(name="Admin Clinic")
    admin = get_user_model().objects.create_superuser("root", "root@example.org", "pw-for-tests-1")
    client.force_login(admin)
    url = f"/admin/intake/partner/{partner.pk}/change/"
    page = client.get(url).content.decode()
    assert CORRECTED in page and "Optional events" in page

    response = client.post(
        url,
        {
            "name": partner.name,
            "webhook_url": "",
            "webhook_format": "json",
            "is_active": "on",
            "event_types": [CORRECTED],
            # Who asked and why: kept with the change (tests/web/api/test_event_catalogue.py).
            "requested_by": "Dr Ana Reyes, orthopaedic surgeon",
            "reason": "Letter of 2026-12-01 asking for decision corrections.",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    partner.refresh_from_db()
    assert partner.event_types == [CORRECTED]
    _, decision, doctor = decided(partner)
    review.add_addendum(decision_id=decision.pk, user=doctor, reason=CORRECTION)
    assert PartnerNotification.objects.filter(partner=partner, event_type=CORRECTED).exists()


@pytest.mark.django_db
def test_the_admin_refuses_an_event_type_it_does_not_offer(client):
    partner, _ = make_partner(name="Forged Clinic")
    client.force_login(get_user_model().objects.create_superuser("root", "r@example.org", "pw-for-tests-1"))

    response = client.post(
        f"/admin/intake/partner/{partner.pk}/change/",
        {"name": partner.name, "webhook_format": "json", "event_types": ["referral.amended"]},
    )

    assert response.status_code == 200 and "referral.amended is not one of the available" in (
        response.content.decode()
    )
    partner.refresh_from_db()
    assert partner.event_types == []
