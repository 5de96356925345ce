"""POST /api/v1/fhir/AdverseEvent with shapes FHIR allows but a reader may not expect: a name part
left null beside its `_given`, a name without a family name or with nothing in it, an extension
with no value, codings without a code, a modifier extension. Each is read (201) or refused with an
OperationOutcome naming the element to fix (400); never a server error."""

import pytest
from django.conf import settings

from clinic.aftercare.models import AdverseEvent
from clinic.web.api import throttle
from clinic.web.fhir.adverse_event_inbound import ACTION_TAKEN
from clinic.web.fhir.adverse_event_outbound import CTCAE_GRADE, QUALIFICATION_SYSTEM, SERIOUSNESS
from tests.web.fhir.test_fhir_adverse_event_door import GRADE_PLACE, fhir_report, issues, post, treated

# The value is unknown: legal FHIR for a null in a list of primitives.
ABSENT = {
    "extension": [
        {"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "unknown"}
    ]
}
PHYSICIAN = [{"code": {"coding": [{"system": QUALIFICATION_SYSTEM, "code": "physician"}]}}]


@pytest.fixture(autouse=True)
def fresh_throttle():
    throttle.store(settings.CACHE_URL).reset()


def reported_by(record, *names, qualification=PHYSICIAN, resource_type="Practitioner", **changes) -> dict:
    """The report, its reporter a contained person with these names."""
    person = {"resourceType": resource_type, "id": "reporter", "name": list(names)}
    if resource_type == "Practitioner":
        person["qualification"] = qualification
    return fhir_report(f"Procedure/{record.pk}", contained=[person], **changes)


@pytest.mark.django_db
def test_a_given_name_left_null_beside_its_extension_is_read_without_it():
    _, client, _, record = treated()
    name = {"given": ["Ana", None], "_given": [None, ABSENT], "family": "Reyes"}

    response = post(client, reported_by(record, name))

    assert response.status_code == 201, response.content
    stored = AdverseEvent.objects.get(pk=response.json()["id"])
    assert (stored.reporter_name, stored.reporter_qualification) == ("Ana Reyes", "physician")


@pytest.mark.django_db
def test_a_name_without_a_family_name_and_the_first_name_that_says_something_are_read():
    _, client, _, record = treated()
    unsaid = {"given": [None], "_given": [ABSENT]}

    given_only = post(client, reported_by(record, {"given": ["Ana"]}, identifier={"value": "AE-1"}))
    second = post(client, reported_by(record, unsaid, {"text": "Dr Ana Reyes"}, identifier={"value": "AE-2"}))

    assert given_only.status_code == 201 and second.status_code == 201, (given_only.content, second.content)
    assert {ae.external_id: ae.reporter_name for ae in AdverseEvent.objects.all()} == {
        "AE-1": "Ana",
        "AE-2": "Dr Ana Reyes",
    }


@pytest.mark.django_db
def test_a_reporter_whose_name_says_nothing_is_asked_for_a_name():
    _, client, _, record = treated()
    shapes = [
        reported_by(record, {"given": [None, None], "_given": [ABSENT, ABSENT]}),
        reported_by(record),  # an empty list of names
        reported_by(record, {"use": "official"}),
        reported_by(record, {"given": [None], "_given": [ABSENT]}, resource_type="Patient"),
        # A qualification coded in our system without its code says no qualification.
        reported_by(
            record,
            {"text": "Ana Reyes"},
            qualification=[{"code": {"coding": [{"system": QUALIFICATION_SYSTEM}]}}],
        ),
    ]

    for body in shapes:
        (issue,) = issues(post(client, body), 400)
        assert (issue["code"], issue["expression"]) == ("required", ["AdverseEvent.recorder"]), body
        assert issue["diagnostics"].startswith("Name the reporter"), issue
    assert AdverseEvent.objects.count() == 0


@pytest.mark.django_db
def test_an_extension_without_a_value_is_refused_where_the_value_is_needed_and_ignored_elsewhere():
    _, client, _, record = treated()
    nested = {"extension": [{"url": "part", "valueString": "x"}]}
    grade = {"url": CTCAE_GRADE, "valueInteger": 3}

    no_grade = post(client, fhir_report(f"Procedure/{record.pk}", extension=[{"url": CTCAE_GRADE} | nested]))
    no_action = post(
        client, fhir_report(f"Procedure/{record.pk}", extension=[grade, {"url": ACTION_TAKEN} | nested])
    )

    (issue,) = issues(no_grade, 400)
    assert issue["expression"] == [GRADE_PLACE] and "valueInteger" in issue["diagnostics"]
    assert no_action.status_code == 201, no_action.content
    assert AdverseEvent.objects.get().action_taken == ""


@pytest.mark.django_db
def test_a_seriousness_coding_without_a_code_says_how_to_code_it():
    _, client, _, record = treated()

    body = fhir_report(f"Procedure/{record.pk}", seriousness={"coding": [{"system": SERIOUSNESS}]})

    (issue,) = issues(post(client, body), 400)
    assert issue["expression"] == ["AdverseEvent.seriousness"] and SERIOUSNESS in issue["diagnostics"]
    assert "None" not in issue["diagnostics"]


@pytest.mark.django_db
def test_a_modifier_extension_the_clinic_does_not_know_is_refused_not_ignored():
    _, client, _, record = treated()
    modifier = [{"url": "https://partner.example/fhir/entered-in-error", "valueBoolean": True}]

    in_reporter = reported_by(record, {"text": "Ana Reyes"})
    in_reporter["contained"][0]["modifierExtension"] = modifier
    in_suspect = fhir_report(f"Procedure/{record.pk}")
    in_suspect["suspectEntity"][0]["modifierExtension"] = modifier

    for body in (fhir_report(f"Procedure/{record.pk}", modifierExtension=modifier), in_reporter, in_suspect):
        (issue,) = issues(post(client, body), 400)
        assert issue["code"] == "not-supported" and "entered-in-error" in issue["diagnostics"]
    assert AdverseEvent.objects.count() == 0
