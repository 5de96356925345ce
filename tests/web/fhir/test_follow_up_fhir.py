"""Follow-up scores read as FHIR (DESIGN.md, "The treatment course" and "Partners: events after the
decision"): one Observation per instrument scored at a time point in the referral's Bundle of a partner
subscribed to `referral.follow_up` (none for another), and the Observation with the ServiceRequest in
that event's Bundle for a FHIR partner; coded with the clinic's instrument code and LOINC where one is
published, the score a valueQuantity, the baseline, improvement and responder as components; never the
item answers, nor the patient's name."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from standardwebhooks import Webhook

from clinic.aftercare.models import FormResponse, TimePoint
from clinic.web import tasks
from clinic.web.fhir.follow_up_outbound import INSTRUMENT_SYSTEM, observation
from intake import event_types
from intake.models import PartnerNotification
from tests.aftercare.factories import make_course, make_signed_treatment
from tests.factories import make_partner
from tests.web.api.test_follow_ups_api import FOLLOW_UP, client_for, desk_answer, followed_course

LOINC = "http://loinc.org"
PATIENT = {
    "given_name": "Eudora",
    "family_name": "Marchbanks",
    "birth_date": "1952-07-30",
    "sex": "female",
    "email": "eudora@example.org",
}


class _Case:
    """A referral as observation() needs it: only its id (a partner's Bundle names no one)."""

    pk = "3f6c1c55-8f43-4b7e-9b8e-3c1f3f2f8a10"


def read_bundle(key: str, case_id) -> list[dict]:
    """The referral's Bundle as its partner reads it (GET …/fhir), after checking it is valid FHIR."""
    response = client_for(key).get(f"/api/v1/referrals/{case_id}/fhir")
    assert response.status_code == 200
    Bundle.model_validate(response.json())
    return [entry["resource"] for entry in response.json()["entry"]]


def components(resource: dict) -> dict[str, dict]:
    return {part["code"]["coding"][0]["code"]: part for part in resource.get("component", [])}


def codings(resource: dict) -> dict[str, str]:
    return {coding["system"]: coding["code"] for coding in resource["code"]["coding"]}


@pytest.mark.django_db
def test_a_subscribed_partner_reads_an_observation_per_scored_time_point():
    partner, key = make_partner(events=[FOLLOW_UP])
    course = followed_course(partner, external_id="RF-OBS")

    resources = read_bundle(key, course.case_id)

    observations = [r for r in resources if r["resourceType"] == "Observation"]
    assert [r["resourceType"] for r in resources[:3]] == ["ServiceRequest", "Task", "Provenance"]
    assert len(observations) == 4
    for resource in observations:
        Observation.model_validate(resource)
        assert resource["status"] == "final" and resource["basedOn"] == [
            {"reference": f"urn:uuid:{course.case_id}"}
        ]
        assert resource["subject"]["identifier"]["value"] == str(course.case_id)
        assert resource["category"][0]["coding"][0]["code"] == "survey"
        assert "item" not in json.dumps(resource) and "koos_jr_1" not in json.dumps(resource)
    by_key = {
        (components(r)["day"]["valueQuantity"]["value"], codings(r)[INSTRUMENT_SYSTEM]): r
        for r in observations
    }
    koos_42, koos_0 = by_key[(42, "koos_jr")], by_key[(0, "koos_jr")]
    assert codings(koos_42)[LOINC] == "82324-5" and codings(by_key[(42, "pain_nrs")])[LOINC] == "72514-3"
    assert koos_42["valueQuantity"] == {
        "value": 52.465,
        "unit": "score",
        "system": "http://unitsofmeasure.org",
        "code": "{score}",
    }
    parts = components(koos_42)
    assert parts["baseline"]["valueQuantity"]["value"] == 34.174
    assert parts["improvement"]["valueQuantity"]["value"] == 18.291
    assert parts["responder"]["valueBoolean"] is True
    stored = FormResponse.objects.get(pk=koos_42["id"])
    assert koos_42["effectiveDateTime"] == stored.submitted_at.isoformat()
    # The improvement is derived from the baseline's Observation, which is in the same Bundle.
    assert koos_42["derivedFrom"] == [{"reference": f"urn:uuid:{koos_0['id']}"}]
    # At the baseline: the score alone.
    assert set(components(koos_0)) == {"day"} and "derivedFrom" not in koos_0


@pytest.mark.django_db
def test_a_partner_not_subscribed_to_referral_follow_up_reads_no_observation():
    partner, key = make_partner(
        events=[event_types.TREATED, event_types.COURSE_CLOSED, event_types.ADVERSE_EVENT]
    )
    course = followed_course(partner)

    resources = read_bundle(key, course.case_id)

    assert "Observation" not in [r["resourceType"] for r in resources]
    assert [r["resourceType"] for r in resources] == [
        "ServiceRequest",
        "Task",
        "Provenance",
        "Procedure",
        "Task",
    ]


@pytest.mark.parametrize(
    "key, loinc",
    [("pain_nrs", "72514-3"), ("koos_jr", "82324-5"), ("hoos_jr", "82323-7"), ("sane", None)],
)
def test_each_shipped_instrument_is_coded_in_the_clinics_system_and_loinc_where_published(key, loinc):
    response = FormResponse(
        instrument=key,
        time_point=TimePoint(day=0),
        score=50.0,
        submitted_at=timezone.now(),
    )

    resource = observation(response, case=_Case())

    Observation.model_validate(resource)
    assert codings(resource).get(INSTRUMENT_SYSTEM) == key
    assert codings(resource).get(LOINC) == loinc


@pytest.mark.parametrize(
    "baseline, responder, absent",
    [(50.0, None, "not-applicable"), (None, None, "unknown")],
)
def test_a_responder_value_that_cannot_be_given_says_why(baseline, responder, absent):
    # SANE has no MCID for the knee or hip; a course treated before its baseline has none to compare.
    response = FormResponse(
        instrument="sane",
        time_point=TimePoint(day=91),
        score=70.0,
        baseline_score=baseline,
        improvement=None if baseline is None else 20.0,
        responder=responder,
        submitted_at=timezone.now() - timedelta(days=1),
    )

    resource = observation(response, case=_Case())

    Observation.model_validate(resource)
    part = components(resource)["responder"]
    assert "valueBoolean" not in part and part["dataAbsentReason"]["coding"][0]["code"] == absent
    assert ("baseline" in components(resource)) is (baseline is not None)


@pytest.mark.django_db
def test_a_fhir_partners_follow_up_event_is_the_observation_and_the_service_request_without_a_name(receiver):
    endpoint = receiver()
    partner, _ = make_partner(events=[FOLLOW_UP], webhook_url=endpoint.url, webhook_format="fhir")
    course = make_course(partner=partner, external_id="RF-FHIR-OBS", patient=PATIENT)
    desk_answer(course, 0, pain=7, koos_each=3)
    make_signed_treatment(course)
    desk_answer(course, 42, pain=4, koos_each=2)

    tasks.deliver_due_notifications()

    payloads = [Webhook(partner.webhook_secret).verify(body, headers) for headers, body in endpoint.received]
    bundles = [p["data"] for p in payloads if p["type"] == FOLLOW_UP]
    assert len(bundles) == 4
    for data in bundles:
        Bundle.model_validate(data)
        observation_resource, request = (entry["resource"] for entry in data["entry"])
        assert (observation_resource["resourceType"], request["resourceType"]) == (
            "Observation",
            "ServiceRequest",
        )
        assert request["identifier"][0]["value"] == "RF-FHIR-OBS"
        assert request["subject"] == observation_resource["subject"] and "display" not in request["subject"]
        said = json.dumps(data)
        assert not [word for word in ("Eudora", "Marchbanks", "1952-07-30", "koos_jr_") if word in said]
    # Rendered once from the event: the stored body is the Bundle that was sent.
    stored = PartnerNotification.objects.filter(partner=partner, event_type=FOLLOW_UP)
    assert all(row.payload["data"]["resourceType"] == "Bundle" for row in stored)
    day_42 = [
        d for d in bundles if components(d["entry"][0]["resource"])["day"]["valueQuantity"]["value"] == 42
    ]
    assert {components(d["entry"][0]["resource"])["responder"]["valueBoolean"] for d in day_42} == {True}
