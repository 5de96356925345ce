"""A partner's adverse-event reports over the JSON API (DESIGN.md, "Partner reports"): only on its own
referral once it has a treatment course, validated field by field with pointers, never twice for one
external_id, listed with what the partner may read, and added to by updates."""

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient

from clinic.aftercare import adverse_events
from clinic.aftercare.courses import cancel_course
from clinic.aftercare.models import AdverseEvent, AdverseEventChange, ReportingClock, TreatmentCourse
from clinic.aftercare.vocabulary import AdverseEventSource
from clinic.web.api import throttle
from intake import event_types
from intake.models import Partner, ReadAccess
from intake.referrals import partner_actor
from intake.workflow import Actor
from tests.aftercare.factories import make_course, make_decided_case
from tests.factories import make_partner, make_referral

PROBLEMS = "https://clinic.example.org/problems/"


@pytest.fixture(autouse=True)
def fresh_throttle():
    throttle.store(settings.CACHE_URL).reset()


def report_body(external_id: str = "AE-1", **changes) -> dict:
    """A grade 2, non-serious swelling, as the referring physician reports it."""
    body = {
        "external_id": external_id,
        "onset": timezone.localdate().isoformat(),
        "description": "Swelling and warmth of the treated knee two days after the injection.",
        "ctcae_grade": 2,
        "serious": False,
        "seriousness_criteria": [],
        "outcome": "recovering",
        "action_taken": "Ice and rest.",
        "reporter": {"name": "Dr Ana Reyes", "qualification": "physician"},
        "relatedness_opinion": "possible",
    }
    return body | changes


SERIOUS = {"serious": True, "seriousness_criteria": ["hospitalization"], "ctcae_grade": 3}


def treated_referral(partner: Partner) -> dict:
    """A referral of the partner's whose decision opened a treatment course."""
    return {"id": make_course(partner=partner).case_id}


def reported(partner: Partner) -> dict:
    """A referral of the partner's with a course and one report of the partner's own on it."""
    course = make_course(partner=partner)
    values = report_body("AE-first")
    external_id = values.pop("external_id")
    ae = adverse_events.report_adverse_event(
        course_id=course.pk,
        source=AdverseEventSource.PARTNER,
        actor=partner_actor(partner),
        values=values,
        partner=partner,
        external_id=external_id,
    )
    return {"id": course.case_id, "ae_id": ae.pk}


def staff_report(course: TreatmentCourse, **changes) -> AdverseEvent:
    values = report_body(description="Clinic's own note: effusion aspirated at the visit.") | changes
    values.pop("external_id")
    values.pop("reporter")
    return adverse_events.report_adverse_event(
        course_id=course.pk, source=AdverseEventSource.STAFF, actor=Actor(label="desk"), values=values
    )


def client_for(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def url(case_id, *rest: str) -> str:
    return "/".join([f"/api/v1/referrals/{case_id}/adverse-events", *rest]) + "/"


def post(key: str, path: str, body) -> object:
    return client_for(key).post(path, json.dumps(body), content_type="application/json")


# --- reporting ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_partner_reports_an_adverse_event_and_gets_it_back_as_stored():
    partner, key = make_partner()
    course = make_course(partner=partner)
    sent = report_body(**SERIOUS)
    before = timezone.now()

    response = post(key, url(course.case_id), sent)

    assert response.status_code == 201, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert {name: body[name] for name in sent} == sent
    assert (body["triage"], body["source"]) == ("received", "partner")
    assert before <= parse_datetime(body["received_at"]) <= timezone.now()
    stored = AdverseEvent.objects.get(pk=body["id"])
    assert (stored.case_id, stored.partner, stored.external_id) == (course.case_id, partner, "AE-1")
    assert (stored.ctcae_grade, stored.serious, stored.reporter_name) == (3, True, "Dr Ana Reyes")


@pytest.mark.django_db
def test_the_path_without_its_trailing_slash_takes_the_report_too():
    partner, key = make_partner()
    course = make_course(partner=partner)

    response = post(key, url(course.case_id).removesuffix("/"), report_body())

    assert response.status_code == 201, response.content
    assert AdverseEvent.objects.filter(case_id=course.case_id).count() == 1


@pytest.mark.django_db
def test_another_partners_referral_is_not_found_and_nothing_is_stored():
    owner, _ = make_partner()
    _, other_key = make_partner()
    ids = reported(owner)

    attempts = [
        post(other_key, url(ids["id"]), report_body("AE-2")),
        client_for(other_key).get(url(ids["id"])),
        post(other_key, url(ids["id"], str(ids["ae_id"]), "updates"), {"external_id": "U", "note": "x"}),
    ]

    assert [response.status_code for response in attempts] == [404, 404, 404]
    assert all(response["Content-Type"] == "application/problem+json" for response in attempts)
    assert AdverseEvent.objects.count() == 1 and not AdverseEventChange.objects.filter(external_id="U")


@pytest.mark.django_db
@pytest.mark.parametrize("decided", ["not yet", "declined"])
def test_a_referral_without_a_treatment_course_is_409_no_treatment(decided):
    partner, key = make_partner()
    if decided == "declined":
        case, _ = make_decided_case(partner=partner, route="not_recommended", outcome="declined")
    else:
        case = make_referral(partner, external_id="RF-new")

    response = post(key, url(case.pk), report_body())

    assert response.status_code == 409
    problem = response.json()
    assert problem["type"] == PROBLEMS + "no-treatment"
    assert case.external_id in problem["detail"]
    assert not AdverseEvent.objects.exists()


@pytest.mark.django_db
def test_a_cancelled_course_still_takes_reports():
    """A harvest can harm before any administration."""
    partner, key = make_partner()
    course = make_course(partner=partner)
    cancel_course(course_id=course.pk, actor=Actor(label="desk"), reason="Patient moved away.")

    response = post(key, url(course.case_id), report_body())

    assert response.status_code == 201, response.content


@pytest.mark.django_db
def test_a_repeated_external_id_is_409_naming_the_report_already_stored():
    partner, key = make_partner()
    course = make_course(partner=partner)
    first = post(key, url(course.case_id), report_body("AE-7"))

    again = post(key, url(course.case_id), report_body("AE-7", description="The same event, told again."))

    assert first.status_code == 201 and again.status_code == 409
    assert again.json()["type"] == PROBLEMS + "duplicate-adverse-event"
    assert again.json()["adverse_event_id"] == first.json()["id"]
    assert AdverseEvent.objects.filter(partner=partner).count() == 1


def _days(n: int) -> str:
    return (timezone.localdate() + timedelta(days=n)).isoformat()


INVALID = [
    # The body's own members (the serializer).
    ({"onset": "03/12/2026"}, "onset"),
    ({"ctcae_grade": 6}, "ctcae_grade"),
    ({"ctcae_grade": "3"}, "ctcae_grade"),
    ({"serious": "yes"}, "serious"),
    ({"seriousness_criteria": ["hospitalisation"]}, "seriousness_criteria.0"),
    ({"outcome": "better"}, "outcome"),
    ({"description": "x" * 5001}, "description"),
    ({"relatedness_opinion": "likely"}, "relatedness_opinion"),
    ({"reporter": {"name": "", "qualification": "physician"}}, "reporter.name"),
    ({"reporter": {"name": "Dr Reyes", "qualification": "surgeon"}}, "reporter.qualification"),
    ({"external_id": ""}, "external_id"),
    # What needs the case or other fields (the service).
    ({"onset": _days(-1)}, "onset"),
    ({"onset": _days(1)}, "onset"),
    ({"serious": True, "seriousness_criteria": []}, "seriousness_criteria"),
    ({"seriousness_criteria": ["hospitalization"]}, "seriousness_criteria"),
    ({"ctcae_grade": 5}, "ctcae_grade"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("changes", "field"), INVALID)
def test_each_invalid_field_is_named_with_a_pointer_and_nothing_is_stored(changes, field):
    partner, key = make_partner()
    course = make_course(partner=partner)

    response = post(key, url(course.case_id), report_body(**changes))

    assert response.status_code == 400, response.content
    problem = response.json()
    assert problem["type"] == PROBLEMS + "validation"
    named = {error["field"]: error for error in problem["errors"]}
    assert field in named, problem["errors"]
    assert named[field]["pointer"] == "#/" + field.replace(".", "/")
    assert len(named[field]["detail"]) > 15
    assert not AdverseEvent.objects.exists()


@pytest.mark.django_db
def test_an_onset_before_the_decision_is_refused_saying_the_decisions_date():
    partner, key = make_partner()
    course = make_course(partner=partner)

    response = post(key, url(course.case_id), report_body(onset=_days(-3)))

    (error,) = response.json()["errors"]
    assert error["field"] == "onset"
    assert f"{timezone.localtime(course.decision.decided_at):%Y-%m-%d}" in error["detail"]


# --- the list -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_list_shows_the_referrals_reports_with_a_description_only_on_the_partners_own():
    partner, key = make_partner(events=[event_types.ADVERSE_EVENT])
    course = make_course(partner=partner)
    own = post(key, url(course.case_id), report_body()).json()
    staff = staff_report(course)
    adverse_events.flag_from_patient(course_id=course.pk, description="My knee feels hot.")

    response = client_for(key).get(url(course.case_id))

    assert response.status_code == 200
    listed = {item["id"]: item for item in response.json()["results"]}
    assert set(listed) == {own["id"], str(staff.pk)}  # never a patient's flag before triage
    assert listed[own["id"]]["description"] == own["description"]
    assert (listed[own["id"]]["external_id"], listed[own["id"]]["triage"]) == ("AE-1", "received")
    assert set(listed[str(staff.pk)]) == {
        "id",
        "onset",
        "ctcae_grade",
        "serious",
        "seriousness_criteria",
        "outcome",
        "received_at",
        "source",
    }
    assert "Clinic's own note" not in response.content.decode()
    read = ReadAccess.objects.get(case_id=course.case_id)
    assert (read.partner, read.channel) == (partner, ReadAccess.Channel.API)


@pytest.mark.django_db
def test_a_partner_not_subscribed_to_adverse_events_reads_only_its_own_reports():
    partner, key = make_partner()
    course = make_course(partner=partner)
    own = post(key, url(course.case_id), report_body()).json()
    staff_report(course)

    listed = client_for(key).get(url(course.case_id)).json()["results"]

    assert [item["id"] for item in listed] == [own["id"]]


@pytest.mark.django_db
def test_the_list_pages_newest_first_by_cursor():
    partner, key = make_partner()
    course = make_course(partner=partner)
    ids = [post(key, url(course.case_id), report_body(f"AE-{n}")).json()["id"] for n in range(3)]

    first = client_for(key).get(url(course.case_id), {"page_size": 2}).json()
    second = client_for(key).get(first["next"]).json()

    assert [item["id"] for item in first["results"]] == ids[::-1][:2]
    assert [item["id"] for item in second["results"]] == ids[:1]
    assert second["next"] is None


# --- updates --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_update_adds_to_the_partners_own_report():
    partner, key = make_partner()
    ids = reported(partner)
    path = url(ids["id"], str(ids["ae_id"]), "updates")

    response = post(key, path, {"external_id": "U-1", "outcome": "resolved", "note": "Back at work."})

    assert response.status_code == 201, response.content
    body = response.json()
    change = AdverseEventChange.objects.get(pk=body["id"])
    assert (change.external_id, change.adverse_event_id) == ("U-1", ids["ae_id"])
    assert body["adverse_event_id"] == str(ids["ae_id"]) and parse_datetime(body["received_at"])
    (item,) = client_for(key).get(url(ids["id"])).json()["results"]
    assert item["outcome"] == "resolved"


@pytest.mark.django_db
def test_an_update_of_a_report_not_the_partners_own_is_not_found():
    partner, key = make_partner()
    ids = reported(partner)
    staff = staff_report(TreatmentCourse.objects.get(case_id=ids["id"]))
    other = reported(make_partner()[0])

    on_staff = post(key, url(ids["id"], str(staff.pk), "updates"), {"external_id": "U", "note": "x"})
    on_other = post(key, url(ids["id"], str(other["ae_id"]), "updates"), {"external_id": "U", "note": "x"})

    assert (on_staff.status_code, on_other.status_code) == (404, 404)
    assert not AdverseEventChange.objects.filter(external_id="U").exists()


@pytest.mark.django_db
def test_a_repeated_update_external_id_is_409_naming_the_update():
    partner, key = make_partner()
    ids = reported(partner)
    path = url(ids["id"], str(ids["ae_id"]), "updates")
    first = post(key, path, {"external_id": "U-1", "note": "Discharged."})

    again = post(key, path, {"external_id": "U-1", "outcome": "resolved"})

    assert again.status_code == 409
    problem = again.json()
    assert problem["type"] == PROBLEMS + "duplicate-adverse-event" and "U-1" in problem["detail"]
    assert (problem["update_id"], problem["adverse_event_id"]) == (first.json()["id"], str(ids["ae_id"]))
    assert AdverseEventChange.objects.filter(external_id="U-1").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"external_id": "U-1"}, "body"),
        ({"external_id": "U-1", "ctcae_grade": 9}, "ctcae_grade"),
        ({"external_id": "U-1", "serious": True}, "seriousness_criteria"),
        ({"note": "no id"}, "external_id"),
    ],
)
def test_an_update_is_validated_as_the_report_is(body, field):
    partner, key = make_partner()
    ids = reported(partner)

    response = post(key, url(ids["id"], str(ids["ae_id"]), "updates"), body)

    assert response.status_code == 400, response.content
    assert field in {error["field"] for error in response.json()["errors"]}
    assert not AdverseEventChange.objects.filter(kind=AdverseEventChange.Kind.UPDATE).exists()


# --- sandbox --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_sandbox_partners_report_is_answered_the_same_and_opens_no_clock():
    sandbox, sandbox_key = make_partner(sandbox=True)
    live, live_key = make_partner()
    test_course = make_course(partner=sandbox, sandbox=True)
    live_course = make_course(partner=live)

    test = post(sandbox_key, url(test_course.case_id), report_body(**SERIOUS))
    real = post(live_key, url(live_course.case_id), report_body(**SERIOUS))

    assert (test.status_code, real.status_code) == (201, 201)
    assert set(test.json()) == set(real.json()) and test.json()["triage"] == "received"
    assert not ReportingClock.objects.filter(adverse_event_id=test.json()["id"]).exists()
    assert ReportingClock.objects.filter(adverse_event_id=real.json()["id"]).exists()
