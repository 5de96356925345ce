"""Answering a question through the FHIR door (POST /api/v1/fhir/Communication) with rule set
v3's elements: consent (and, at last, consent_obtained itself), findings, additional conditions
and answers, carried in contained resources the payload references, as the JSON door takes them."""

import json

import pytest
from fhir.resources.R4B.operationoutcome import OperationOutcome
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from clinic.web.fhir import SCREENING_QUESTIONNAIRE
from clinic.web.fhir.followups import read_answer
from clinic.web.fhir.reading import FHIRInputError
from intake.models import Case, CaseStatus
from recommendations import review
from recommendations.services import make_draft
from tests.factories import make_partner, make_user
from tests.web.fhir.examples import damaged, knee_referral_bundle, screening
from tests.web.fhir.v3_examples import answer, condition, consent_by, observation, quantity, supported

FHIR_JSON = "application/fhir+json"


def client_for(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def on_hold(key: str, *, consent: bool = True, findings: tuple[dict, ...] = ()) -> str:
    """A FHIR knee referral (both knees, M17.0) on which the specialist asked a question."""
    bundle = knee_referral_bundle()
    bundle["entry"][2]["resource"] = screening(id_="knee-screening", consent=consent)
    if findings:
        supported(bundle["entry"][0]["resource"], *findings)
    response = client_for(key).post("/api/v1/fhir/ServiceRequest", json.dumps(bundle), content_type=FHIR_JSON)
    assert response.status_code == 201, response.content
    case_id = response.json()["id"]
    make_draft(case_id=case_id)
    review.request_information(case_id=case_id, user=make_user(group="Specialists"), question="More?")
    return case_id


def communication(case_id: str, *contained: dict, items: tuple[dict, ...] = ()) -> dict:
    """An answer: text, then a payload reference to each contained resource, and to the
    screening answers `items` when given."""
    if items:
        contained = (
            *contained,
            {
                "resourceType": "QuestionnaireResponse",
                "id": "answers",
                "questionnaire": SCREENING_QUESTIONNAIRE,
                "status": "completed",
                "item": list(items),
            },
        )
    return {
        "resourceType": "Communication",
        "status": "completed",
        "basedOn": [{"reference": f"ServiceRequest/{case_id}"}],
        "contained": list(contained),
        "payload": [{"contentString": "See attached."}]
        + [{"contentReference": {"reference": f"#{r['id']}"}} for r in contained],
    }


def send(key: str, message: dict):
    return client_for(key).post("/api/v1/fhir/Communication", json.dumps(message), content_type=FHIR_JSON)


def issues(response) -> dict[str, str]:
    assert response.status_code == 400, response.content
    OperationOutcome.model_validate(response.json())
    return {issue.get("expression", [""])[0]: issue["diagnostics"] for issue in response.json()["issue"]}


@pytest.mark.django_db
@pytest.mark.parametrize("referenced", [True, False], ids=["referenced", "contained"])
def test_consent_obtained_in_an_answer_is_kept(referenced):
    # Given a referral sent before the patient consented
    _, key = make_partner()
    case_id = on_hold(key, consent=False)
    assert Case.objects.get(pk=case_id).consent_obtained is False

    # When the answer says consent has been given, in its contained screening answers
    message = communication(case_id, items=(answer("consent_obtained", valueBoolean=True),))
    if not referenced:
        message["payload"] = message["payload"][:1]
    response = send(key, message)

    # Then it is recorded: consent, by the patient (it used to be dropped)
    assert response.status_code == 200, response.content
    case = Case.objects.get(pk=case_id)
    assert (case.consent_obtained, case.consent_by) == (True, "patient")
    assert case.status == CaseStatus.DRAFTING


@pytest.mark.django_db
def test_an_answer_carries_consent_by_whom_findings_conditions_and_answers():
    _, key = make_partner()
    case_id = on_hold(
        key,
        consent=False,
        findings=(
            observation("kl", "kl_grade", valueInteger=2),
            observation("care", "conservative_care_months", valueInteger=6),
        ),
    )
    message = communication(
        case_id,
        observation("kl", "kl_grade", status="corrected", valueInteger=3),
        condition("hip", "M16.11", "Primary OA, right hip", additional=True),
        items=(
            answer("consent_obtained", valueBoolean=True),
            consent_by("guardian"),
            answer("consent_form_version", valueString="2026-03"),
            answer("assent", valueBoolean=True),
            answer("breastfeeding", valueBoolean=False),
            answer("immunosuppressed", valueBoolean=True),
        ),
    )

    response = send(key, message)

    assert response.status_code == 200, response.content
    case = Case.objects.get(pk=case_id)
    assert case.findings == {"kl_grade": 3, "conservative_care_months": 6}  # merged key by key
    assert case.additional_conditions == [{"icd10": "M16.11", "description": "Primary OA, right hip"}]
    assert (case.consent_obtained, case.consent_by, case.consent_form_version, case.assent) == (
        True,
        "guardian",
        "2026-03",
        True,
    )
    assert (case.breastfeeding, case.immunosuppressed, case.pregnant) == (False, True, False)
    assert case.condition_code == "M17.0"  # an additional condition is not a correction of the main one


@pytest.mark.django_db
def test_an_answers_values_are_checked_against_the_case_and_pointed_at_the_element():
    _, key = make_partner()
    case_id = on_hold(key, consent=False)
    message = communication(
        case_id,
        observation("kl", "kl_grade", valueInteger=9),
        condition("again", "M17.0", additional=True),  # the main condition's code
        items=(consent_by("guardian"),),  # by someone, although no consent is recorded
    )

    found = issues(send(key, message))

    assert "outside the range" in found["Communication.payload[1].content.resolve().value"]
    assert "already given" in found["Communication.payload[2].content.resolve().code"]
    assert "leave “by” empty" in found["QuestionnaireResponse.item.where(linkId='consent_by')"]
    case = Case.objects.get(pk=case_id)
    assert (case.status, case.findings, case.consent_by) == (CaseStatus.NEEDS_INFORMATION, {}, "")


@pytest.mark.django_db
def test_a_preliminary_finding_in_an_answer_is_refused_before_anything_changes():
    _, key = make_partner()
    case_id = on_hold(key)
    message = communication(case_id, observation("kl", "kl_grade", status="preliminary", valueInteger=2))

    found = issues(send(key, message))

    assert "'preliminary'" in found["Communication.payload[1].content.resolve().status"]
    assert Case.objects.get(pk=case_id).status == CaseStatus.NEEDS_INFORMATION


@pytest.mark.django_db
def test_a_finding_the_payload_does_not_reference_is_named_not_ignored():
    _, key = make_partner()
    case_id = on_hold(key)
    message = communication(case_id, observation("kl", "kl_grade", valueInteger=2))
    message["payload"] = message["payload"][:1]

    found = issues(send(key, message))

    assert "not referenced from Communication.payload" in found["Communication.contained[0]"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_damaged_v3_answer_reads_or_fails_with_issues(data):
    message = communication(
        "3f6c1c55-8f43-4b7e-9b8e-3c1f3f2f8a10",
        observation("kl", "kl_grade", valueInteger=3),
        observation("inr", "inr", **quantity(2.5, "{INR}")),
        condition("hip", "M16.11", "Primary OA, right hip", additional=True),
        items=(answer("consent_obtained", valueBoolean=True), consent_by("guardian")),
    )

    try:
        _, answer_body, _ = read_answer(damaged(data, message))
    except FHIRInputError as exc:
        assert exc.issues and all(issue.diagnostics for issue in exc.issues)
    else:
        assert isinstance(answer_body["answer"], str)
