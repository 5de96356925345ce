"""A referral's `priority` (routine | urgent, routine when left out; FHIR ServiceRequest.priority)
and its consent form's version (`consent.form_version`; a FHIR screening item): stored on the
case, read back, and refused with a message saying what to send, at both doors."""

import json

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from clinic.web.api import throttle
from intake.models import Case, Priority
from recommendations import review
from recommendations.services import make_draft
from tests.factories import make_partner, make_user, referral_body
from tests.web.fhir.examples import physiotherapy_referral
from tests.web.fhir.v3_examples import answer, consent_by

FHIR_JSON = "application/fhir+json"
FORM_VERSION_ITEM = "QuestionnaireResponse.item.where(linkId='consent_form_version')"


@pytest.fixture(autouse=True)
def fresh_throttle():
    throttle.store(settings.CACHE_URL).reset()


@pytest.fixture
def client() -> APIClient:
    _, key = make_partner()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return api


def consent(**changes) -> dict:
    return {"obtained": True, "by": "patient", "form_version": "2026-03", "assent": None} | changes


def referral(**changes) -> dict:
    body = referral_body(external_id=changes.pop("external_id", "RF-P1")) | changes
    if "consent" in changes:
        body.pop("consent_obtained")
    return body


def errors_of(response) -> dict[str, str]:
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    return {error["pointer"]: error["detail"] for error in response.json()["errors"]}


# --- JSON ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_priority_and_form_version_are_stored_and_priority_is_read_back_in_fhir(client):
    response = client.post(
        "/api/v1/referrals/", referral(priority="urgent", consent=consent(form_version="v7")), format="json"
    )

    assert response.status_code == 201, response.content
    case = Case.objects.get(pk=response.json()["id"])
    assert (case.priority, case.consent_form_version, case.consent_by) == (Priority.URGENT, "v7", "patient")
    bundle = client.get(f"/api/v1/referrals/{case.pk}/fhir").json()
    request = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "ServiceRequest"
    )
    assert request["priority"] == "urgent"


@pytest.mark.django_db
def test_without_them_a_referral_is_routine_and_has_no_form_version(client):
    case = Case.objects.get(pk=client.post("/api/v1/referrals/", referral(), format="json").json()["id"])

    assert (case.priority, case.consent_form_version) == (Priority.ROUTINE, "")


@pytest.mark.django_db
@pytest.mark.parametrize("sent", ["asap", "URGENT", 1, ["urgent"], "", None])
def test_a_priority_we_do_not_have_is_refused_saying_what_to_send(client, sent):
    errors = errors_of(client.post("/api/v1/referrals/", referral(priority=sent), format="json"))

    assert set(errors) == {"#/priority"}
    assert "routine or urgent" in errors["#/priority"]
    assert not Case.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "sent, says",
    [
        ("v" * 33, "at most 32 characters"),
        (None, "as text"),
        ({"version": 3}, "as text"),
        (True, "as text"),
    ],
)
def test_a_form_version_that_cannot_be_stored_is_refused_saying_what_to_send(client, sent, says):
    response = client.post("/api/v1/referrals/", referral(consent=consent(form_version=sent)), format="json")

    errors = errors_of(response)
    assert set(errors) == {"#/consent/form_version"}
    assert says in errors["#/consent/form_version"] and "2026-03" in errors["#/consent/form_version"]


@pytest.mark.django_db
def test_an_answer_gives_the_same_message_for_its_form_version(client):
    case_id = client.post("/api/v1/referrals/", referral(), format="json").json()["id"]
    make_draft(case_id=case_id)
    review.request_information(case_id=case_id, user=make_user(group="Specialists"), question="Form?")

    response = client.post(
        f"/api/v1/referrals/{case_id}/information",  # without the slash: the same endpoint
        {"answer": "Signed", "consent_obtained": True, "consent_form_version": "x" * 40},
        format="json",
    )

    assert "at most 32 characters" in errors_of(response)["#/consent_form_version"]


# --- FHIR ----------------------------------------------------------------------------------------


def post_fhir(client: APIClient, request: dict, external_id: str):
    request["identifier"][0]["value"] = external_id
    return client.post("/api/v1/fhir/ServiceRequest", json.dumps(request), content_type=FHIR_JSON)


def issues_of(response) -> dict[str, str]:
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == FHIR_JSON
    return {issue["expression"][0]: issue["diagnostics"] for issue in response.json()["issue"]}


def screening_items(request: dict) -> list[dict]:
    return next(r for r in request["contained"] if r["resourceType"] == "QuestionnaireResponse")["item"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "sent, stored, written_back",
    [
        ("routine", Priority.ROUTINE, "routine"),
        ("urgent", Priority.URGENT, "urgent"),
        # FHIR's two levels above urgent: never routine in our two-level queue.
        ("asap", Priority.URGENT, "urgent"),
        ("stat", Priority.URGENT, "urgent"),
        (None, Priority.ROUTINE, "routine"),
    ],
)
def test_fhir_priority_is_stored_in_our_two_levels(client, sent, stored, written_back):
    request = physiotherapy_referral() | ({"priority": sent} if sent else {})

    response = post_fhir(client, request, f"FHIR-{sent}")

    assert response.status_code == 201, response.content
    assert Case.objects.get(pk=response.json()["id"]).priority == stored
    assert response.json()["priority"] == written_back


@pytest.mark.django_db
@pytest.mark.parametrize("sent", ["whenever", "STAT", 5, ["urgent"]])
def test_a_priority_fhir_does_not_have_is_an_outcome_at_the_element(client, sent):
    issues = issues_of(post_fhir(client, physiotherapy_referral() | {"priority": sent}, "FHIR-BAD"))

    assert set(issues) == {"ServiceRequest.priority"}
    assert not Case.objects.exists()


@pytest.mark.django_db
def test_fhir_form_version_is_stored_or_refused_at_its_item_with_the_json_message(client):
    good = physiotherapy_referral()
    screening_items(good).extend([consent_by("patient"), answer("consent_form_version", valueString="v9")])
    long = physiotherapy_referral()
    screening_items(long).extend(
        [consent_by("patient"), answer("consent_form_version", valueString="x" * 33)]
    )

    stored = post_fhir(client, good, "FHIR-V9")
    refused = post_fhir(client, long, "FHIR-LONG")

    assert Case.objects.get(pk=stored.json()["id"]).consent_form_version == "v9"
    assert "at most 32 characters" in issues_of(refused)[FORM_VERSION_ITEM]
