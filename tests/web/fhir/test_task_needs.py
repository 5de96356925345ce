"""The referral Task lists what a draft needs in `Task.input` while the referral waits for an answer:
the same members as the JSON referral's `needs` (GET /api/v1/referrals/{id}/fhir and FHIR webhooks)."""

import pytest
from fhir.resources.R4B.bundle import Bundle
from rest_framework.test import APIClient

from clinic.web.webhooks import payload_as_sent
from intake.models import Case, CaseStatus, PartnerNotification
from recommendations import review
from recommendations.selectors import current_draft
from recommendations.services import make_draft
from tests.factories import make_demo_protocols, make_partner, make_referral, make_user

NEEDS = "https://clinic.example.org/fhir/CodeSystem/needs"


@pytest.fixture(autouse=True)
def rule_set_v3(settings):
    settings.RULESET_LIVE = "v3"
    make_demo_protocols()


def api(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def asked(partner, *, question: str = "Please send what the protocol needs.", **changes) -> Case:
    case = make_referral(partner, **changes)
    make_draft(case_id=case.pk)
    review.request_information(case_id=case.pk, user=make_user(group="Specialists"), question=question)
    return Case.objects.get(pk=case.pk)


def task_of(bundle: dict) -> dict:
    Bundle.model_validate(bundle)  # valid R4 throughout
    return next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Task")


def inputs(task: dict) -> list[tuple[str, object]]:
    found = []
    for item in task.get("input", []):
        (coding,) = item["type"]["coding"]
        assert coding["system"] == NEEDS
        (value_name,) = [name for name in item if name.startswith("value")]
        found.append((coding["code"], item[value_name]))
    return found


def as_inputs(needs: dict) -> list[tuple[str, object]]:
    """The JSON `needs` read the way the Task lists it: a list member item by item, a true member once."""
    found = []
    for member, value in needs.items():
        if isinstance(value, list):
            found += [(member, item) for item in value]
        elif value is True:
            found.append((member, True))
    return found


@pytest.mark.django_db
def test_the_findings_a_protocol_needs_are_task_inputs_as_in_the_json_referral():
    partner, key = make_partner()
    case = asked(partner, findings={})  # knee OA, no findings: the demo knee protocol needs two

    task = task_of(api(key).get(f"/api/v1/referrals/{case.pk}/fhir").json())
    needs = api(key).get(f"/api/v1/referrals/{case.pk}/").json()["needs"]

    assert inputs(task) == [("findings", "kl_grade"), ("findings", "conservative_care_months")]
    assert inputs(task) == as_inputs(needs)
    assert all("valueString" in item for item in task["input"])
    assert task["statusReason"]["text"] == "Please send what the protocol needs."


@pytest.mark.django_db
def test_a_member_that_is_true_is_one_boolean_input():
    partner, key = make_partner()
    case = asked(partner, affected_sites=[])

    task = task_of(api(key).get(f"/api/v1/referrals/{case.pk}/fhir").json())

    assert ("sites", True) in inputs(task)
    assert [item["valueBoolean"] for item in task["input"] if "valueBoolean" in item] == [True]
    assert inputs(task) == as_inputs(api(key).get(f"/api/v1/referrals/{case.pk}/").json()["needs"])


@pytest.mark.django_db
def test_no_input_when_nothing_is_asked_or_the_question_was_answered():
    partner, key = make_partner()
    findings = {"kl_grade": 2, "conservative_care_months": 6}
    own_question = asked(partner, external_id="RF-OWN", findings=findings, question="Injected before?")
    answered = asked(partner, external_id="RF-ANSWERED")
    reply = api(key).post(
        f"/api/v1/referrals/{answered.pk}/information/",
        {"answer": "Attached", "findings": findings},
        format="json",
    )
    assert reply.status_code == 200, reply.content

    waiting = task_of(api(key).get(f"/api/v1/referrals/{own_question.pk}/fhir").json())
    moved_on = task_of(api(key).get(f"/api/v1/referrals/{answered.pk}/fhir").json())

    assert own_question.status == CaseStatus.NEEDS_INFORMATION and "input" not in waiting
    assert moved_on["businessStatus"]["coding"][0]["code"] != "needs_information"
    assert "input" not in moved_on


@pytest.mark.django_db
def test_a_fhir_webhook_lists_what_was_needed_when_the_event_happened():
    partner, key = make_partner(webhook_format="fhir")
    case = asked(partner, findings={})  # knee OA, no findings: the demo knee protocol needs two
    notification = PartnerNotification.objects.get(case=case, event_type="referral.needs_information")
    told_as_json = notification.payload["data"]["needs"]  # the snapshot, before it becomes a Bundle
    # The partner answers before the webhook is first rendered; the event still tells what it asked.
    reply = api(key).post(
        f"/api/v1/referrals/{case.pk}/information/",
        {"answer": "Attached", "findings": {"kl_grade": 2, "conservative_care_months": 6}},
        format="json",
    )
    assert reply.status_code == 200, reply.content
    make_draft(case_id=case.pk)  # the new draft, with the findings, asks for nothing
    assert current_draft(Case.objects.get(pk=case.pk)).needs["findings"] == []

    task = task_of(payload_as_sent(notification)["data"])

    assert task["businessStatus"]["coding"][0]["code"] == "needs_information"
    assert inputs(task) == [("findings", "kl_grade"), ("findings", "conservative_care_months")]
    assert inputs(task) == as_inputs(told_as_json)
