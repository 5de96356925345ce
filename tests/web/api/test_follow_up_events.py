"""`referral.follow_up` (DESIGN.md, "Partners: events after the decision"): one event per instrument
each time a follow-up time point is scored, written in the scoring transaction for a partner subscribed
to it, carrying the referral's ids and the scores only (never the answers, anything the patient wrote,
or a name), in the events feed and as a webhook delivered once the scoring commits; the catalogue lists
it as optional with the schema of the bodies really sent."""

import json

import pytest
from jsonschema import Draft202012Validator
from standardwebhooks import Webhook

from clinic.aftercare.follow_up import issue_invitation, save_answers, submit_form
from clinic.aftercare.models import AdverseEvent, FormResponse
from clinic.web import tasks
from intake import event_types
from intake.audit import verify_chains
from intake.models import PartnerNotification
from tests.aftercare.factories import make_course, make_signed_treatment
from tests.factories import make_partner
from tests.support import committed_db, wait_for
from tests.web.api.test_follow_ups_api import (
    FOLLOW_UP,
    MEMBERS,
    client_for,
    desk_answer,
    followed_course,
    koos,
    point,
)

CATALOGUE = "/api/v1/event-types/"
UNEXPECTED = "Fainted at the bus stop on Tuesday, my neighbour Rosalind drove me home."


def rows(partner, event_type: str = FOLLOW_UP) -> list[PartnerNotification]:
    return list(
        PartnerNotification.objects.filter(partner=partner, event_type=event_type).order_by("created_at")
    )


def catalogue_schema(key: str, name: str = FOLLOW_UP) -> Draft202012Validator:
    listed = {entry["name"]: entry for entry in client_for(key).get(CATALOGUE).json()}
    return Draft202012Validator(listed[name]["payload_schema"])


@pytest.mark.django_db
def test_each_instrument_scored_tells_a_subscribed_partner_and_no_other():
    partner, _ = make_partner(events=[FOLLOW_UP])
    other, _ = make_partner(events=[event_types.TREATED, event_types.COURSE_CLOSED])

    course = followed_course(partner)
    followed_course(other)

    assert rows(other) == []
    sent = [row.payload["data"] for row in rows(partner)]
    assert [(data["follow_up"]["day"], data["follow_up"]["instrument"]) for data in sent] == [
        (0, "pain_nrs"),
        (0, "koos_jr"),
        (42, "pain_nrs"),
        (42, "koos_jr"),
    ]  # in the protocol's order of instruments
    for data in sent:
        assert set(data) == {"id", "external_id", "follow_up"}
        assert (data["id"], data["external_id"]) == (str(course.case_id), course.case.external_id)
        assert set(data["follow_up"]) == MEMBERS
    day_42 = sent[2]["follow_up"]
    stored = FormResponse.objects.get(pk=day_42["id"])
    assert (day_42["score"], day_42["baseline"], day_42["improvement"], day_42["responder"]) == (
        4.0,
        7.0,
        3.0,
        True,
    )
    assert stored.instrument == "pain_nrs" and stored.time_point.day == 42
    # No partner URL: written for the feed, not queued.
    assert {row.state for row in rows(partner)} == {PartnerNotification.State.NO_URL}


@pytest.mark.django_db
def test_the_event_never_carries_the_answers_the_patients_words_or_name():
    partner, _ = make_partner(events=list(event_types.OPTIONAL))
    patient = {
        "given_name": "Philippa",
        "family_name": "Wolstenholme",
        "birth_date": "1949-02-17",
        "sex": "female",
        "email": "pw@example.org",
    }
    course = make_course(partner=partner, patient=patient)
    _, token = issue_invitation(time_point_id=point(course, 0).pk)
    save_answers(token=token, instrument="pain_nrs", answers={"pain_nrs": 6})
    save_answers(token=token, instrument="koos_jr", answers=koos(3))

    submit_form(token=token, unexpected=True, unexpected_text=UNEXPECTED)

    said = json.dumps([row.payload for row in PartnerNotification.objects.filter(partner=partner)])
    assert len(rows(partner)) == 2
    for private in ("Rosalind", "Fainted", "Philippa", "Wolstenholme", "1949-02-17", "koos_jr_1", "pw@"):
        assert private not in said, private
    # The patient's flag waits for staff: it is no referral.adverse_event.
    assert AdverseEvent.objects.filter(case=course.case_id, source="patient").exists()
    assert rows(partner, event_types.ADVERSE_EVENT) == []


@pytest.mark.django_db
def test_the_catalogue_lists_referral_follow_up_as_optional_with_the_schema_of_what_is_sent():
    partner, key = make_partner(events=[FOLLOW_UP])
    _, plain_key = make_partner()
    followed_course(partner)

    listed = {entry["name"]: entry for entry in client_for(key).get(CATALOGUE).json()}
    plain = {entry["name"]: entry for entry in client_for(plain_key).get(CATALOGUE).json()}

    assert FOLLOW_UP in event_types.OPTIONAL and make_partner(sandbox=True)[0].event_types[-1] == FOLLOW_UP
    assert (listed[FOLLOW_UP]["always_on"], listed[FOLLOW_UP]["receives"]) == (False, True)
    assert plain[FOLLOW_UP]["receives"] is False
    schema = catalogue_schema(key)
    for row in rows(partner):
        assert list(schema.iter_errors(row.payload)) == []
    body = rows(partner)[0].payload
    without = body | {"data": {key: value for key, value in body["data"].items() if key != "follow_up"}}
    assert not schema.is_valid(without)
    unknown_instrument = json.loads(json.dumps(body))
    unknown_instrument["data"]["follow_up"]["instrument"] = "clinic_added_scale"
    assert schema.is_valid(unknown_instrument)  # an open enum


@pytest.mark.django_db
def test_the_feed_lists_the_scores_for_a_subscribed_partner_only():
    partner, key = make_partner(events=[FOLLOW_UP])
    plain, plain_key = make_partner()
    followed_course(partner)
    followed_course(plain)
    PartnerNotification.objects.update(feed_txid=0)  # the feed waits for the test's own transaction

    listed = client_for(key).get("/api/v1/events/", {"types": FOLLOW_UP}).json()["events"]
    not_subscribed = client_for(plain_key).get("/api/v1/events/", {"types": FOLLOW_UP}).json()["events"]

    assert [event["type"] for event in listed] == [FOLLOW_UP] * 4
    assert {event["data"]["follow_up"]["id"] for event in listed} == {
        str(row.payload["data"]["follow_up"]["id"]) for row in rows(partner)
    }
    assert not_subscribed == []


@pytest.mark.django_db
def test_a_fhir_partners_follow_up_event_is_a_bundle_its_catalogue_schema_accepts(receiver):
    endpoint = receiver()
    partner, key = make_partner(events=[FOLLOW_UP], webhook_url=endpoint.url, webhook_format="fhir")
    followed_course(partner)

    tasks.deliver_due_notifications()

    bodies = [json.loads(body) for _, body in endpoint.received if json.loads(body)["type"] == FOLLOW_UP]
    assert len(bodies) == 4
    schema = catalogue_schema(key)
    for body in bodies:
        assert body["data"]["resourceType"] == "Bundle"
        assert [entry["resource"]["resourceType"] for entry in body["data"]["entry"]] == [
            "Observation",
            "ServiceRequest",
        ]
        assert list(schema.iter_errors(body)) == []


@pytest.mark.worker
@committed_db
def test_a_real_worker_delivers_referral_follow_up_once_the_scoring_commits(celery_worker_process, receiver):
    endpoint = receiver()
    partner, _ = make_partner(events=[FOLLOW_UP], webhook_url=endpoint.url)
    course = make_course(partner=partner)
    assert wait_for(lambda: len(endpoint.received) == 1, timeout=30)  # referral.decided

    desk_answer(course, 0, pain=8, koos_each=3)  # committed: the two deliveries are queued
    make_signed_treatment(course)

    def follow_ups() -> list[dict]:
        payloads = [
            Webhook(partner.webhook_secret).verify(body, headers) for headers, body in endpoint.received
        ]
        return [p["data"]["follow_up"] for p in payloads if p["type"] == FOLLOW_UP]

    assert wait_for(lambda: len(follow_ups()) == 2, timeout=30)
    assert sorted(item["instrument"] for item in follow_ups()) == ["koos_jr", "pain_nrs"]
    assert wait_for(lambda: {row.state for row in rows(partner)} == {PartnerNotification.State.DELIVERED})
    assert tasks.deliver_due_notifications() == 0  # nothing left for the sweep
    assert list(verify_chains()) == []
