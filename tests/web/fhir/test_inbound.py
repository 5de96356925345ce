"""Reading HL7's own example resources as referrals: what is taken from where, and the
error a FHIR partner gets for each thing our contract needs and the resource lacks."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic.web.fhir import BODY_SITE_SYSTEM, ICD10_CM
from clinic.web.fhir.inbound import issues_from_field_errors, referral_from_fhir
from clinic.web.fhir.reading import FHIRInputError
from tests.web.fhir.examples import (
    damaged,
    hl7,
    knee_referral_bundle,
    physiotherapy_referral,
    screening,
)


def issues_of(body) -> list[tuple[str, str, str]]:
    with pytest.raises(FHIRInputError) as caught:
        referral_from_fhir(body)
    return [(issue.code, issue.expression, issue.diagnostics) for issue in caught.value.issues]


def test_hl7_physiotherapy_request_with_contained_patient_reads_as_a_referral():
    referral = referral_from_fhir(physiotherapy_referral())

    assert referral["external_id"] == "20170201-0001"  # the PLAC identifier
    assert referral["patient"] == {
        "given_name": "Peter James",  # the official name, not "Jim" or the maiden name
        "family_name": "Chalmers",
        "birth_date": "1974-12-25",
        "sex": "male",
        "phone": "(03) 3410 5613",  # the mobile; the "old" number is ignored
        "email": "",
    }
    assert referral["condition"] == {"icd10": "E84.0", "description": "Cystic Fibrosis"}
    assert referral["affected_sites"] == []
    assert referral["consent_obtained"] is True
    assert set(referral["contraindications"].values()) == {False}


def test_hl7_physical_therapy_request_in_a_transaction_bundle_reads_as_a_knee_referral():
    referral = referral_from_fhir(knee_referral_bundle())

    assert referral["external_id"] == "PT-2016-0920"
    assert referral["patient"]["family_name"] == "Chalmers"
    assert referral["patient"]["birth_date"] == "1974-12-25"
    assert referral["condition"]["icd10"] == "M17.0"
    assert "osteoarthritis" in referral["condition"]["description"]
    assert referral["affected_sites"] == ["left_knee", "right_knee"]  # HL7's SNOMED coding is left beside


def test_screening_answers_are_read_as_given():
    request = physiotherapy_referral()
    request["contained"][-1] = screening(consent=False, pregnant=True, anticoagulant_therapy=True)
    request["contained"][-1]["item"].append({"linkId": "goals", "answer": [{"valueString": "breathe"}]})

    referral = referral_from_fhir(request)

    assert referral["consent_obtained"] is False
    assert referral["contraindications"]["pregnant"] is True
    assert referral["contraindications"]["anticoagulant_therapy"] is True
    assert referral["contraindications"]["active_malignancy"] is False
    assert referral["goals"] == "breathe"


def test_a_condition_coded_in_snomed_ct_only_says_the_icd10cm_coding_is_needed():
    # Given HL7's Condition "example" (burn of ear, SNOMED CT 39065001) as the reason
    request = physiotherapy_referral()
    burn = hl7("Condition-example") | {"id": "burn"}
    request["contained"].append(burn)
    request["reasonReference"] = [{"reference": "#burn"}]

    issues = issues_of(request)

    code_issue = next(issue for issue in issues if issue[1] == "Condition.code")
    assert code_issue[0] == "code-invalid"
    assert "SNOMED CT only (39065001 Burn of ear)" in code_issue[2]
    assert ICD10_CM in code_issue[2]
    # Its SNOMED body site is named too, with the system that is needed instead.
    site_issue = next(issue for issue in issues if issue[1] == "Condition.bodySite[0]")
    assert "49521004 Left external ear structure" in site_issue[2] and BODY_SITE_SYSTEM in site_issue[2]


def test_hl7_physical_therapy_request_as_published_lists_everything_it_lacks():
    request = hl7("ServiceRequest-physical-therapy")
    request["contained"] = [hl7("Patient-example")]
    request["subject"] = {"reference": "#example"}

    issues = {expression: (code, text) for code, expression, text in issues_of(request)}

    assert issues["ServiceRequest.identifier"][0] == "required"
    assert issues["ServiceRequest.reasonCode"][0] == "code-invalid"
    assert "text only" in issues["ServiceRequest.reasonCode"][1]
    assert "36701003 Both knees" in issues["ServiceRequest.bodySite[0]"][1]
    assert "consent_obtained" in issues["ServiceRequest.supportingInfo"][1]


def test_a_missing_screening_answer_is_not_taken_as_false():
    request = physiotherapy_referral()
    answers = request["contained"][-1]
    answers["item"] = [item for item in answers["item"] if item["linkId"] != "pregnant"]

    [issue] = issues_of(request)

    assert issue[0] == "required"
    assert issue[1] == "QuestionnaireResponse.item.where(linkId='pregnant')"
    assert "not taken as false" in issue[2]


@pytest.mark.parametrize("status", ["revoked", "entered-in-error"])
def test_a_revoked_request_cannot_open_a_referral(status):
    request = physiotherapy_referral() | {"status": status}

    [issue] = issues_of(request)

    assert issue[:2] == ("business-rule", "ServiceRequest.status")
    assert "/api/v1/fhir/Task" in issue[2]


def test_a_subject_outside_the_request_cannot_be_looked_up():
    request = physiotherapy_referral()
    request["subject"] = {"reference": "Patient/example"}  # as HL7 published it: on their server

    [issue] = issues_of(request)

    assert issue[:2] == ("required", "ServiceRequest.subject")
    assert "contain the Patient" in issue[2]


def test_a_birth_year_alone_is_too_vague():
    request = physiotherapy_referral()
    request["contained"][-2]["birthDate"] = "1974"

    [issue] = issues_of(request)

    assert issue[:2] == ("value", "Patient.birthDate")


def test_two_contained_resources_with_one_id_are_refused():
    request = physiotherapy_referral()
    request["contained"].append(hl7("Condition-example"))  # id "example", like the Patient

    assert ("invalid", "ServiceRequest.contained") in [issue[:2] for issue in issues_of(request)]


def test_a_bundle_must_be_a_transaction_with_one_service_request():
    bundle = knee_referral_bundle()
    bundle["type"] = "collection"
    assert issues_of(bundle)[0][:2] == ("not-supported", "Bundle.type")

    bundle = knee_referral_bundle()
    bundle["entry"].append(bundle["entry"][0] | {"fullUrl": "urn:uuid:5d1b1c3e-8b7a-4e0c-9f52-6a7d0c9e1b42"})
    assert issues_of(bundle)[0][:2] == ("invalid", "Bundle.entry")


def test_two_different_icd10cm_codes_are_two_referrals():
    bundle = knee_referral_bundle()
    request = bundle["entry"][0]["resource"]
    request["reasonCode"].append({"coding": [{"system": ICD10_CM, "code": "M75.101"}]})

    [issue] = issues_of(bundle)

    assert issue[0] == "business-rule" and "M17.0, M75.101" in issue[2]


@pytest.mark.parametrize(
    "body, expected",
    [
        ([], ("structure", "")),
        ({"resourceType": "Patient"}, ("not-supported", "resourceType")),
        ({}, ("not-supported", "resourceType")),
    ],
)
def test_what_is_not_a_referral_resource_is_named(body, expected):
    assert issues_of(body)[0][:2] == expected


def test_fhir_type_errors_point_at_the_element():
    request = physiotherapy_referral()
    request["contained"][2]["birthDate"] = "1974-13-25"  # HL7's Patient, third of the contained

    [(code, expression, text)] = issues_of(request)

    assert code == "value"
    assert expression == "ServiceRequest.contained[2].birthDate"
    assert "1974-13-25" not in expression and "Date" in text


def test_an_unknown_resource_type_is_named_not_a_crash():
    request = physiotherapy_referral()
    request["contained"].append({"resourceType": "NoSuchResource", "id": "x"})

    [(code, _, text)] = issues_of(request)

    assert code == "structure" and "'NoSuchResource'" in text


def test_contract_errors_are_pointed_at_the_fhir_element_they_came_from():
    issues = issues_from_field_errors(
        {
            "patient.birth_date": ["The birth date is in the future."],
            "affected_sites.1": ["“knee” is not a body site."],
            "contraindications.pregnant": ["Must be true or false."],
            "condition.icd10": ["“X” is not an ICD-10 code."],
        }
    )

    assert [(issue.code, issue.expression) for issue in issues] == [
        ("value", "Patient.birthDate"),
        ("value", "ServiceRequest.bodySite[1]"),
        ("value", "QuestionnaireResponse.item.where(linkId='pregnant')"),
        ("code-invalid", f"Condition.code.coding.where(system='{ICD10_CM}').code"),
    ]


# --- any damage to a good request is an error with a message, never a crash ----------------


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_damaged_request_reads_or_fails_with_issues(data):
    body = damaged(data, data.draw(st.sampled_from([physiotherapy_referral, knee_referral_bundle]))())

    try:
        referral = referral_from_fhir(body)
    except FHIRInputError as exc:
        assert exc.issues and all(issue.diagnostics for issue in exc.issues)
    else:
        assert set(referral) >= {"external_id", "patient", "condition", "contraindications"}


def test_a_snomed_ct_body_site_on_its_own_is_read_as_the_published_site():
    # Given HL7's knee request, its knees coded in SNOMED CT only, as referring systems send them
    bundle = knee_referral_bundle()
    request = bundle["entry"][0]["resource"]
    snomed = "http://snomed.info/sct"
    request["bodySite"] = [
        {"coding": [{"system": snomed, "code": "82169009", "display": "Structure of left knee region"}]},
        {"coding": [{"system": snomed, "code": "6757004"}]},
    ]

    assert referral_from_fhir(bundle)["affected_sites"] == ["left_knee", "right_knee"]


def test_a_snomed_ct_site_the_published_list_lacks_is_named_with_what_to_send():
    bundle = knee_referral_bundle()
    bundle["entry"][0]["resource"]["bodySite"] = [
        {"coding": [{"system": "http://snomed.info/sct", "code": "36701003", "display": "Both knees"}]}
    ]

    (issue,) = [i for i in issues_of(bundle) if i[1] == "ServiceRequest.bodySite[0]"]

    assert "36701003 Both knees" in issue[2] and "6757004" in issue[2]
