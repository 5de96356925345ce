"""A referral's follow-up scores over the JSON API (DESIGN.md, "Partners: events after the decision"):
`GET /api/v1/referrals/{id}/follow-ups/` lists each scored time point with the members of
`referral.follow_up`'s `follow_up` and nothing else (never the answers), only to the referral's own
partner and only while it is subscribed to `referral.follow_up`; it pages like the referral list and
every read is recorded like a referral read."""

import pytest
from django.conf import settings
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient

from clinic.aftercare.follow_up import issue_invitation, record_desk_answers, save_answers
from clinic.aftercare.models import FormResponse, TimePoint, TreatmentCourse
from clinic.web.api import throttle
from intake import event_types
from intake.models import Partner, ReadAccess
from intake.partners import change_subscriptions
from tests.aftercare.factories import make_course, make_signed_treatment
from tests.factories import make_partner, make_user

FOLLOW_UP = event_types.FOLLOW_UP
MEMBERS = {"id", "day", "instrument", "score", "baseline", "improvement", "responder", "completed_at"}


@pytest.fixture(autouse=True)
def fresh_throttle():
    throttle.store(settings.CACHE_URL).reset()


def client_for(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def url(case_id) -> str:
    return f"/api/v1/referrals/{case_id}/follow-ups/"


def koos(value: int) -> dict:
    return {f"koos_jr_{n}": value for n in range(1, 8)}


def point(course: TreatmentCourse, day: int) -> TimePoint:
    return TimePoint.objects.get(course=course, day=day)


def desk_answer(course: TreatmentCourse, day: int, *, pain: int, koos_each: int, source: str = "desk"):
    """The desk records both instruments of the knee protocol for one time point (scored then)."""
    return record_desk_answers(
        time_point_id=point(course, day).pk,
        user=make_user(),
        answers_by_instrument={"pain_nrs": {"pain_nrs": pain}, "koos_jr": koos(koos_each)},
        source=source,
    )


def followed_course(partner: Partner, *, external_id: str | None = None) -> TreatmentCourse:
    """A knee course of the partner's: baseline (pain 7, KOOS JR items 3) at the desk, treated, and
    day 42 answered (pain 4, KOOS JR items 2): four scored answers."""
    course = make_course(partner=partner, **({"external_id": external_id} if external_id else {}))
    desk_answer(course, 0, pain=7, koos_each=3)
    make_signed_treatment(course)
    desk_answer(course, 42, pain=4, koos_each=2, source="phone")
    return course


@pytest.mark.django_db
def test_a_subscribed_partner_lists_each_scored_time_point_with_the_events_members_only():
    partner, key = make_partner(events=[FOLLOW_UP])
    course = followed_course(partner)

    response = client_for(key).get(url(course.case_id))

    assert response.status_code == 200
    listed = response.json()["results"]
    assert all(set(item) == MEMBERS for item in listed)
    by_key = {(item["day"], item["instrument"]): item for item in listed}
    assert set(by_key) == {(0, "pain_nrs"), (0, "koos_jr"), (42, "pain_nrs"), (42, "koos_jr")}
    assert by_key[(0, "pain_nrs")] | {"id": None, "completed_at": None} == {
        "id": None,
        "day": 0,
        "instrument": "pain_nrs",
        "score": 7.0,
        "baseline": None,
        "improvement": None,
        "responder": None,
        "completed_at": None,
    }
    # Pain 7 -> 4 is 3 points (the MCID is 2); KOOS JR raw 21 -> 14 is 34.174 -> 52.465 (MCID 15.1).
    assert {k: by_key[(42, "pain_nrs")][k] for k in ("score", "baseline", "improvement", "responder")} == {
        "score": 4.0,
        "baseline": 7.0,
        "improvement": 3.0,
        "responder": True,
    }
    assert {k: by_key[(42, "koos_jr")][k] for k in ("score", "baseline", "improvement", "responder")} == {
        "score": 52.465,
        "baseline": 34.174,
        "improvement": 18.291,
        "responder": True,
    }
    stored = FormResponse.objects.get(pk=by_key[(42, "koos_jr")]["id"])
    assert parse_datetime(by_key[(42, "koos_jr")]["completed_at"]) == stored.submitted_at
    # Never the answers (KOOS JR's linkIds) or who took them.
    assert "koos_jr_1" not in response.content.decode() and "phone" not in response.content.decode()


@pytest.mark.django_db
def test_every_read_is_recorded_like_a_referral_read():
    partner, key = make_partner(events=[FOLLOW_UP])
    course = followed_course(partner)

    client_for(key).get(url(course.case_id))
    client_for(key).get(url(course.case_id))

    reads = ReadAccess.objects.filter(case_id=course.case_id, partner=partner)
    assert reads.count() == 2
    assert {read.channel for read in reads} == {ReadAccess.Channel.API}


@pytest.mark.django_db
def test_a_partner_not_subscribed_to_referral_follow_up_gets_an_empty_list():
    partner, key = make_partner(events=[event_types.TREATED, event_types.ADVERSE_EVENT])
    course = followed_course(partner)

    response = client_for(key).get(url(course.case_id))

    assert response.status_code == 200 and response.json()["results"] == []
    # Subscribed later, the same scores are listed; unsubscribed again, they are not.
    change_subscriptions(
        partner=partner, event_types=[FOLLOW_UP], requested_by="Dr R", reason="Letter", actor=None
    )
    assert len(client_for(key).get(url(course.case_id)).json()["results"]) == 4
    change_subscriptions(partner=partner, event_types=[], requested_by="Dr R", reason="Letter", actor=None)
    assert client_for(key).get(url(course.case_id)).json()["results"] == []


@pytest.mark.django_db
def test_answers_saved_but_not_sent_are_not_listed():
    partner, key = make_partner(events=[FOLLOW_UP])
    course = make_course(partner=partner)
    _, token = issue_invitation(time_point_id=point(course, 0).pk)

    save_answers(token=token, instrument="pain_nrs", answers={"pain_nrs": 6})

    assert FormResponse.objects.filter(case=course.case_id).exists()
    assert client_for(key).get(url(course.case_id)).json()["results"] == []


@pytest.mark.django_db
def test_only_the_referrals_own_partner_reads_its_follow_ups():
    partner, _ = make_partner(events=[FOLLOW_UP])
    _, other_key = make_partner(events=[FOLLOW_UP])
    course = followed_course(partner)

    assert client_for(other_key).get(url(course.case_id)).status_code == 404
    anonymous = APIClient().get(url(course.case_id))
    assert anonymous.status_code == 401 and anonymous["Content-Type"] == "application/problem+json"
    assert not ReadAccess.objects.filter(case_id=course.case_id).exists()


@pytest.mark.django_db
def test_the_list_pages_newest_first_by_cursor():
    partner, key = make_partner(events=[FOLLOW_UP])
    course = followed_course(partner)
    newest_first = list(
        FormResponse.objects.filter(case=course.case_id)
        .order_by("-submitted_at", "-id")
        .values_list("pk", flat=True)
    )

    first = client_for(key).get(url(course.case_id), {"page_size": 3}).json()
    second = client_for(key).get(first["next"]).json()

    assert [item["id"] for item in first["results"] + second["results"]] == [str(pk) for pk in newest_first]
    assert second["next"] is None
    assert client_for(key).get(url(course.case_id) + "?cursor=not-a-cursor").status_code == 404


@pytest.mark.django_db
def test_the_path_is_served_with_and_without_its_slash_and_a_malformed_id_is_a_400():
    partner, key = make_partner(events=[FOLLOW_UP])
    course = followed_course(partner)

    without = client_for(key).get(url(course.case_id).rstrip("/"))
    malformed = client_for(key).get("/api/v1/referrals/not-a-uuid/follow-ups/")

    assert without.status_code == 200 and len(without.json()["results"]) == 4
    assert malformed.status_code == 400
    (error,) = malformed.json()["errors"]
    assert error["field"] == "id"


@pytest.mark.django_db
def test_the_schema_documents_the_list_and_its_open_instrument_enum(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()

    operation = schema["paths"]["/api/v1/referrals/{id}/follow-ups/"]["get"]
    assert operation["operationId"] == "listFollowUps"
    assert set(operation["responses"]) == {"200", "400", "401", "403", "404", "429"}
    item = schema["components"]["schemas"]["FollowUp"]
    assert set(item["properties"]) == MEMBERS
    assert "enum" not in item["properties"]["instrument"]
    assert {"pain_nrs", "koos_jr", "hoos_jr", "sane"} <= set(
        item["properties"]["instrument"]["x-extensible-enum"]
    )
    assert item["properties"]["responder"]["type"] == ["boolean", "null"]
