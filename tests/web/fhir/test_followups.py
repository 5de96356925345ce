"""Reading a partner's FHIR follow-ups: a Communication as the answer to a specialist's
question, a Task 'abort' as a withdrawal."""

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic.web.fhir import ICD10_CM
from clinic.web.fhir.followups import answer_from_fhir, withdrawal_from_fhir
from clinic.web.fhir.reading import FHIRInputError
from tests.web.fhir.examples import body_site, damaged, hl7

REFERRAL = uuid.UUID("3f6c1c55-8f43-4b7e-9b8e-3c1f3f2f8a10")


def message(**fields) -> dict:
    return {
        "resourceType": "Communication",
        "status": "completed",
        "basedOn": [{"reference": f"ServiceRequest/{REFERRAL}"}],
        "payload": [{"contentString": "Since March."}, {"contentString": "Right knee only."}],
    } | fields


def with_condition(condition: dict) -> dict:
    body = message(contained=[condition])
    body["payload"].append({"contentReference": {"reference": f"#{condition['id']}"}})
    return body


def test_the_answer_is_the_text_of_the_payload():
    assert answer_from_fhir(message()) == (REFERRAL, {"answer": "Since March.\n\nRight knee only."})


def test_the_referral_may_be_named_as_we_name_it_in_the_bundle():
    referral, _ = answer_from_fhir(message(basedOn=[], about=[{"reference": f"urn:uuid:{REFERRAL}"}]))

    assert referral == REFERRAL


def test_a_contained_condition_corrects_the_code_and_its_sites():
    condition = {
        "resourceType": "Condition",
        "id": "c",
        "subject": {"display": "the patient"},
        "code": {"coding": [{"system": ICD10_CM, "code": "M17.12", "display": "Primary OA, left knee"}]},
        "bodySite": [{"coding": [body_site("left_knee")]}],
    }

    _, answer = answer_from_fhir(with_condition(condition))

    assert answer["condition"] == {"icd10": "M17.12", "description": "Primary OA, left knee"}
    assert answer["affected_sites"] == ["left_knee"]


def test_a_snomed_only_correction_is_refused_like_a_referral():
    with pytest.raises(FHIRInputError) as caught:
        answer_from_fhir(with_condition(hl7("Condition-example")))

    assert any("SNOMED CT only" in issue.diagnostics for issue in caught.value.issues)


@pytest.mark.parametrize(
    "body, place",
    [
        (message(basedOn=[{"reference": "ServiceRequest/not-a-uuid"}]), "Communication.basedOn"),
        (message(basedOn=[{"reference": f"Task/{REFERRAL}"}]), "Communication.basedOn"),
        (message(payload=[{"contentAttachment": {"title": "scan.pdf"}}]), "Communication.payload"),
        (message(payload=[{"contentString": ""}]), "Communication.payload[0].contentString"),
        ({"resourceType": "ServiceRequest"}, "resourceType"),
    ],
)
def test_what_is_missing_is_named(body, place):
    with pytest.raises(FHIRInputError) as caught:
        answer_from_fhir(body)

    assert place in [issue.expression for issue in caught.value.issues]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_damaged_answer_reads_or_fails_with_issues(data):
    condition = hl7("Condition-example") | {"id": "c"}
    condition["code"]["coding"].append({"system": ICD10_CM, "code": "T20.01"})
    body = damaged(data, with_condition(condition))

    try:
        answer_from_fhir(body)
    except FHIRInputError as exc:
        assert all(issue.diagnostics for issue in exc.issues)


def abort_task(**fields) -> dict:
    return {
        "resourceType": "Task",
        "status": "requested",
        "intent": "order",
        "code": {"coding": [{"system": "http://hl7.org/fhir/CodeSystem/task-code", "code": "abort"}]},
        "focus": {"reference": f"ServiceRequest/{REFERRAL}"},
        "reasonCode": {"text": "Patient declined."},
    } | fields


def test_an_abort_task_withdraws_with_its_reason_and_notes():
    task = abort_task(note=[{"text": "Called on Monday."}])

    assert withdrawal_from_fhir(task) == (REFERRAL, "Patient declined.\n\nCalled on Monday.")


@pytest.mark.parametrize(
    "task, place",
    [
        (abort_task(reasonCode=None), "Task.reasonCode"),
        (abort_task(focus={"reference": "Patient/123"}), "Task.focus"),
        (abort_task(code={"text": "please cancel"}), "Task.code"),
        (message(), "resourceType"),
    ],
)
def test_a_withdrawal_names_what_it_lacks(task, place):
    task = {key: value for key, value in task.items() if value is not None}
    with pytest.raises(FHIRInputError) as caught:
        withdrawal_from_fhir(task)

    assert place in [issue.expression for issue in caught.value.issues]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_damaged_task_reads_or_fails_with_issues(data):
    body = damaged(data, abort_task(note=[{"text": "x"}]))

    try:
        withdrawal_from_fhir(body)
    except FHIRInputError as exc:
        assert all(issue.diagnostics for issue in exc.issues)
