"""POST /api/v1/fhir/AdverseEvent: a FHIR partner reports an adverse event on its own referral with
the same rules, values and idempotency as the JSON door, and every mistake comes back as an
OperationOutcome pointing at the FHIR element to fix."""

import json

import pytest
from django.conf import settings
from django.utils import timezone
from fhir.resources.R4B.adverseevent import AdverseEvent as FHIRAdverseEvent
from fhir.resources.R4B.operationoutcome import OperationOutcome
from rest_framework.test import APIClient

from clinic.aftercare.models import AdverseEvent
from clinic.web.api import throttle
from clinic.web.fhir.adverse_event_outbound import (
    AE_OUTCOME,
    CAUSALITY,
    CTCAE_GRADE,
    PARTNER_AE_ID,
    QUALIFICATION_SYSTEM,
    SERIOUSNESS,
    SERIOUSNESS_CRITERIA,
)
from clinic.web.fhir.aftercare import REFERRAL_PATIENT
from tests.aftercare.factories import make_course, make_signed_treatment
from tests.factories import make_partner, make_referral

URL = "/api/v1/fhir/AdverseEvent"
FHIR_JSON = "application/fhir+json"
GRADE_PLACE = f"AdverseEvent.extension('{CTCAE_GRADE}')"


@pytest.fixture(autouse=True)
def fresh_throttle():
    throttle.store(settings.CACHE_URL).reset()


def client_of(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def post(client: APIClient, resource: dict, **headers):
    return client.post(URL, json.dumps(resource), content_type=FHIR_JSON, headers=headers)


def fhir_report(suspect: str, **changes) -> dict:
    """A grade 3 hospitalization, reported by the referring physician, as FHIR R4."""
    resource = {
        "resourceType": "AdverseEvent",
        "identifier": {"system": PARTNER_AE_ID, "value": "AE-77"},
        "actuality": "actual",
        "subject": {"display": "The patient we referred"},
        "date": timezone.localdate().isoformat(),
        "event": {"text": "Septic arthritis of the treated knee; admitted for IV antibiotics."},
        "seriousness": {"coding": [{"system": SERIOUSNESS, "code": "SeriousResultsInHospitalization"}]},
        "outcome": {"coding": [{"system": AE_OUTCOME, "code": "recovering"}]},
        "extension": [{"url": CTCAE_GRADE, "valueInteger": 3}],
        "contained": [
            {
                "resourceType": "Practitioner",
                "id": "reporter",
                "name": [{"given": ["Ana"], "family": "Reyes"}],
                "qualification": [
                    {"code": {"coding": [{"system": QUALIFICATION_SYSTEM, "code": "physician"}]}}
                ],
            }
        ],
        "recorder": {"reference": "#reporter"},
        "suspectEntity": [
            {
                "instance": {"reference": suspect},
                "causality": [{"assessment": {"coding": [{"system": CAUSALITY, "code": "Possible"}]}}],
            }
        ],
    }
    return resource | changes


# The same report as the JSON door takes it.
JSON_REPORT = {
    "external_id": "AE-77",
    "description": "Septic arthritis of the treated knee; admitted for IV antibiotics.",
    "ctcae_grade": 3,
    "serious": True,
    "seriousness_criteria": ["hospitalization"],
    "outcome": "recovering",
    "reporter": {"name": "Ana Reyes", "qualification": "physician"},
    "relatedness_opinion": "possible",
}
STORED = (
    "onset",
    "description",
    "ctcae_grade",
    "serious",
    "seriousness_criteria",
    "outcome",
    "action_taken",
    "reporter_name",
    "reporter_qualification",
    "relatedness_opinion",
    "source",
    "triage",
    "external_id",
)


def treated(**partner_fields):
    partner, key = make_partner(**partner_fields)
    course = make_course(partner=partner)
    return partner, client_of(key), course, make_signed_treatment(course)


def issues(response, status: int) -> list[dict]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == FHIR_JSON
    OperationOutcome.model_validate(response.json())
    return response.json()["issue"]


@pytest.mark.django_db
def test_a_fhir_partner_reports_on_its_treatment_and_gets_the_adverse_event_as_stored():
    partner, client, course, record = treated(events=["referral.treated"])

    response = post(client, fhir_report(f"Procedure/{record.pk}"))

    assert response.status_code == 201, response.content
    assert response["Content-Type"] == FHIR_JSON
    answer = response.json()
    FHIRAdverseEvent.model_validate(answer)
    stored = AdverseEvent.objects.get(pk=answer["id"])
    assert (stored.partner, stored.source, stored.triage) == (partner, "partner", "received")
    assert (stored.ctcae_grade, stored.serious, stored.seriousness_criteria) == (3, True, ["hospitalization"])
    assert (stored.reporter_name, stored.reporter_qualification) == ("Ana Reyes", "physician")
    assert stored.relatedness_opinion == "possible" and stored.external_id == "AE-77"
    assert answer["identifier"] == {"system": PARTNER_AE_ID, "value": "AE-77"}
    assert answer["recordedDate"] == stored.received_at.isoformat()
    assert answer["suspectEntity"][0]["instance"] == {"reference": f"urn:uuid:{record.pk}"}
    assert {"url": SERIOUSNESS_CRITERIA, "valueCode": "hospitalization"} in answer["extension"]
    assert answer["subject"]["identifier"] == {"system": REFERRAL_PATIENT, "value": str(course.case_id)}


@pytest.mark.django_db
def test_both_doors_store_the_same_report():
    partner, key = make_partner()
    first, second = make_course(partner=partner), make_course(partner=partner)
    client = client_of(key)

    by_json = client.post(
        f"/api/v1/referrals/{first.case_id}/adverse-events/",
        JSON_REPORT | {"onset": timezone.localdate().isoformat()},
        format="json",
    )
    by_fhir = post(client, fhir_report(f"ServiceRequest/{second.case_id}", identifier={"value": "AE-78"}))

    assert by_json.status_code == 201 and by_fhir.status_code == 201, by_fhir.content
    one, other = AdverseEvent.objects.get(course=first), AdverseEvent.objects.get(course=second)
    differ = [name for name in STORED if getattr(one, name) != getattr(other, name)]
    assert differ == ["external_id"]


@pytest.mark.django_db
def test_a_retry_with_the_same_key_replays_and_a_reused_identifier_is_409_naming_the_report():
    _, client, _, record = treated()
    body = fhir_report(f"Procedure/{record.pk}")

    first = post(client, body, **{"Idempotency-Key": "k-1"})
    again = post(client, body, **{"Idempotency-Key": "k-1"})
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json() and AdverseEvent.objects.count() == 1

    (issue,) = issues(post(client, body), 409)
    assert issue["code"] == "duplicate" and issue["details"]["coding"][0]["code"] == "duplicate-adverse-event"
    assert first.json()["id"] in issue["diagnostics"] and issue["expression"] == ["AdverseEvent.identifier"]
    assert AdverseEvent.objects.count() == 1


@pytest.mark.django_db
def test_another_partners_referral_or_treatment_is_not_found():
    _, _, other_course, other_record = treated()
    _, client, _, _ = treated()

    for suspect in (
        f"ServiceRequest/{other_course.case_id}",
        f"Procedure/{other_record.pk}",
        f"urn:uuid:{other_record.pk}",
        "Procedure/00000000-0000-4000-8000-000000000000",
    ):
        (issue,) = issues(post(client, fhir_report(suspect)), 404)
        assert issue["code"] == "not-found" and issue["expression"] == [
            "AdverseEvent.suspectEntity[0].instance"
        ]
    assert AdverseEvent.objects.count() == 0


@pytest.mark.django_db
def test_a_subject_naming_another_referral_than_the_suspect_is_refused():
    partner, client, course, record = treated()
    other = make_course(partner=partner)
    subject = {"type": "Patient", "identifier": {"system": REFERRAL_PATIENT, "value": str(other.case_id)}}

    (issue,) = issues(post(client, fhir_report(f"Procedure/{record.pk}", subject=subject)), 400)

    assert "different referrals" in issue["diagnostics"] and AdverseEvent.objects.count() == 0


@pytest.mark.django_db
def test_a_referral_without_a_treatment_course_is_409_no_treatment():
    partner, key = make_partner()
    undecided = make_referral(partner, external_id="RF-501")

    (issue,) = issues(post(client_of(key), fhir_report(f"ServiceRequest/{undecided.pk}")), 409)

    assert issue["details"]["coding"][0]["code"] == "no-treatment" and "RF-501" in issue["diagnostics"]


@pytest.mark.django_db
def test_before_any_treatment_the_report_names_the_service_request():
    partner, key = make_partner()
    course = make_course(partner=partner)  # scheduled: a harvest can harm before any administration

    response = post(client_of(key), fhir_report(f"ServiceRequest/{course.case_id}"))

    assert response.status_code == 201, response.content
    assert response.json()["suspectEntity"][0]["instance"] == {"reference": f"urn:uuid:{course.case_id}"}


@pytest.mark.django_db
def test_missing_members_say_where_to_send_them():
    _, client, _, record = treated()
    body = fhir_report(f"Procedure/{record.pk}")
    for member in ("date", "extension", "outcome", "recorder", "identifier"):
        del body[member]

    found = {issue["expression"][0]: issue for issue in issues(post(client, body), 400)}

    assert set(found) == {
        "AdverseEvent.date",
        GRADE_PLACE,
        "AdverseEvent.outcome",
        "AdverseEvent.recorder",
        "AdverseEvent.identifier",
    }
    assert all(issue["code"] == "required" for issue in found.values())
    assert CTCAE_GRADE in found[GRADE_PLACE]["diagnostics"]
    assert "YYYY-MM-DD" in found["AdverseEvent.date"]["diagnostics"]


@pytest.mark.django_db
def test_wrong_values_are_refused_at_their_elements():
    _, client, course, record = treated()
    suspect = f"Procedure/{record.pk}"
    cases = [
        ({"date": "2026-11"}, "AdverseEvent.date", "value"),
        ({"extension": [{"url": CTCAE_GRADE, "valueInteger": 7}]}, GRADE_PLACE, "value"),
        (
            {"outcome": {"coding": [{"system": AE_OUTCOME, "code": "better"}]}},
            "AdverseEvent.outcome",
            "code-invalid",
        ),
        (
            {"seriousness": {"coding": [{"system": SERIOUSNESS, "code": "Bad"}]}},
            "AdverseEvent.seriousness",
            "code-invalid",
        ),
        ({"actuality": "potential"}, "AdverseEvent.actuality", "not-supported"),
        # Onset before the decision: the service's own check, at the element it came from.
        ({"date": "2001-01-01"}, "AdverseEvent.date", "value"),
    ]
    for change, where, code in cases:
        found = issues(post(client, fhir_report(suspect, **change)), 400)
        assert [(i["expression"], i["code"]) for i in found] == [([where], code)], change
    assert AdverseEvent.objects.count() == 0


@pytest.mark.django_db
def test_a_seriousness_code_must_agree_with_the_criteria_listed():
    _, client, _, record = treated()
    body = fhir_report(
        f"Procedure/{record.pk}",
        seriousness={"coding": [{"system": SERIOUSNESS, "code": "SeriousResultsInDeath"}]},
        extension=[
            {"url": CTCAE_GRADE, "valueInteger": 3},
            {"url": SERIOUSNESS_CRITERIA, "valueCode": "hospitalization"},
        ],
    )

    (issue,) = issues(post(client, body), 400)

    assert issue["expression"] == ["AdverseEvent.seriousness"] and "death" in issue["diagnostics"]


@pytest.mark.django_db
def test_a_patient_reporting_is_a_related_person_and_plain_serious_takes_its_criteria_from_extensions():
    _, client, _, record = treated()
    body = fhir_report(
        f"Procedure/{record.pk}",
        seriousness={"coding": [{"system": SERIOUSNESS, "code": "Serious"}]},
        extension=[
            {"url": CTCAE_GRADE, "valueInteger": 3},
            {"url": SERIOUSNESS_CRITERIA, "valueCode": "hospitalization"},
            {"url": SERIOUSNESS_CRITERIA, "valueCode": "important_medical_event"},
        ],
        contained=[
            {
                "resourceType": "RelatedPerson",
                "id": "reporter",
                "patient": {"display": "The patient"},
                "relationship": [
                    {
                        "coding": [
                            {"system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode", "code": "ONESELF"}
                        ]
                    }
                ],
                "name": [{"text": "Ana Silva"}],
            }
        ],
    )

    response = post(client, body)

    assert response.status_code == 201, response.content
    stored = AdverseEvent.objects.get(pk=response.json()["id"])
    assert (stored.reporter_name, stored.reporter_qualification) == ("Ana Silva", "patient")
    assert stored.seriousness_criteria == ["hospitalization", "important_medical_event"]
    assert response.json()["contained"][0]["resourceType"] == "RelatedPerson"
