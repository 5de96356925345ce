"""Rule set v3's elements written back to a FHIR partner (GET /api/v1/referrals/{id}/fhir and its
webhooks): findings as Observations and additional conditions as Conditions, contained in the
ServiceRequest and referenced from supportingInfo, exactly as the door reads them."""

import json

import pytest
from fhir.resources.R4B.bundle import Bundle
from rest_framework.test import APIClient

from clinic.web.fhir.inbound import Reader
from clinic.web.fhir.outbound import service_request
from clinic.web.fhir.reading import resolver
from clinic.web.webhooks import payload_as_sent
from intake.models import Case, PartnerNotification
from recommendations import review
from recommendations.services import make_draft
from tests.factories import make_partner, make_referral, make_user

FINDINGS = {"kl_grade": 2, "conservative_care_months": 6, "imaging_date": "2025-11-03", "pain_nrs": 7}
CONDITIONS = [{"icd10": "M17.12", "description": "Primary OA, left knee"}, {"icd10": "M16.11"}]


def service_request_of(bundle: dict) -> dict:
    Bundle.model_validate(bundle)  # valid R4 throughout
    return next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "ServiceRequest")


def referral_with_v3(partner) -> Case:
    return make_referral(
        partner,
        findings=FINDINGS | {"anticoagulant": "apixaban", "inr": 2.5},
        additional_conditions=CONDITIONS,
        contraindications={
            "active_malignancy": False,
            "active_infection": False,
            "pregnant": False,
            "anticoagulant_therapy": True,
            "bleeding_disorder": False,
            "immunosuppressed": False,
        },
    )


@pytest.mark.django_db
def test_findings_and_additional_conditions_are_written_back_and_read_as_they_were_sent():
    partner, key = make_partner()
    case = referral_with_v3(partner)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")

    request = service_request_of(client.get(f"/api/v1/referrals/{case.pk}/fhir").json())

    by_id = {resource["id"]: resource for resource in request["contained"]}
    assert [ref["reference"].lstrip("#") for ref in request["supportingInfo"]] == list(by_id)
    assert by_id["finding-kl-grade"]["valueInteger"] == 2
    assert by_id["finding-inr"]["valueQuantity"] == {
        "value": 2.5,
        "unit": "{INR}",
        "system": "http://unitsofmeasure.org",
        "code": "{INR}",
    }
    assert by_id["finding-imaging-date"]["valueDateTime"] == "2025-11-03"
    assert by_id["finding-anticoagulant"]["valueString"] == "apixaban"
    pain_codes = {c["system"]: c["code"] for c in by_id["finding-pain-nrs"]["code"]["coding"]}
    assert pain_codes["http://loinc.org"] == "72514-3"  # the checked LOINC code beside ours
    assert by_id["additional-1"]["code"]["coding"][0]["code"] == "M17.12"
    # Read back through the door's own reader, they are what the partner sent.
    reader = Reader(request, resolver(request, {}))
    parts = reader.supporting_parts()
    assert reader.issues == []
    assert parts["findings"] == FINDINGS | {"anticoagulant": "apixaban", "inr": 2.5}
    assert parts["additional_conditions"] == [
        {"icd10": "M17.12", "description": "Primary OA, left knee"},
        {"icd10": "M16.11", "description": ""},
    ]


@pytest.mark.django_db
def test_no_name_is_written_but_the_one_the_partner_sent():
    partner, key = make_partner()
    case = referral_with_v3(partner)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")

    request = service_request_of(client.get(f"/api/v1/referrals/{case.pk}/fhir").json())

    observations = [r for r in request["contained"] if r["resourceType"] == "Observation"]
    conditions = [r for r in request["contained"] if r["resourceType"] == "Condition"]
    assert observations and not any("subject" in r for r in observations)
    assert {json.dumps(r["subject"]) for r in conditions} == {json.dumps(request["subject"])}
    assert request["subject"] == {"display": "Ana Silva"}  # as sent (tests.factories.referral_body)


@pytest.mark.django_db
def test_a_referral_without_them_has_no_supporting_info():
    case = make_referral(make_partner()[0], findings={})

    request = service_request(case)

    assert "contained" not in request and "supportingInfo" not in request


@pytest.mark.django_db
def test_a_fhir_webhook_carries_them_too():
    partner, _ = make_partner(webhook_format="fhir")
    case = referral_with_v3(partner)
    make_draft(case_id=case.pk)
    review.request_information(case_id=case.pk, user=make_user(group="Specialists"), question="Which knee?")
    notification = PartnerNotification.objects.get(case=case, event_type="referral.needs_information")

    request = service_request_of(payload_as_sent(notification)["data"])

    kinds = [resource["resourceType"] for resource in request["contained"]]
    assert kinds.count("Observation") == 6 and kinds.count("Condition") == 2
