"""The clinic's own FHIR record of a treatment: the full Procedure, which partners never get."""

import pytest
from fhir.resources.R4B.bundle import Bundle

from clinic.aftercare.selectors import course_of
from intake.roles import FRONT_DESK
from tests.aftercare.factories import make_decided_case, make_performer, make_signed_treatment
from tests.factories import make_user

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
