"""Rule set v3 through the FHIR door (DESIGN.md rules 3, 4, 6 and Partner API v1): findings as
Observations, additional conditions as Conditions, consent by whom, breastfeeding and priority,
each read from HL7's example referrals, stored on the case, or refused at the element at fault."""

import json

import pytest
from fhir.resources.R4B.operationoutcome import OperationOutcome
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from clinic.web.fhir import ICD10_CM
from clinic.web.fhir.inbound import read_referral, referral_from_fhir
from clinic.web.fhir.reading import FHIRInputError
from intake.models import Case, Priority
from tests.factories import make_partner
from tests.web.fhir.examples import damaged, knee_referral_bundle, physiotherapy_referral
from tests.web.fhir.v3_examples import (
    answer,
    condition,
    consent_by,
    knee_findings,
    observation,
    quantity,
    supported,
)

FHIR_JSON = "application/fhir+json"
FIRST = "ServiceRequest.supportingInfo[1].resolve()"  # [0] is the screening answers


def issues_of(body) -> list[tuple[str, str, str]]:
    with pytest.raises(FHIRInputError) as caught:
        referral_from_fhir(body)
    return [(issue.code, issue.expression, issue.diagnostics) for issue in caught.value.issues]


def screening_items(request: dict) -> list[dict]:
    return next(r for r in request["contained"] if r["resourceType"] == "QuestionnaireResponse")["item"]


# --- findings --------------------------------------------------------------------------------


def test_findings_are_read_from_observations_of_each_value_type():
    referral, places = read_referral(supported(physiotherapy_referral(), *knee_findings()))

    assert referral["findings"] == {
        "kl_grade": 2,
        "conservative_care_months": 6,
        "imaging_date": "2025-11-03",  # amended counts as a result
        "pain_nrs": 7,  # our code read, the LOINC coding beside it left alone
    }
    assert places["findings.kl_grade"] == f"{FIRST}.value"


def test_findings_are_read_from_the_entries_of_a_transaction_bundle():
    bundle = knee_referral_bundle()
    request = bundle["entry"][0]["resource"]
    request["supportingInfo"].append({"reference": "urn:uuid:7a0f4c2e-1d3b-4e5f-8a9b-0c1d2e3f4a5b"})
    bundle["entry"].append(
        {
            "fullUrl": "urn:uuid:7a0f4c2e-1d3b-4e5f-8a9b-0c1d2e3f4a5b",
            "resource": observation("string", "anticoagulant", valueString="apixaban"),
        }
    )

    assert referral_from_fhir(bundle)["findings"] == {"anticoagulant": "apixaban"}


@pytest.mark.parametrize(
    "finding, where, words",
    [
        (observation("f", "kl_grade", status="preliminary", valueInteger=2), "status", "'preliminary'"),
        (observation("f", "kl_grade", status="cancelled", valueInteger=2), "status", "final, amended"),
        (observation("f", "kl", valueInteger=2), "code", "“kl” is not a finding key"),
        (observation("f", "kl_grade", valueString="2"), "value", "valueInteger (got valueString)"),
        (observation("f", "conservative_care_months", **quantity(6, "d")), "value", "code 'mo' (got d)"),
        (observation("f", "imaging_date", valueDateTime="2025-11-03T10:00:00Z"), "value", "YYYY-MM-DD"),
        (observation("f", "imaging_date", valueDateTime="2025"), "value", "YYYY-MM-DD"),
    ],
)
def test_a_finding_fhir_cannot_carry_is_refused_at_its_element(finding, where, words):
    [(code, expression, text)] = issues_of(supported(physiotherapy_referral(), finding))

    assert expression == f"{FIRST}.{where}"
    assert words in text


def test_a_finding_key_in_our_system_beside_loinc_is_still_checked():
    finding = observation("f", "kl", valueInteger=2)
    finding["code"]["coding"].append({"system": "http://loinc.org", "code": "72514-3"})

    [(code, expression, text)] = issues_of(supported(physiotherapy_referral(), finding))

    assert (code, expression) == ("code-invalid", f"{FIRST}.code")
    assert "not a finding key" in text


def test_a_measured_value_with_a_comparator_is_not_a_value():
    finding = observation("f", "pain_nrs", **quantity(5, "{score}"))
    finding["valueQuantity"]["comparator"] = ">"

    [(_, expression, text)] = issues_of(supported(physiotherapy_referral(), finding))

    assert expression == f"{FIRST}.value" and "comparator" in text


def test_one_observation_per_finding_and_each_finding_referenced():
    request = supported(
        physiotherapy_referral(),
        observation("a", "kl_grade", valueInteger=2),
        observation("b", "kl_grade", valueInteger=3),
    )
    request["contained"].append(observation("loose", "pain_nrs", valueInteger=4))

    issues = {expression: text for _, expression, text in issues_of(request)}

    assert "kl_grade is given more than once" in issues["ServiceRequest.supportingInfo[2].resolve()"]
    loose = f"ServiceRequest.contained[{len(request['contained']) - 1}]"
    assert "not referenced from ServiceRequest.supportingInfo" in issues[loose]


# --- additional conditions --------------------------------------------------------------------


def test_conditions_in_supporting_info_are_additional_and_the_reason_stays_the_main_one():
    request = supported(
        physiotherapy_referral(),
        condition("left", "M17.12", "Primary OA, left knee"),
        condition("hip", "M16.11"),
    )
    request["supportingInfo"].append({"reference": "#cf"})  # the main condition, referenced again

    referral, places = read_referral(request)

    assert referral["condition"]["icd10"] == "E84.0"  # HL7's reasonReference
    assert referral["additional_conditions"] == [
        {"icd10": "M17.12", "description": "Primary OA, left knee"},
        {"icd10": "M16.11", "description": ""},
    ]
    assert places["additional_conditions.1.icd10"] == "ServiceRequest.supportingInfo[2].resolve().code"


def test_an_additional_condition_needs_one_icd10cm_code_and_to_be_true():
    snomed = condition("burn", "M17.12", additional=True)  # marked ours, so read and checked
    snomed["code"]["coding"] = [{"system": "http://snomed.info/sct", "code": "39065001", "display": "Burn"}]
    two = condition("two", "M17.12")
    two["code"]["coding"].append({"system": ICD10_CM, "code": "M16.11"})
    refuted = condition("refuted", "M16.11")
    refuted["verificationStatus"] = {
        "coding": [
            {"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "refuted"}
        ]
    }

    issues = issues_of(supported(physiotherapy_referral(), snomed, two, refuted))

    assert [(code, expression) for code, expression, _ in issues] == [
        ("code-invalid", "ServiceRequest.supportingInfo[1].resolve().code"),
        ("business-rule", "ServiceRequest.supportingInfo[2].resolve().code"),
        ("business-rule", "ServiceRequest.supportingInfo[3].resolve().verificationStatus"),
    ]
    assert "SNOMED CT only (39065001 Burn)" in issues[0][2]
    assert "M16.11, M17.12" in issues[1][2]


# --- the screening items and the priority -------------------------------------------------------


def test_the_new_screening_items_are_read_as_the_contracts_consent_and_breastfeeding():
    request = physiotherapy_referral()
    screening_items(request).extend(
        [
            consent_by("guardian"),
            answer("consent_form_version", valueString="2026-03"),
            answer("assent", valueBoolean=True),
            answer("breastfeeding", valueBoolean=False),
        ]
    )

    referral = referral_from_fhir(request)

    assert referral["consent_obtained"] is True
    assert referral["consent"] == {
        "obtained": True,
        "by": "guardian",
        "assent": True,
        "form_version": "2026-03",
    }
    assert referral["contraindications"]["breastfeeding"] is False


def test_without_the_new_items_a_referral_reads_as_before():
    referral = referral_from_fhir(physiotherapy_referral())

    assert "consent" not in referral and "breastfeeding" not in referral["contraindications"]
    assert not {"findings", "additional_conditions", "priority"} & set(referral)


@pytest.mark.parametrize(
    "item", [consent_by("mother"), consent_by("patient", system="http://example.org/who")]
)
def test_consent_by_must_be_one_of_our_codes(item):
    request = physiotherapy_referral()
    screening_items(request).append(item)

    [(code, expression, text)] = issues_of(request)

    assert (code, expression) == ("code-invalid", "QuestionnaireResponse.item.where(linkId='consent_by')")
    assert "patient, guardian, legal_representative" in text


def test_each_new_item_is_answered_once_with_its_type():
    request = physiotherapy_referral()
    screening_items(request).extend([answer("assent", valueString="yes"), consent_by("patient")])
    screening_items(request).append(consent_by("guardian"))

    issues = {expression: text for _, expression, text in issues_of(request)}

    assert "with valueBoolean" in issues["QuestionnaireResponse.item.where(linkId='assent')"]
    assert "once" in issues["QuestionnaireResponse.item.where(linkId='consent_by')"]


@pytest.mark.parametrize(
    "sent, read", [("routine", "routine"), ("urgent", "urgent"), ("asap", "urgent"), ("stat", "urgent")]
)
def test_fhir_priorities_are_read_as_our_two(sent, read):
    assert referral_from_fhir(physiotherapy_referral() | {"priority": sent})["priority"] == read


def test_a_priority_fhir_does_not_have_is_refused():
    [(code, expression, text)] = issues_of(physiotherapy_referral() | {"priority": "whenever"})

    assert (code, expression) == ("code-invalid", "ServiceRequest.priority")
    assert "routine, urgent, asap or stat" in text


# --- through the door: stored on the case, or refused with nothing saved -------------------------


def post(resource, key: str | None = None):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key or make_partner()[1]}")
    return client.post("/api/v1/fhir/ServiceRequest", json.dumps(resource), content_type=FHIR_JSON)


def outcome(response, status: int = 400) -> dict[str, str]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == FHIR_JSON
    OperationOutcome.model_validate(response.json())
    return {issue["expression"][0]: issue["diagnostics"] for issue in response.json()["issue"]}


def full_referral() -> dict:
    request = supported(
        physiotherapy_referral() | {"priority": "stat"},
        *knee_findings(),
        condition("left", "M17.12", "Primary OA, left knee"),
    )
    screening_items(request).extend(
        [
            consent_by("legal_representative"),
            answer("consent_form_version", valueString="v7"),
            answer("assent", valueBoolean=False),
            answer("breastfeeding", valueBoolean=True),
        ]
    )
    return request


@pytest.mark.django_db
def test_every_new_element_is_stored_on_the_case():
    response = post(full_referral())

    assert response.status_code == 201, response.content
    case = Case.objects.get(pk=response.json()["id"])
    assert case.findings == {
        "kl_grade": 2,
        "conservative_care_months": 6,
        "imaging_date": "2025-11-03",
        "pain_nrs": 7,
    }
    assert case.additional_conditions == [{"icd10": "M17.12", "description": "Primary OA, left knee"}]
    assert (case.consent_obtained, case.consent_by, case.consent_form_version) == (
        True,
        "legal_representative",
        "v7",
    )
    assert (case.assent, case.breastfeeding) == (False, True)
    assert case.priority == Priority.URGENT  # stat, in our two levels


@pytest.mark.django_db
def test_without_the_new_items_consent_is_the_patients_and_the_rest_not_asked():
    case = Case.objects.get(pk=post(physiotherapy_referral()).json()["id"])

    assert (case.consent_by, case.assent, case.breastfeeding) == ("patient", None, None)
    assert (case.findings, case.additional_conditions, case.priority) == ({}, [], Priority.ROUTINE)


@pytest.mark.django_db
def test_the_rules_on_values_point_at_the_fhir_element_and_nothing_is_saved():
    request = supported(
        physiotherapy_referral(),
        observation("kl", "kl_grade", valueInteger=7),
        observation("drug", "anticoagulant", valueString="warfarin"),
        condition("again", "E84.0"),  # the main condition's code
        condition("nope", "M17.99"),
    )
    screening_items(request).append(answer("consent_form_version", valueString="x" * 40))

    issues = outcome(post(request))

    assert "outside the range" in issues["ServiceRequest.supportingInfo[1].resolve().value"]
    assert (
        "answer on anticoagulant therapy is no" in issues["ServiceRequest.supportingInfo[2].resolve().value"]
    )
    assert "already given" in issues["ServiceRequest.supportingInfo[3].resolve().code"]
    assert "M17.99" in issues["ServiceRequest.supportingInfo[4].resolve().code"]
    assert "32" in issues["QuestionnaireResponse.item.where(linkId='consent_form_version')"]
    assert not Case.objects.exists()


@pytest.mark.django_db
def test_consent_by_someone_without_consent_obtained_is_refused_at_the_item():
    request = physiotherapy_referral()
    items = screening_items(request)
    next(i for i in items if i["linkId"] == "consent_obtained")["answer"] = [{"valueBoolean": False}]
    items.append(consent_by("guardian"))

    issues = outcome(post(request))

    assert list(issues) == ["QuestionnaireResponse.item.where(linkId='consent_by')"]
    assert not Case.objects.exists()


@pytest.mark.django_db
def test_the_screening_questionnaire_offers_the_new_items():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {make_partner()[1]}")

    items = {
        i["linkId"]: i for i in client.get("/api/v1/fhir/Questionnaire/referral-screening").json()["item"]
    }

    assert [o["valueCoding"]["code"] for o in items["consent_by"]["answerOption"]] == [
        "patient",
        "guardian",
        "legal_representative",
    ]
    assert items["consent_form_version"]["type"] == "string"
    assert (items["assent"]["type"], items["breastfeeding"]["type"]) == ("boolean", "boolean")
    assert not any(items[name]["required"] for name in ("consent_by", "consent_form_version", "assent"))


# --- any damage to a referral with every new element is issues, never a crash -------------------


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_damaged_v3_referral_reads_or_fails_with_issues(data):
    body = damaged(data, full_referral())

    try:
        referral, places = read_referral(body)
    except FHIRInputError as exc:
        assert exc.issues and all(issue.diagnostics for issue in exc.issues)
    else:
        assert set(referral) >= {"external_id", "patient", "condition", "contraindications"}
        assert all(isinstance(place, str) and place for place in places.values())


@pytest.mark.django_db
@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_a_damaged_v3_referral_through_the_door_is_never_a_server_error(data):
    response = post(damaged(data, full_referral()))

    assert response.status_code in (201, 400, 409), response.content
    assert response["Content-Type"] == FHIR_JSON
