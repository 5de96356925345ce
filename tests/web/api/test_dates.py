"""A birth date is read only as every door's message promises it: YYYY-MM-DD in ASCII digits.
Anything else is the caller's 400 naming the field (FHIR: an OperationOutcome at
Patient.birthDate), never a 500 and never a date read some other way."""

import copy
import json

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from clinic.web.api import throttle
from intake.models import Case, Patient
from tests.factories import make_partner, make_user, referral_body
from tests.web.desk.test_pages import patient_form
from tests.web.fhir.examples import physiotherapy_referral

# Each accepted by Python's or Django's date parsers before; none is what the message promises.
NOT_AS_PROMISED = [
    "19610402",  # ISO basic format
    "\uff11\uff19\uff16\uff11-\uff10\uff14-\uff10\uff12",  # full-width digits
    "\u0661\u0669\u0666\u0661-\u0660\u0664-\u0660\u0662",  # Arabic-Indic digits
    "1961-W14-7",  # ISO week date
    "1961-4-2",
    "04/02/1961",
    "1961-04-02T00:00:00",
    " 1961-04-02",
    "1961-04-02\n",
    "",
]


@pytest.fixture(autouse=True)
def fresh_throttle():
    throttle.store(settings.CACHE_URL).reset()


def partner_client() -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {make_partner()[1]}")
    return client


def with_birth_date(value) -> dict:
    body = copy.deepcopy(referral_body())
    body["patient"]["birth_date"] = value
    return body


@pytest.mark.django_db
@pytest.mark.parametrize("written", [*NOT_AS_PROMISED, 19610402, None, ["1961-04-02"]])
def test_the_partner_api_refuses_a_birth_date_not_written_yyyy_mm_dd(written):
    response = partner_client().post("/api/v1/referrals/", with_birth_date(written), format="json")

    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    (error,) = response.json()["errors"]
    assert error["field"] == "patient.birth_date"
    assert not Case.objects.exists()


@pytest.mark.django_db
def test_the_partner_api_says_a_day_not_in_the_calendar_is_not_one():
    response = partner_client().post("/api/v1/referrals/", with_birth_date("1961-02-30"), format="json")

    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["field"] == "patient.birth_date" and "1961-02-30 is not a day" in error["detail"]


@pytest.mark.django_db
def test_the_partner_api_still_takes_a_date_written_as_promised():
    response = partner_client().post("/api/v1/referrals/", with_birth_date("1961-04-02"), format="json")

    assert response.status_code == 201, response.content
    assert str(Patient.objects.get().birth_date) == "1961-04-02"


def fhir_with_birth_date(value) -> dict:
    request = physiotherapy_referral()
    patient = next(r for r in request["contained"] if r["resourceType"] == "Patient")
    patient["birthDate"] = value
    return request


@pytest.mark.django_db
@pytest.mark.parametrize("written", [d for d in NOT_AS_PROMISED if d] + ["1961-02-30", "1961", "1961-04"])
def test_the_fhir_door_answers_an_operation_outcome_at_the_birth_date(written):
    response = partner_client().post(
        "/api/v1/fhir/ServiceRequest",
        json.dumps(fhir_with_birth_date(written)),
        content_type="application/fhir+json",
    )

    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/fhir+json"
    issues = [issue for issue in response.json()["issue"] if "birthDate" in issue["expression"][0]]
    said = [issue["diagnostics"] for issue in issues]
    assert said and all("YYYY-MM-DD" in d or "day value is outside" in d for d in said), said
    assert not Case.objects.exists()


@pytest.fixture
def desk(client):
    client.force_login(make_user(group="Front desk"))
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("typed", [d for d in NOT_AS_PROMISED if d.strip() == d and d])
def test_the_desk_refuses_a_birth_date_not_typed_yyyy_mm_dd(desk, typed):
    response = desk.post("/desk/patients/new/", patient_form(birth_date=typed))

    assert response.status_code == 200
    assert 'id="id_birth_date_error"' in response.content.decode()
    assert "Enter the date as YYYY-MM-DD" in response.content.decode()
    assert not Patient.objects.exists()


@pytest.mark.django_db
def test_the_desk_takes_the_date_its_date_input_sends(desk):
    response = desk.post("/desk/patients/new/", patient_form(birth_date="1961-04-02"))

    assert response.status_code == 302
    assert str(Patient.objects.get().birth_date) == "1961-04-02"
