"""The case page: progress, decision and its print, answers, withdrawal, the board's cards."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from intake.models import Case, CaseStatus, Patient
from recommendations import review
from recommendations.services import make_draft
from tests.factories import make_case, make_patient, make_user
from tests.web.desk.test_pages import (  # noqa: F401  (fixtures used by name)
    NO_CONTRAINDICATIONS,
    _infusion_covered,
    intake_form,
    patient_form,
)


@pytest.mark.django_db
def test_the_case_page_shows_progress_and_timeline_but_never_the_draft(desk):
    case = make_case(anticoagulant_therapy=True)
    make_draft(case_id=case.pk)

    page = desk.get(f"/desk/cases/{case.pk}/").content.decode()

    assert 'aria-current="step">Waiting for a specialist' in page
    assert "Draft 1 ready" in page  # the timeline
    for draft_detail in ("LOC-FEW-SITES", "bleeding_risk", "Local injection", "Regulatory"):
        assert draft_detail not in page


@pytest.mark.django_db
def test_the_case_page_shows_the_decision_and_prints_it(desk):
    case = make_case()
    make_draft(case_id=case.pk)
    specialist = make_user("dr_x", group="Specialists", signs=False)
    review.set_signature(user=specialist, full_name="Dr. Maria Okafor", credentials="MD")
    review.amend_draft(case_id=case.pk, user=specialist, route="intravenous", reason="Both knees")

    page = desk.get(f"/desk/cases/{case.pk}/").content.decode()
    printed = desk.get(f"/desk/cases/{case.pk}/print/").content.decode()

    for text in (page, printed):
        assert "Intravenous infusion" in text and "Both knees" in text
        assert 'id="signature">Dr. Maria Okafor, MD<' in text  # signed with the full name, not "dr_x"
        assert Case.objects.get(pk=case.pk).reference in text
    assert "Amended to another route" in page
    assert "Regenerative Medicine Clinic" in printed  # the letterhead (CLINIC_NAME)
    assert "Unilateral primary osteoarthritis, right knee" in printed


@pytest.mark.django_db
def test_a_signed_decision_keeps_its_signature_when_the_profile_changes_later(desk):
    case = make_case()
    make_draft(case_id=case.pk)
    specialist = make_user("dr_y", group="Specialists", signs=False)
    review.set_signature(user=specialist, full_name="Dr. Ana Lima", credentials="MD")
    review.approve_draft(case_id=case.pk, user=specialist)

    review.set_signature(user=specialist, full_name="Dr. Ana Lima-Costa", credentials="MD, PhD")

    assert 'id="signature">Dr. Ana Lima, MD<' in desk.get(f"/desk/cases/{case.pk}/print/").content.decode()


@pytest.mark.django_db
def test_a_case_reference_typed_into_the_search_opens_the_case(desk):
    case = make_case()

    response = desk.get("/desk/patients/", {"q": case.reference.lower()})

    assert response.status_code == 302 and response["Location"] == f"/desk/cases/{case.pk}/"


@pytest.mark.django_db
def test_printing_an_undecided_case_explains_instead(desk):
    case = make_case()
    response = desk.get(f"/desk/cases/{case.pk}/print/", follow=True)
    assert "There is no decision to print yet." in response.content.decode()


@pytest.mark.django_db
def test_the_desk_answers_a_question_and_the_case_goes_back_to_drafting(desk):
    case = make_case(affected_sites=[])
    make_draft(case_id=case.pk)
    review.request_information(case_id=case.pk, user=make_user(group="Specialists"), question="Which knee?")

    page = desk.get(f"/desk/cases/{case.pk}/").content.decode()
    assert "Which knee?" in page
    empty = desk.post(f"/desk/cases/{case.pk}/answer/", {"answer": ""})
    assert empty.status_code == 400 and "Write the answer" in empty.content.decode()

    desk.post(
        f"/desk/cases/{case.pk}/answer/",
        {"answer": "Right", "affected_sites": ["right_knee"], "condition_code": "M17.11"},
    )

    case.refresh_from_db()
    assert case.status == CaseStatus.DRAFTING
    assert case.affected_sites == ["right_knee"]


@pytest.mark.django_db
def test_a_case_is_withdrawn_with_a_reason(desk):
    case = make_case()

    missing = desk.post(f"/desk/cases/{case.pk}/withdraw/", {"reason": ""})
    assert missing.status_code == 400 and "Say why the case is withdrawn." in missing.content.decode()
    desk.post(f"/desk/cases/{case.pk}/withdraw/", {"reason": "Patient moved away", "confirmed": "True"})

    case.refresh_from_db()
    assert case.status == CaseStatus.WITHDRAWN
    assert case.events.last().note == "Patient moved away"
    again = desk.post(f"/desk/cases/{case.pk}/withdraw/", {"reason": "again"}, follow=True)
    assert "This case is already withdrawn; nothing was changed." in again.content.decode()


@pytest.mark.django_db
def test_the_status_endpoint_feeds_the_progress_poll(desk):
    case = make_case()
    assert desk.get(f"/desk/cases/{case.pk}/status/").json() == {
        "status": "received",
        "label": "Being drafted",
    }
    assert desk.get(f"/desk/cases/{uuid.uuid4()}/status/").status_code == 404


@pytest.mark.django_db
def test_the_condition_search_offers_real_specific_codes_the_clinics_first(desk):
    results = desk.get("/desk/codes/", {"q": "knee"}).json()

    codes = [r["code"] for r in results]
    assert "M17.11" in codes[:10]
    assert next(r for r in results if r["code"] == "M17.11") == {
        "code": "M17.11",
        "descriptor": "Unilateral primary osteoarthritis, right knee",
        "category": "localized",
    }
    assert desk.get("/desk/codes/", {"q": "k"}).json() == []  # too short to search


@pytest.mark.django_db
def test_the_case_page_shows_the_codes_official_descriptor(desk):
    case = make_case(condition_code="M17.12", affected_sites=["left_knee"])

    page = desk.get(f"/desk/cases/{case.pk}/").content.decode()

    assert "M17.12</strong> Unilateral primary osteoarthritis, left knee" in page


@pytest.mark.django_db
def test_the_board_tells_at_a_glance_urgent_overdue_outcome_route_and_question(desk):
    # Given a routine and an urgent case waiting, an overdue one, a decided one and one with a question
    routine = make_case(patient=make_patient(family_name="Routine"))
    urgent = make_case(patient=make_patient(family_name="Urgent"), priority=1)
    late = make_case(patient=make_patient(family_name="Late"))
    Case.objects.filter(pk=late.pk).update(due_at=late.created_at.replace(year=2001))
    decided = make_case(patient=make_patient(family_name="Decided"))
    make_draft(case_id=decided.pk)
    review.approve_draft(case_id=decided.pk, user=make_user(group="Specialists"))
    asked = make_case(patient=make_patient(family_name="Asked"))
    make_draft(case_id=asked.pk)
    review.request_information(case_id=asked.pk, user=make_user(group="Specialists"), question="Which knee?")

    page = desk.get("/desk/").content.decode()

    waiting = page.split('id="g-in_progress"')[1].split('<ul class="cards">')[1].split("</ul>")[0]
    assert waiting.index("Urgent</span>Urgent") < waiting.index("Routine")  # urgent first, marked
    assert '<span class="badge overdue">Overdue</span>Late' in waiting
    closed = page.split('id="g-closed"')[1].split("</section>")[0]
    assert "Approved as drafted: Local injection" in closed
    assert "Asks: Which knee?" in page
    assert routine.reference in page and urgent.reference in page


@pytest.mark.django_db
def test_the_board_asks_one_cheap_question_to_know_whether_to_redraw(desk):
    make_case()
    version = desk.get("/desk/board/changes/").json()["version"]

    with CaptureQueriesContext(connection) as ctx:
        unchanged = desk.get("/desk/board/changes/", {"since": version}, headers={"X-Background-Poll": "1"})
    case_queries = [q for q in ctx.captured_queries if "intake_case" in q["sql"]]

    assert unchanged.json() == {"changed": False, "version": version}
    assert len(case_queries) == 1
    make_case()  # a new intake at another desk
    assert desk.get("/desk/board/changes/", {"since": version}).json()["changed"] is True


@pytest.mark.django_db
def test_a_name_with_a_right_to_left_override_is_refused_on_the_desk(desk):
    page = desk.get("/desk/patients/new/").content.decode()
    key = page.split('name="submission_key" value="')[1].split('"')[0]
    form = {"given_name": "Ana", "family_name": "Silva\u202e", "birth_date": "1961-04-02", "sex": "female"}

    response = desk.post("/desk/patients/new/", form | {"submission_key": key})

    assert "U+202E RIGHT-TO-LEFT OVERRIDE" in response.content.decode()
    assert not Patient.objects.exists()
