"""A referral read back as FHIR: every case status gives a valid Bundle whose Task
says where the case is, and the draft never leaks."""

import json

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire

from clinic.web.fhir import SCREENING_QUESTIONNAIRE
from clinic.web.fhir.inbound import YES_NO_ITEMS
from clinic.web.fhir.outbound import referral_bundle, screening_questionnaire, task_id
from clinic.web.fhir.supporting import V3_ITEMS
from intake.models import Case, CaseStatus, Priority
from intake.workflow import SYSTEM, transition
from recommendations import review
from recommendations.services import make_draft, mark_draft_failed
from tests.factories import make_partner, make_referral, make_user


def resources(case: Case) -> dict[str, dict]:
    case = Case.objects.select_related("decision", "patient").get(pk=case.pk)
    bundle = referral_bundle(case)
    Bundle.model_validate(bundle)
    return {entry["resource"]["resourceType"]: entry["resource"] for entry in bundle["entry"]}


def received(case: Case) -> None:
    pass


def drafting(case: Case) -> None:
    transition(case=case, to_status=CaseStatus.DRAFTING, actor=SYSTEM)


def awaiting_review(case: Case) -> None:
    make_draft(case_id=case.pk)


def needs_information(case: Case) -> None:
    make_draft(case_id=case.pk)
    review.request_information(case_id=case.pk, user=make_user(group="Specialists"), question="Since when?")


def draft_failed(case: Case) -> None:
    drafting(case)
    mark_draft_failed(case_id=case.pk, error="the engine crashed")


def decided(case: Case) -> None:
    make_draft(case_id=case.pk)
    review.approve_draft(case_id=case.pk, user=make_user(group="Specialists"))


def withdrawn(case: Case) -> None:
    transition(case=case, to_status=CaseStatus.WITHDRAWN, actor=SYSTEM, note="duplicate")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "reach, status, task_status, request_status",
    [
        (received, "received", "received", "active"),
        (drafting, "drafting", "in-progress", "active"),
        (awaiting_review, "awaiting_review", "in-progress", "active"),
        (needs_information, "needs_information", "on-hold", "active"),
        (draft_failed, "draft_failed", "failed", "active"),
        (decided, "decided", "completed", "completed"),
        (withdrawn, "withdrawn", "cancelled", "revoked"),
    ],
)
def test_the_task_follows_every_case_status(reach, status, task_status, request_status):
    case = make_referral(make_partner()[0])

    reach(case)
    found = resources(case)

    assert Case.objects.get(pk=case.pk).status == status
    assert found["Task"]["status"] == task_status
    assert found["Task"]["businessStatus"]["coding"][0]["code"] == status
    assert found["ServiceRequest"]["status"] == request_status
    assert ("Provenance" in found) == (status == "decided")
    if status != "decided":
        assert "local_injection" not in json.dumps(found)  # the draft's route stays inside the clinic


@pytest.mark.django_db
def test_the_service_request_carries_what_the_partner_referred():
    case = make_referral(make_partner()[0], external_id="RF-77", notes="Prefers mornings.")
    Case.objects.filter(pk=case.pk).update(priority=Priority.URGENT)

    request = resources(case)["ServiceRequest"]

    assert request["id"] == str(case.pk)
    assert request["identifier"][0]["value"] == "RF-77"
    assert request["reasonCode"][0]["coding"][0] == {
        "system": "http://hl7.org/fhir/sid/icd-10-cm",
        "code": "M17.11",
    }
    # Our coding, and the site's SNOMED CT concept beside it
    assert request["bodySite"][0]["coding"] == [
        {
            "system": "https://clinic.example.org/fhir/CodeSystem/body-site",
            "code": "right_knee",
            "display": "Right knee",
        },
        {"system": "http://snomed.info/sct", "code": "6757004", "display": "Structure of right knee region"},
    ]
    assert request["note"] == [{"text": "Prefers mornings."}]
    assert request["priority"] == "urgent"
    assert request["subject"] == {"display": "Ana Silva"}


@pytest.mark.django_db
def test_the_task_keeps_one_id_and_names_the_due_time():
    case = make_referral(make_partner()[0])
    first = resources(case)["Task"]

    make_draft(case_id=case.pk)
    later = resources(case)["Task"]

    assert first["id"] == later["id"] == str(task_id(case))
    assert later["restriction"]["period"]["end"] == case.due_at.isoformat()
    assert later["lastModified"] >= first["lastModified"]


def test_the_screening_questionnaire_asks_what_the_reader_needs():
    questionnaire = screening_questionnaire()
    Questionnaire.model_validate(questionnaire)

    required = {item["linkId"] for item in questionnaire["item"] if item["required"]}

    assert questionnaire["url"] == SCREENING_QUESTIONNAIRE
    assert required == set(YES_NO_ITEMS)
    # Optional: the goals, and rule set v3's items on consent and breastfeeding.
    assert {item["linkId"] for item in questionnaire["item"]} - required == {"goals", *V3_ITEMS}
