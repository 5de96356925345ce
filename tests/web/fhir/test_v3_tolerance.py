"""Partner API v1 ("How v1 grows"): rule set v3 adds no rule to what a referral could already
carry. supportingInfo (and an answer's contained resources) may hold things that are not ours,
a LOINC Observation, a SNOMED CT problem, a resource on the partner's server; v1 accepted and
ignored them, and still does. Only an Observation in our finding code system and a Condition
coded in ICD-10-CM (or marked `additional`) are read, and only those are checked."""

import json

import pytest
from rest_framework.test import APIClient

from intake.models import Case, CaseStatus
from tests.factories import make_partner
from tests.web.fhir.examples import hl7, physiotherapy_referral
from tests.web.fhir.test_v3_answers import communication, on_hold, send
from tests.web.fhir.v3_examples import LOINC, observation, supported

FHIR_JSON = "application/fhir+json"


def post(resource):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {make_partner()[1]}")
    return client.post("/api/v1/fhir/ServiceRequest", json.dumps(resource), content_type=FHIR_JSON)


def loinc_observation(id_: str = "hba1c") -> dict:
    """A lab result as a partner's EHR codes it: LOINC only (HbA1c 6.1 %)."""
    return {
        "resourceType": "Observation",
        "id": id_,
        "status": "preliminary",
        "code": {"coding": [{"system": LOINC, "code": "4548-4", "display": "Hemoglobin A1c"}]},
        "valueQuantity": {"value": 6.1, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%"},
    }


def snomed_condition() -> dict:
    """HL7's Condition "example": a burn of the ear, coded in SNOMED CT only, no `additional`."""
    return hl7("Condition-example") | {"id": "burn"}


def with_unreferenced(request: dict, resource: dict) -> dict:
    request["contained"].append(resource)
    return request


@pytest.mark.django_db
@pytest.mark.parametrize(
    "build",
    [
        lambda: supported(physiotherapy_referral(), loinc_observation()),
        lambda: supported(physiotherapy_referral(), snomed_condition()),
        lambda: with_unreferenced(physiotherapy_referral(), loinc_observation()),
        lambda: (
            physiotherapy_referral()
            | {"supportingInfo": [{"reference": "#screening"}, {"reference": "Observation/123"}]}
        ),
    ],
    ids=["loinc-observation", "snomed-condition", "unreferenced-observation", "partners-server"],
)
def test_what_v1_accepted_in_supporting_info_is_still_accepted_and_ignored(build):
    response = post(build())

    assert response.status_code == 201, response.content
    case = Case.objects.get(pk=response.json()["id"])
    assert case.condition_code == "E84.0"
    assert (case.findings, case.additional_conditions) == ({}, [])


@pytest.mark.django_db
def test_an_observation_in_our_code_is_still_checked_beside_one_that_is_not():
    request = supported(
        physiotherapy_referral(), loinc_observation(), observation("kl", "kl_grade", valueString="2")
    )

    response = post(request)

    assert response.status_code == 400, response.content
    [issue] = response.json()["issue"]
    assert issue["expression"] == ["ServiceRequest.supportingInfo[2].resolve().value"]
    assert "valueInteger (got valueString)" in issue["diagnostics"]
    assert not Case.objects.exists()


@pytest.mark.django_db
def test_an_answer_may_still_contain_an_observation_it_does_not_reference():
    _, key = make_partner()
    case_id = on_hold(key)
    message = communication(case_id, loinc_observation())
    message["payload"] = message["payload"][:1]  # the text only, as a v1 answer

    response = send(key, message)

    assert response.status_code == 200, response.content
    case = Case.objects.get(pk=case_id)
    assert (case.status, case.findings) == (CaseStatus.DRAFTING, {})
