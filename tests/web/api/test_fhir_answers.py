"""A FHIR partner answers a question (Task and Communication), reads the screening Questionnaire, and is
refused what the door cannot take."""

import pytest

from clinic.web.fhir import ICD10_CM
from intake.models import Case
from recommendations import review
from recommendations.services import make_draft
from tests.factories import make_partner, make_user
from tests.web.api.test_fhir import (  # noqa: F401  (autouse fixtures come along by name)
    FHIR_JSON,
    _infusion_covered,
    communication,
    fhir_client,
    fresh_throttle,
    outcome,
    post,
    post_to,
)
from tests.web.fhir.examples import body_site, knee_referral_bundle, physiotherapy_referral


def on_hold(key: str) -> str:
    """A FHIR referral on which a specialist has asked a question; its id."""
    case_id = post(fhir_client(key), knee_referral_bundle()).json()["id"]
    make_draft(case_id=case_id)
    review.request_information(case_id=case_id, user=make_user(group="Specialists"), question="Which knee?")
    return case_id


@pytest.mark.django_db
def test_an_answer_may_correct_the_condition_and_sites_with_a_contained_condition():
    _, key = make_partner()
    case_id = on_hold(key)
    corrected = {
        "resourceType": "Condition",
        "id": "corrected",
        "subject": {"display": "Peter James Chalmers"},
        "code": {"coding": [{"system": ICD10_CM, "code": "M17.11"}], "text": "Primary OA, right knee"},
        "bodySite": [{"coding": [body_site("right_knee")]}],
    }
    message = communication(case_id, "Only the right knee.", contained=[corrected])
    message["payload"].append({"contentReference": {"reference": "#corrected"}})

    response = post_to(fhir_client(key), "Communication", message, **{"Idempotency-Key": "answer-1"})
    replay = post_to(fhir_client(key), "Communication", message, **{"Idempotency-Key": "answer-1"})

    assert response.status_code == 200, response.content
    assert replay["Idempotent-Replayed"] == "true"
    case = Case.objects.get(pk=case_id)
    assert (case.status, case.condition_code, case.affected_sites) == ("drafting", "M17.11", ["right_knee"])
    assert case.events.filter(note__startswith="Answer: Only the right knee.").count() == 1


@pytest.mark.django_db
def test_an_answer_when_no_question_is_open_is_a_conflict():
    partner, key = make_partner()
    case_id = post(fhir_client(key), physiotherapy_referral()).json()["id"]

    [issue] = outcome(post_to(fhir_client(key), "Communication", communication(case_id, "Hello")), 409)

    assert issue["code"] == "conflict" and "no open question" in issue["diagnostics"]


@pytest.mark.django_db
def test_an_answer_must_name_one_of_your_referrals_and_say_something():
    _, key = make_partner()
    case_id = on_hold(key)
    client = fhir_client(key)

    [issue] = outcome(post_to(client, "Communication", communication(case_id, "x", basedOn=[])), 400)
    assert issue["expression"] == ["Communication.basedOn"]

    [issue] = outcome(post_to(client, "Communication", communication(case_id, "x", payload=[])), 400)
    assert issue["expression"] == ["Communication.payload"]

    [issue] = outcome(post_to(fhir_client(), "Communication", communication(case_id, "Mine now")), 404)
    assert issue["code"] == "not-found"
    assert Case.objects.get(pk=case_id).status == "needs_information"


@pytest.mark.django_db
def test_a_partner_can_fetch_the_screening_questionnaire_and_answer_it():
    # Given the Questionnaire as a partner's system would fetch it
    client = fhir_client()
    response = client.get("/api/v1/fhir/Questionnaire/referral-screening")
    assert response.status_code == 200 and response["Content-Type"] == FHIR_JSON
    questionnaire = response.json()

    # When every required item is answered false, and consent true
    answers = {
        "resourceType": "QuestionnaireResponse",
        "id": "screening",
        "questionnaire": questionnaire["url"],
        "status": "completed",
        "item": [
            {"linkId": item["linkId"], "answer": [{"valueBoolean": item["linkId"] == "consent_obtained"}]}
            for item in questionnaire["item"]
            if item["type"] == "boolean"
        ],
    }
    request = physiotherapy_referral()
    request["contained"][-1] = answers

    # Then the referral is accepted
    assert post(client, request).status_code == 201


@pytest.mark.django_db
def test_a_resource_over_the_upload_limit_is_413(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000
    request = physiotherapy_referral()
    request["note"] = [{"text": "x" * 200_000}]

    [issue] = outcome(post(fhir_client(), request), 413)

    assert issue["code"] == "too-long" and "0.1 MB" in issue["diagnostics"]


@pytest.mark.django_db
def test_a_patient_name_with_an_invisible_character_is_an_issue_at_the_name():
    request = physiotherapy_referral()
    patient = next(r for r in request["contained"] if r["resourceType"] == "Patient")
    official = next(name for name in patient["name"] if name.get("use") == "official")
    official["family"] = "Chal\u202emers"

    (issue,) = outcome(post(fhir_client(), request), 400)

    assert issue["expression"][0].startswith("Patient.name")
    assert "U+202E RIGHT-TO-LEFT OVERRIDE" in issue["diagnostics"]
