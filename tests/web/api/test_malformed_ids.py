"""A malformed id in a path is the partner's mistake, said in the API's own format: a 400
problem+json naming the id (an OperationOutcome on the FHIR door), never a 500 or a page."""

import pytest
from rest_framework.test import APIClient

from tests.factories import make_partner

JSON_PATHS = [
    ("get", "/api/v1/referrals/not-a-uuid/"),
    ("post", "/api/v1/referrals/not-a-uuid/information/"),
    ("post", "/api/v1/referrals/not-a-uuid/withdraw/"),
    ("get", "/api/v1/referrals/12345678-1234-1234-1234-12345678901Z/"),
    ("post", "/api/v1/webhook-deliveries/not-a-uuid/resend"),
    ("get", "/api/v1/referrals/not-a-uuid/adverse-events/"),
    ("post", "/api/v1/referrals/not-a-uuid/adverse-events"),
    ("post", "/api/v1/referrals/not-a-uuid/adverse-events/3f6c1c55-8f43-4b7e-9b8e-3c1f3f2f8a10/updates/"),
]


def client_for(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), JSON_PATHS)
def test_a_malformed_id_is_a_400_problem_naming_the_id(method, path):
    _, key = make_partner()

    response = getattr(client_for(key), method)(path, {}, format="json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    (error,) = response.json()["errors"]
    assert error["field"] == "id" and "UUID" in error["detail"]


@pytest.mark.django_db
def test_a_malformed_adverse_event_id_is_a_400_naming_it():
    _, key = make_partner()
    path = "/api/v1/referrals/3f6c1c55-8f43-4b7e-9b8e-3c1f3f2f8a10/adverse-events/AE-1/updates/"

    response = client_for(key).post(path, {}, format="json")

    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["field"] == "ae_id" and "UUID" in error["detail"]


@pytest.mark.django_db
def test_a_malformed_id_on_the_fhir_door_is_a_400_operation_outcome():
    _, key = make_partner()

    response = client_for(key).get("/api/v1/referrals/not-a-uuid/fhir")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/fhir+json"
    body = response.json()
    assert body["resourceType"] == "OperationOutcome" and body["issue"][0]["code"] == "invalid"


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), [*JSON_PATHS, ("get", "/api/v1/referrals/not-a-uuid/fhir")])
def test_without_a_key_the_caller_is_asked_who_it_is_first(method, path):
    response = getattr(APIClient(), method)(path, {}, format="json")

    assert response.status_code == 401


@pytest.mark.django_db
def test_a_uuid_written_in_upper_case_is_not_told_it_is_no_id():
    _, key = make_partner()

    response = client_for(key).get("/api/v1/referrals/3F6C1C55-8F43-4B7E-9B8E-3C1F3F2F8A10/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
