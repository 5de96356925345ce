"""A malformed id anywhere on the FHIR door, in the path or in a reference, is an OperationOutcome
(4xx, application/fhir+json) naming where it is, never a page or a 500: with and without the
trailing slash, and with DEBUG on (where Django would answer with its HTML 404 page)."""

import json

import pytest
from django.test import override_settings
from fhir.resources.R4B.operationoutcome import OperationOutcome
from rest_framework.test import APIClient

from tests.factories import make_partner

FHIR_JSON = "application/fhir+json"
MALFORMED = ["not-a-uuid", "12345", "3f6c1c55-8f43-4b7e-9b8e-3c1f3f2f8a1Z", "%20", "...", "ü"]


@pytest.fixture
def client() -> APIClient:
    _, key = make_partner()
    api = APIClient(raise_request_exception=False)
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return api


def outcome_of(response, status: int) -> OperationOutcome:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == FHIR_JSON
    return OperationOutcome.model_validate(response.json())  # a valid FHIR R4 resource


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True], ids=["production", "DEBUG"])
@pytest.mark.parametrize("slash", ["", "/"], ids=["no-slash", "slash"])
@pytest.mark.parametrize("bad_id", MALFORMED)
def test_a_malformed_id_in_the_bundle_path_is_a_400_operation_outcome(client, debug, slash, bad_id):
    with override_settings(DEBUG=debug):
        response = client.get(f"/api/v1/referrals/{bad_id}/fhir{slash}")

    outcome = outcome_of(response, 400)
    assert outcome.issue[0].code == "invalid"
    assert "UUID" in outcome.issue[0].diagnostics


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True], ids=["production", "DEBUG"])
@pytest.mark.parametrize("slash", ["", "/"], ids=["no-slash", "slash"])
def test_an_id_holding_an_encoded_slash_is_a_404_operation_outcome(client, debug, slash):
    # It arrives decoded, as two segments: a path we do not serve, said in FHIR.
    with override_settings(DEBUG=debug):
        response = client.get(f"/api/v1/referrals/3f6c1c55%2F8f43/fhir{slash}")

    assert outcome_of(response, 404).issue[0].code == "not-found"


@pytest.mark.django_db
@pytest.mark.parametrize("slash", ["", "/"], ids=["no-slash", "slash"])
def test_an_id_of_no_referral_is_a_404_operation_outcome(client, slash):
    response = client.get(f"/api/v1/referrals/3F6C1C55-8F43-4B7E-9B8E-3C1F3F2F8A10/fhir{slash}")

    assert outcome_of(response, 404).issue[0].code == "not-found"


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True], ids=["production", "DEBUG"])
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/fhir/ServiceRequest/not-a-uuid",
        "/api/v1/fhir/ServiceRequest/3f6c1c55-8f43-4b7e-9b8e-3c1f3f2f8a10",
        "/api/v1/fhir/Task/not-a-uuid",
        "/api/v1/fhir/Communication/not-a-uuid/",
        "/api/v1/fhir/Patient",
        "/api/v1/fhir/",
    ],
)
def test_a_fhir_path_we_do_not_serve_is_a_404_operation_outcome(client, debug, path):
    with override_settings(DEBUG=debug):
        response = client.get(path)

    assert outcome_of(response, 404).issue[0].code == "not-found"


def communication(reference: str) -> dict:
    return {
        "resourceType": "Communication",
        "status": "completed",
        "basedOn": [{"reference": reference}],
        "payload": [{"contentString": "Right knee only."}],
    }


def abort_task(reference: str) -> dict:
    return {
        "resourceType": "Task",
        "status": "requested",
        "intent": "order",
        "code": {"coding": [{"system": "http://hl7.org/fhir/CodeSystem/task-code", "code": "abort"}]},
        "focus": {"reference": reference},
        "reasonCode": {"text": "The patient chose another clinic."},
    }


@pytest.mark.django_db
@pytest.mark.parametrize("slash", ["", "/"], ids=["no-slash", "slash"])
@pytest.mark.parametrize(
    "reference", ["ServiceRequest/not-a-uuid", "ServiceRequest/", "not-a-uuid", "ServiceRequest/12345"]
)
@pytest.mark.parametrize(
    "endpoint, resource, where",
    [
        ("/api/v1/fhir/Communication", communication, "Communication.basedOn"),
        ("/api/v1/fhir/Task", abort_task, "Task.focus"),
    ],
)
def test_a_malformed_referral_reference_is_a_400_at_the_element(
    client, slash, reference, endpoint, resource, where
):
    response = client.post(endpoint + slash, json.dumps(resource(reference)), content_type=FHIR_JSON)

    outcome = outcome_of(response, 400)
    assert [issue.expression for issue in outcome.issue] == [[where]]
    assert "ServiceRequest/<id>" in outcome.issue[0].diagnostics


@pytest.mark.django_db
@pytest.mark.parametrize(
    "endpoint, resource",
    [("/api/v1/fhir/Communication", communication), ("/api/v1/fhir/Task", abort_task)],
)
def test_a_well_formed_reference_to_no_referral_is_a_404_operation_outcome(client, endpoint, resource):
    reference = "ServiceRequest/3f6c1c55-8f43-4b7e-9b8e-3c1f3f2f8a10"

    response = client.post(endpoint, json.dumps(resource(reference)), content_type=FHIR_JSON)

    assert outcome_of(response, 404).issue[0].code == "not-found"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/referrals/not-a-uuid/fhir", "/api/v1/referrals/not-a-uuid/fhir/"])
def test_without_a_key_the_caller_is_asked_who_it_is_in_fhir(path):
    response = APIClient().get(path)

    assert outcome_of(response, 401).issue[0].code == "login"
