"""The FHIR door of the partner API, driven with HL7's example resources: a FHIR partner
refers, retries, makes mistakes and follows the case without touching our JSON."""

import copy
import json

import pytest
from django.conf import settings
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.servicerequest import ServiceRequest
from rest_framework.test import APIClient

from clinic.web.api import throttle
from intake.models import Case, CaseStatus, Patient, ReadAccess
from recommendations import review
from recommendations.services import make_draft
from tests.factories import make_partner, make_referral, make_user
from tests.web.fhir.examples import body_site, hl7, knee_referral_bundle, physiotherapy_referral
from tests.web.fhir.v3_examples import observation


@pytest.fixture(autouse=True)
def _infusion_covered(knee_infusion_protocol):
    """Specialists here amend knee drafts to an infusion, which rule set v3 takes under a protocol."""


URL = "/api/v1/fhir/ServiceRequest"
FHIR_JSON = "application/fhir+json"


@pytest.fixture(autouse=True)
def fresh_throttle():
    throttle.store(settings.CACHE_URL).reset()  # the partner rate limit's counters


def fhir_client(key: str | None = None) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key or make_partner()[1]}")
    return client


def post(client: APIClient, resource, **headers):
    return client.post(URL, json.dumps(resource), content_type=FHIR_JSON, headers=headers)


def post_to(client: APIClient, resource_type: str, resource, **headers):
    return client.post(
        f"/api/v1/fhir/{resource_type}", json.dumps(resource), content_type=FHIR_JSON, headers=headers
    )


def communication(case_id, text: str, **fields) -> dict:
    return {
        "resourceType": "Communication",
        "status": "completed",
        "basedOn": [{"reference": f"ServiceRequest/{case_id}"}],
        "payload": [{"contentString": text}],
    } | fields


def abort(case_id, reason: str) -> dict:
    """A Task asking to withdraw the referral, as FHIR's task-code 'abort' says."""
    return {
        "resourceType": "Task",
        "status": "requested",
        "intent": "order",
        "code": {"coding": [{"system": "http://hl7.org/fhir/CodeSystem/task-code", "code": "abort"}]},
        "focus": {"reference": f"ServiceRequest/{case_id}"},
        "reasonCode": {"text": reason},
    }


def outcome(response, status: int) -> list[dict]:
    """The OperationOutcome's issues, after checking it is one and valid FHIR."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == FHIR_JSON
    OperationOutcome.model_validate(response.json())
    return response.json()["issue"]


def bundle_of(client: APIClient, case_id) -> dict:
    response = client.get(f"/api/v1/referrals/{case_id}/fhir")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == FHIR_JSON
    Bundle.model_validate(response.json())  # valid R4 throughout
    return {entry["resource"]["resourceType"]: entry["resource"] for entry in response.json()["entry"]}


@pytest.mark.django_db
def test_a_contained_service_request_opens_a_referral():
    partner, key = make_partner()

    response = post(fhir_client(key), physiotherapy_referral())

    assert response.status_code == 201, response.content
    assert response["Content-Type"] == FHIR_JSON
    created = response.json()
    ServiceRequest.model_validate(created)
    case = Case.objects.get(pk=created["id"])
    assert response["Location"] == f"/api/v1/referrals/{case.pk}/fhir"
    assert (case.partner, case.external_id, case.status) == (partner, "20170201-0001", CaseStatus.RECEIVED)
    assert (case.patient.given_name, case.patient.family_name) == ("Peter James", "Chalmers")
    assert case.condition_code == "E84.0"
    assert case.events.get().actor_label == f"partner: {partner.name} (via FHIR)"  # the timeline says how
    assert created["identifier"][0]["value"] == "20170201-0001"
    assert created["status"] == "active"


def with_knee_findings(bundle: dict) -> dict:
    """The bundle with the findings the knee protocol requires (rule set v3), as Observation entries."""
    for n, (key, value) in enumerate({"kl_grade": 2, "conservative_care_months": 6}.items()):
        url = f"urn:uuid:7a0f4c2e-1d3b-4e5f-8a9b-0c1d2e3f4a5{n}"
        bundle["entry"][0]["resource"]["supportingInfo"].append({"reference": url})
        finding = observation(f"finding-{n}", key, valueInteger=value)
        bundle["entry"].append({"fullUrl": url, "resource": finding})
    return bundle


@pytest.mark.django_db
def test_a_transaction_bundle_opens_a_knee_referral_that_drafts_local_injection():
    partner, key = make_partner()

    response = post(fhir_client(key), with_knee_findings(knee_referral_bundle()))

    assert response.status_code == 201, response.content
    case = Case.objects.get(pk=response.json()["id"])
    assert case.affected_sites == ["left_knee", "right_knee"]
    draft = make_draft(case_id=case.pk)
    assert draft.route == "local_injection"  # M17 is localized; two sites


@pytest.mark.django_db
def test_plain_application_json_is_accepted_too():
    response = fhir_client().post(URL, physiotherapy_referral(), format="json")

    assert response.status_code == 201, response.content


@pytest.mark.django_db
def test_a_retry_with_the_same_idempotency_key_replays_and_makes_one_referral():
    client = fhir_client()
    body = knee_referral_bundle()

    first = post(client, body, **{"Idempotency-Key": "fhir-1"})
    again = post(client, copy.deepcopy(body), **{"Idempotency-Key": "fhir-1"})
    other = post(client, physiotherapy_referral(), **{"Idempotency-Key": "fhir-1"})

    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert again["Location"] == first["Location"]
    assert Case.objects.count() == 1
    [issue] = outcome(other, 422)
    assert "already used for another request" in issue["diagnostics"]
    assert issue["code"] == "business-rule"
    assert issue["details"]["coding"] == [
        {"system": "https://clinic.example.org/problems", "code": "idempotency-key-reused"}
    ]


@pytest.mark.django_db
def test_the_same_placer_identifier_twice_is_a_duplicate_naming_the_referral():
    client = fhir_client()
    first = post(client, physiotherapy_referral()).json()

    [issue] = outcome(post(client, physiotherapy_referral()), 409)

    assert issue["code"] == "duplicate"
    assert issue["expression"] == ["ServiceRequest.identifier"]
    assert f"/api/v1/referrals/{first['id']}/fhir" in issue["diagnostics"]
    assert Case.objects.count() == 1


@pytest.mark.django_db
def test_a_snomed_only_condition_is_refused_with_what_is_needed_and_nothing_saved():
    request = physiotherapy_referral()
    request["contained"].append(hl7("Condition-example") | {"id": "burn"})
    request["reasonReference"] = [{"reference": "#burn"}]
    request["bodySite"] = [{"coding": [body_site("skin")]}]

    [issue] = outcome(post(fhir_client(), request), 400)

    assert issue["code"] == "code-invalid"
    assert issue["expression"] == ["Condition.code"]
    assert "SNOMED CT only (39065001 Burn of ear)" in issue["diagnostics"]
    assert "http://hl7.org/fhir/sid/icd-10-cm" in issue["diagnostics"]
    assert not Case.objects.exists() and not Patient.objects.exists()


@pytest.mark.django_db
def test_the_contracts_own_rules_apply_and_point_at_fhir_elements():
    request = physiotherapy_referral()
    request["contained"][1]["code"]["coding"][0]["code"] = "not a code"
    request["bodySite"] = [{"coding": [body_site("left_kneecap")]}]
    request["contained"][2]["birthDate"] = "2990-01-01"

    issues = outcome(post(fhir_client(), request), 400)

    by_place = {issue["expression"][0]: issue for issue in issues}
    assert (
        "ICD-10 code"
        in by_place["Condition.code.coding.where(system='http://hl7.org/fhir/sid/icd-10-cm').code"][
            "diagnostics"
        ]
    )
    assert "not a body site" in by_place["ServiceRequest.bodySite[0]"]["diagnostics"]
    assert "future" in by_place["Patient.birthDate"]["diagnostics"]


@pytest.mark.django_db
def test_a_code_that_is_not_in_icd10cm_is_an_issue_at_the_conditions_code():
    # Given HL7's knee request, coded with a code of valid form that ICD-10-CM does not have
    issues = outcome(post(fhir_client(), knee_referral_bundle(icd10="M17.19")), 400)

    (issue,) = issues
    assert issue["expression"] == [
        "Condition.code.coding.where(system='http://hl7.org/fhir/sid/icd-10-cm').code"
    ]
    assert "“M17.19” has the form of an ICD-10 code but is not a code in ICD-10-CM" in issue["diagnostics"]
    assert not Case.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "content, content_type, status",
    [
        ("<ServiceRequest/>", "application/fhir+xml", 415),
        ("{not json", FHIR_JSON, 400),
        ("[]", FHIR_JSON, 400),
        ("[" * 100_000 + "]" * 100_000, FHIR_JSON, 400),  # deeper than Python's recursion limit
    ],
)
def test_what_cannot_be_read_gets_an_operation_outcome(content, content_type, status):
    response = fhir_client().post(URL, content, content_type=content_type)

    [issue] = outcome(response, status)
    assert issue["diagnostics"]


@pytest.mark.django_db
def test_callers_without_a_partner_key_get_an_operation_outcome():
    anonymous = APIClient()
    [issue] = outcome(anonymous.post(URL, "{}", content_type=FHIR_JSON), 401)
    assert issue["code"] == "login"

    staff = APIClient()
    staff.force_login(make_user(group="Front desk"))
    [issue] = outcome(staff.post(URL, "{}", content_type=FHIR_JSON), 403)
    assert issue["code"] == "forbidden"


@pytest.mark.django_db
def test_another_partners_referral_is_not_found():
    mine, _ = make_partner()
    case = make_referral(mine)

    [issue] = outcome(fhir_client().get(f"/api/v1/referrals/{case.pk}/fhir"), 404)

    assert issue["code"] == "not-found"


@pytest.mark.django_db
def test_a_fhir_partner_follows_a_referral_to_its_decision():
    # Given a referral made through the FHIR door
    partner, key = make_partner()
    client = fhir_client(key)
    case_id = post(client, knee_referral_bundle()).json()["id"]
    specialist = make_user(group="Specialists")

    # Then its Task moves with the case
    resources = bundle_of(client, case_id)
    assert set(resources) == {"ServiceRequest", "Task"}
    assert resources["Task"]["status"] == "received"
    assert resources["Task"]["focus"]["reference"] == f"urn:uuid:{case_id}"

    make_draft(case_id=case_id)
    task = bundle_of(client, case_id)["Task"]
    assert task["status"] == "in-progress"
    assert task["businessStatus"]["coding"][0]["code"] == "awaiting_review"
    assert "local_injection" not in json.dumps(bundle_of(client, case_id))  # the draft is never shown

    review.request_information(case_id=case_id, user=specialist, question="Which knee hurts more?")
    task = bundle_of(client, case_id)["Task"]
    assert (task["status"], task["statusReason"]["text"]) == ("on-hold", "Which knee hurts more?")

    # and the partner answers in FHIR too
    answered = post_to(client, "Communication", communication(case_id, "The right one."))
    assert answered.status_code == 200, answered.content
    assert bundle_of(client, case_id)["Task"]["status"] == "in-progress"
    make_draft(case_id=case_id)
    decision = review.amend_draft(
        case_id=case_id, user=specialist, route="intravenous", reason="Both knees and hips on review."
    )

    # When it is decided, the Task is completed with the decision, and a Provenance records it
    resources = bundle_of(client, case_id)
    assert resources["ServiceRequest"]["status"] == "completed"
    outputs = {o["type"]["coding"][0]["code"]: o for o in resources["Task"]["output"]}
    assert resources["Task"]["status"] == "completed"
    assert outputs["route"]["valueCode"] == "intravenous"
    assert outputs["outcome"]["valueCode"] == "amended"
    assert outputs["reason"]["valueString"] == "Both knees and hips on review."
    provenance = resources["Provenance"]
    assert provenance["id"] == str(decision.pk)
    assert {t["reference"] for t in provenance["target"]} == {
        f"urn:uuid:{case_id}",
        f"urn:uuid:{resources['Task']['id']}",
    }
    assert provenance["entity"][0]["what"]["identifier"]["value"] == decision.row_hash
    assert ReadAccess.objects.filter(case_id=case_id, partner=partner).count() >= 5


@pytest.mark.django_db
def test_a_withdrawn_referral_reads_as_a_revoked_request_and_a_cancelled_task():
    partner, key = make_partner()
    client = fhir_client(key)
    case_id = post(client, physiotherapy_referral()).json()["id"]

    response = post_to(client, "Task", abort(case_id, "Patient moved away."))

    assert response.status_code == 200, response.content
    Bundle.model_validate(response.json())
    resources = bundle_of(client, case_id)

    assert resources["ServiceRequest"]["status"] == "revoked"
    assert resources["Task"]["status"] == "cancelled"
    assert "Provenance" not in resources
    event = Case.objects.get(pk=case_id).events.get(to_status="withdrawn")
    assert (event.note, event.actor_label) == ("Patient moved away.", f"partner: {partner.name} (via FHIR)")


@pytest.mark.django_db
def test_a_decided_referral_cannot_be_withdrawn_and_other_tasks_are_not_acted_on():
    _, key = make_partner()
    client = fhir_client(key)
    case_id = post(client, with_knee_findings(knee_referral_bundle())).json()["id"]
    make_draft(case_id=case_id)
    review.approve_draft(case_id=case_id, user=make_user(group="Specialists"))

    [issue] = outcome(post_to(client, "Task", abort(case_id, "Too late?")), 409)
    assert issue["code"] == "conflict" and "already decided" in issue["diagnostics"]

    suspend = abort(case_id, "Hold on") | {
        "code": {"coding": [{"system": "http://hl7.org/fhir/CodeSystem/task-code", "code": "suspend"}]}
    }
    [issue] = outcome(post_to(client, "Task", suspend), 400)
    assert issue["expression"] == ["Task.code"]
    assert Case.objects.get(pk=case_id).status == "decided"


# --- answering the specialist's question in FHIR ---------------------------------------------
