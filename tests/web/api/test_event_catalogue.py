"""The event catalogue and subscriptions (issue #30, item 3; DESIGN.md, "Partner API v1" and "Partners:
events after the decision"): `GET /api/v1/event-types/` lists every type, its body's JSON Schema and
whether the caller receives it; the feed takes `types=`; a partner's subscriptions govern its webhooks
and its feed alike; every change to them keeps who asked and why."""

import json
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from jsonschema import Draft202012Validator
from rest_framework.test import APIClient

from clinic.aftercare import adverse_events
from clinic.aftercare.courses import complete_course
from clinic.aftercare.follow_up import record_desk_answers
from clinic.aftercare.models import TimePoint
from clinic.aftercare.vocabulary import AdverseEventSource
from clinic.web import tasks
from intake import event_types
from intake.models import ImmutableRecordError, Partner, PartnerNotification, SubscriptionChange
from intake.partners import change_subscriptions
from intake.workflow import Actor
from recommendations import review
from recommendations.services import make_draft
from tests.aftercare.factories import make_course, make_signed_treatment
from tests.factories import make_partner, make_referral, make_user
from tests.web.api.test_adverse_events_api import report_body

CATALOGUE = "/api/v1/event-types/"
EVENTS = "/api/v1/events/"
CORRECTED = event_types.DECISION_CORRECTED
WHO = "Dr Ana Reyes, orthopaedic surgeon"
WHY = "Letter of 2026-12-01 asking to be told of decision corrections."


def client_for(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def decided_and_corrected(partner: Partner, external_id: str = "RF-CAT"):
    case = make_referral(partner, external_id=external_id)
    make_draft(case_id=case.pk)
    doctor = make_user(group="Specialists")
    decision = review.approve_draft(case_id=case.pk, user=doctor)
    review.add_addendum(decision_id=decision.pk, user=doctor, reason="The left knee was meant.")
    return case, decision, doctor


def after_the_decision(partner: Partner) -> None:
    """referral.follow_up, referral.treated, referral.adverse_event and referral.course_closed,
    through the services."""
    course = make_course(partner=partner)
    record_desk_answers(
        time_point_id=TimePoint.objects.get(course=course, day=0).pk,
        user=make_user(),
        answers_by_instrument={
            "pain_nrs": {"pain_nrs": 6},
            "koos_jr": {f"koos_jr_{n}": 2 for n in range(1, 8)},
        },
        source="desk",
    )
    make_signed_treatment(course)
    values = report_body(serious=True, seriousness_criteria=["hospitalization"], ctcae_grade=3)
    for name in ("external_id", "reporter"):
        values.pop(name)
    adverse_events.report_adverse_event(
        course_id=course.pk, source=AdverseEventSource.STAFF, actor=Actor(label="desk"), values=values
    )
    complete_course(course_id=course.pk, actor=Actor(label="desk"))


def feed(key: str, **params) -> dict:
    # The feed lists an event once no transaction before it is open: the test's own is.
    PartnerNotification.objects.update(feed_txid=0)
    return client_for(key).get(EVENTS, params)


@pytest.mark.django_db
def test_the_catalogue_lists_every_type_and_whether_the_caller_receives_it():
    _, plain = make_partner()
    _, subscribed = make_partner(events=list(event_types.OPTIONAL))

    listed = client_for(plain).get(CATALOGUE).json()
    receives = {entry["name"]: entry["receives"] for entry in client_for(subscribed).get(CATALOGUE).json()}

    assert [entry["name"] for entry in listed] == list(event_types.ALL)
    for entry in listed:
        always = entry["name"] in event_types.ALWAYS_ON
        assert entry["always_on"] is always and entry["receives"] is always
        assert entry["description"].startswith("Sent when ")
        assert entry["payload_schema"]["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        Draft202012Validator.check_schema(entry["payload_schema"])
    assert receives == {name: True for name in event_types.ALL}


@pytest.mark.django_db
def test_the_catalogue_is_for_partners_only(client):
    response = client.get(CATALOGUE)

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


def schemas_for(key: str) -> dict[str, Draft202012Validator]:
    return {
        entry["name"]: Draft202012Validator(entry["payload_schema"])
        for entry in client_for(key).get(CATALOGUE).json()
    }


@pytest.mark.django_db
def test_each_schema_accepts_the_bodies_really_sent_and_refuses_another_types(receiver):
    endpoint = receiver()
    partner, key = make_partner(webhook_url=endpoint.url, events=list(event_types.OPTIONAL))
    decided_and_corrected(partner)
    after_the_decision(partner)
    withdrawn = make_referral(partner, external_id="RF-GONE")
    withdraw = client_for(key).post(
        f"/api/v1/referrals/{withdrawn.pk}/withdraw/", {"reason": "moved"}, "json"
    )
    assert withdraw.status_code == 200
    asked = make_referral(partner, external_id="RF-ASK")
    make_draft(case_id=asked.pk)
    review.request_information(case_id=asked.pk, user=make_user(group="Specialists"), question="Which knee?")
    tasks.deliver_due_notifications()
    client_for(key).post("/api/v1/webhooks/test")
    schemas = schemas_for(key)

    bodies = [json.loads(body) for _, body in endpoint.received]
    assert {body["type"] for body in bodies} == set(event_types.ALL)
    for body in bodies:
        assert list(schemas[body["type"]].iter_errors(body)) == [], body["type"]
        others = [name for name in event_types.ALL if name != body["type"]]
        assert all(not schemas[name].is_valid(body) for name in others)  # `type` is a constant


@pytest.mark.django_db
def test_a_fhir_partner_is_given_the_schema_of_the_bundle_it_receives(receiver):
    endpoint = receiver()
    partner, key = make_partner(webhook_url=endpoint.url, webhook_format="fhir")
    case = make_referral(partner, external_id="RF-FHIR")
    make_draft(case_id=case.pk)
    review.approve_draft(case_id=case.pk, user=make_user(group="Specialists"))
    tasks.deliver_due_notifications()
    ((_, body),) = endpoint.received
    sent = json.loads(body)

    fhir_schema = schemas_for(key)["referral.decided"]
    _, json_key = make_partner()
    json_schema = schemas_for(json_key)["referral.decided"]

    assert sent["data"]["resourceType"] == "Bundle"
    assert list(fhir_schema.iter_errors(sent)) == []
    assert not json_schema.is_valid(sent)


@pytest.mark.django_db
def test_the_feed_lists_only_the_types_asked_for():
    partner, key = make_partner(events=[CORRECTED])
    decided_and_corrected(partner)

    everything = feed(key).json()["events"]
    corrections = feed(key, types=CORRECTED).json()["events"]
    both = feed(key, types=f" {CORRECTED} ,referral.decided").json()["events"]

    assert [e["type"] for e in everything] == ["referral.decided", CORRECTED]
    assert [e["type"] for e in corrections] == [CORRECTED]
    assert [e["type"] for e in both] == ["referral.decided", CORRECTED]
    assert feed(key, types="referral.withdrawn").json()["events"] == []


@pytest.mark.django_db
@pytest.mark.parametrize("types", ["referral.amended", "referral.decided,referral.drafted", ",", ""])
def test_an_unknown_type_in_the_feed_is_a_field_error(types):
    _, key = make_partner()

    response = feed(key, types=types)

    assert response.status_code == 400
    problem = response.json()
    assert problem["type"].endswith("/validation")
    (error,) = problem["errors"]
    assert error["field"] == "types"
    assert "GET /api/v1/event-types/" in error["detail"] or "leave `types` out" in error["detail"]


@pytest.mark.django_db
def test_a_partner_not_subscribed_receives_none_of_a_type_by_webhook_or_in_its_feed(receiver):
    endpoint = receiver()
    partner, key = make_partner(webhook_url=endpoint.url)
    decided_and_corrected(partner)
    tasks.deliver_due_notifications()

    assert [json.loads(body)["type"] for _, body in endpoint.received] == ["referral.decided"]
    assert not PartnerNotification.objects.filter(partner=partner, event_type=CORRECTED).exists()
    assert [e["type"] for e in feed(key).json()["events"]] == ["referral.decided"]
    assert feed(key, types=CORRECTED).json()["events"] == []


@pytest.mark.django_db
def test_a_partner_that_unsubscribes_no_longer_sees_that_type_in_its_feed_or_its_webhooks(receiver):
    endpoint = receiver()
    partner, key = make_partner(webhook_url=endpoint.url, events=[CORRECTED])
    _, decision, doctor = decided_and_corrected(partner)
    assert [e["type"] for e in feed(key).json()["events"]] == ["referral.decided", CORRECTED]

    change_subscriptions(partner=partner, event_types=[], requested_by=WHO, reason=WHY, actor=None)
    review.add_addendum(decision_id=decision.pk, user=doctor, reason="A second correction.")

    assert [e["type"] for e in feed(key).json()["events"]] == ["referral.decided"]
    assert feed(key, types=CORRECTED).json()["events"] == []
    assert PartnerNotification.objects.filter(partner=partner, event_type=CORRECTED).count() == 1
    receives = {entry["name"]: entry["receives"] for entry in client_for(key).get(CATALOGUE).json()}
    assert receives[CORRECTED] is False


# --- Who asked, and why ------------------------------------------------------------------------


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("root", "root@example.org", "pw-for-tests-1")
    client.force_login(user)
    client.user = user
    return client


def partner_page(partner: Partner, **changes) -> dict:
    return {"name": partner.name, "webhook_url": "", "webhook_format": "json", "is_active": "on"} | changes


@pytest.mark.django_db
def test_the_admin_keeps_who_asked_why_and_who_made_a_subscription_change(admin_client):
    partner, _ = make_partner(name="Catalogue Clinic")
    url = f"/admin/intake/partner/{partner.pk}/change/"

    response = admin_client.post(
        url, partner_page(partner, event_types=[CORRECTED], requested_by=f"  {WHO} ", reason=WHY)
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    partner.refresh_from_db()
    assert partner.event_types == [CORRECTED]
    (change,) = SubscriptionChange.objects.filter(partner=partner)
    assert (change.added, change.removed) == ([CORRECTED], [])
    assert (change.requested_by, change.reason, change.changed_by) == (WHO, WHY, admin_client.user)
    page = admin_client.get(url).content.decode()
    assert "Changes to optional events" in page and WHO in page and "root" in page

    admin_client.post(url, partner_page(partner, requested_by="Dr Reyes", reason="Phone call, 12-02."))
    latest = SubscriptionChange.objects.filter(partner=partner).first()
    assert (latest.added, latest.removed, latest.requested_by) == ([], [CORRECTED], "Dr Reyes")


@pytest.mark.django_db
def test_the_admin_refuses_a_subscription_change_without_who_asked_and_why(admin_client):
    partner, _ = make_partner(name="Unsaid Clinic")

    response = admin_client.post(
        f"/admin/intake/partner/{partner.pk}/change/", partner_page(partner, event_types=[CORRECTED])
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "Say who at the partner asked for this change" in page and "Say why" in page
    partner.refresh_from_db()
    assert partner.event_types == [] and not SubscriptionChange.objects.exists()


@pytest.mark.django_db
def test_the_admin_edits_a_partner_without_asking_when_its_events_stay_the_same(admin_client):
    partner, _ = make_partner(name="Same Clinic", events=[CORRECTED])

    response = admin_client.post(
        f"/admin/intake/partner/{partner.pk}/change/",
        partner_page(partner, name="Same Clinic (renamed)", event_types=[CORRECTED]),
    )

    assert response.status_code == 302
    partner.refresh_from_db()
    assert partner.name == "Same Clinic (renamed)" and partner.event_types == [CORRECTED]
    assert SubscriptionChange.objects.filter(partner=partner).count() == 1  # the one made at creation


@pytest.mark.django_db
def test_a_partner_added_in_the_admin_with_events_keeps_who_asked(admin_client):
    response = admin_client.post(
        "/admin/intake/partner/add/",
        {
            "name": "New Clinic",
            "webhook_format": "json",
            "event_types": [CORRECTED],
            "requested_by": WHO,
            "reason": WHY,
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    partner = Partner.objects.get(name="New Clinic")
    assert partner.event_types == [CORRECTED]
    assert SubscriptionChange.objects.get(partner=partner).requested_by == WHO


@pytest.mark.django_db
def test_create_partner_keeps_the_command_as_who_asked():
    call_command("create_partner", "Command Clinic", "--events", CORRECTED, "--json", stdout=StringIO())
    call_command("create_partner", "Sandbox Clinic", "--sandbox", "--json", stdout=StringIO())

    made = SubscriptionChange.objects.get(partner__name="Command Clinic")
    sandbox = SubscriptionChange.objects.get(partner__name="Sandbox Clinic")
    assert (made.added, made.requested_by, made.changed_by) == ([CORRECTED], "create_partner command", None)
    assert sandbox.added == list(event_types.OPTIONAL) and "sandbox" in sandbox.reason.lower()


@pytest.mark.django_db
def test_a_subscription_change_is_kept_as_written():
    partner, _ = make_partner(events=[CORRECTED])
    change = SubscriptionChange.objects.get(partner=partner)

    change.reason = "rewritten"
    with pytest.raises(ImmutableRecordError):
        change.save()
    with pytest.raises(ImmutableRecordError):
        change.delete()
