"""The clinic's own FHIR record of a treatment: the full Procedure, which partners never get."""

import pytest
from fhir.resources.R4B.bundle import Bundle

from clinic.aftercare import follow_up
from clinic.aftercare.models import TimePoint
from clinic.aftercare.selectors import course_of
from intake.roles import FRONT_DESK
from tests.aftercare.factories import make_course, make_decided_case, make_performer, make_signed_treatment
from tests.factories import make_patient, make_user

USED = "http://hl7.org/fhir/5.0/StructureDefinition/extension-Procedure.used"


@pytest.mark.django_db
def test_the_desk_downloads_every_signed_session_with_its_product_for_the_clinic(client):
    case, _ = make_decided_case()
    record = make_signed_treatment(course_of(case.pk), performer=make_performer())
    client.force_login(make_user(group=FRONT_DESK))

    response = client.get(f"/desk/cases/{case.pk}/course/fhir.json")

    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    bundle = response.json()
    Bundle.model_validate(bundle)
    procedure, task = (entry["resource"] for entry in bundle["entry"])
    assert procedure["resourceType"] == "Procedure" and task["resourceType"] == "Task"
    assert [ext["url"] for ext in procedure["extension"]].count(USED) == 1
    assert record.lot in response.content.decode() and record.distinct_code in response.content.decode()


@pytest.mark.django_db
def test_a_case_without_a_course_has_no_treatment_record_to_download(client):
    case, _ = make_decided_case(outcome="declined", route="not_recommended")
    client.force_login(make_user(group=FRONT_DESK))

    assert client.get(f"/desk/cases/{case.pk}/course/fhir.json").status_code == 404


@pytest.mark.django_db
def test_the_clinics_record_keeps_each_submitted_form_as_a_questionnaire_response(client):
    # Given a knee course whose baseline was answered at the desk (pain 7, KOOS JR all "Severe")
    desk = make_user(group=FRONT_DESK)
    course = make_course(patient=make_patient(phone="+1 555 0100"))
    baseline = TimePoint.objects.get(course=course, day=0)
    answers = {"pain_nrs": {"pain_nrs": 7}, "koos_jr": {f"koos_jr_{n}": 3 for n in range(1, 8)}}
    follow_up.record_desk_answers(
        time_point_id=baseline.pk, user=desk, answers_by_instrument=answers, source="desk"
    )
    client.force_login(desk)

    # When the desk downloads the clinic's FHIR record of the treatment
    bundle = client.get(f"/desk/cases/{course.case_id}/course/fhir.json").json()

    # Then each form is there as a valid, completed QuestionnaireResponse with its answers
    Bundle.model_validate(bundle)
    responses = {
        entry["resource"]["questionnaire"].rsplit("/", 1)[-1]: entry["resource"]
        for entry in bundle["entry"]
        if entry["resource"]["resourceType"] == "QuestionnaireResponse"
    }
    assert set(responses) == {"pain-nrs", "koos-jr"}
    assert all(resource["status"] == "completed" for resource in responses.values())
    (pain,) = responses["pain-nrs"]["item"]
    assert pain["linkId"] == "pain_nrs"
    assert pain["answer"][0].get("valueInteger") == 7 or pain["answer"][0]["valueCoding"]["code"] == "7"
    assert len(responses["koos-jr"]["item"]) == 7
    assert {item["answer"][0]["valueCoding"]["code"] for item in responses["koos-jr"]["item"]} == {"3"}
