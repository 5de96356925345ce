import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from intake.models import Case, CaseStatus, Patient
from recommendations import review
from recommendations.services import make_draft
from tests.factories import make_case, make_patient, make_user


@pytest.fixture(autouse=True)
def _infusion_covered(knee_infusion_protocol):
    """Specialists here amend knee drafts to an infusion, which rule set v3 takes under a protocol."""


NO_CONTRAINDICATIONS = {
    "active_malignancy": "no",
    "active_infection": "no",
    "pregnant": "no",
    "anticoagulant_therapy": "no",
    "bleeding_disorder": "no",
    "immunosuppressed": "no",
}


def intake_form(**changes) -> dict:
    return {
        "submission_key": str(uuid.uuid4()),
        "condition_code": "m17.11",
        "condition_text": "OA right knee",
        "affected_sites": ["right_knee"],
        "consent_obtained": "yes",
        "consent_by": "patient",
        "consent_form_version": "2026-01",
        "priority": "2",
        "goals": "walk",
        "notes": "",
        **NO_CONTRAINDICATIONS,
        **changes,
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/desk/",
        "/desk/patients/",
        "/desk/patients/new/",
        "/desk/patients/{patient}/intake/",
        "/desk/cases/{case}/",
        "/desk/cases/{case}/status/",
        "/desk/cases/{case}/print/",
    ],
)
def test_every_desk_page_sends_anyone_else_to_sign_in(client, path):
    case = make_case()
    url = path.format(patient=case.patient_id, case=case.pk)

    anonymous = client.get(url)
    client.force_login(make_user())  # signed in, but neither front desk nor specialist
    no_role = client.get(url)

    for response in (anonymous, no_role):
        assert response.status_code == 302
        assert response["Location"].startswith("/desk/login/?next=")


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/desk/cases/{case}/answer/", "/desk/cases/{case}/withdraw/"])
def test_desk_actions_refuse_anyone_else(client, url):
    case = make_case()
    response = client.post(url.format(case=case.pk), {"reason": "x", "answer": "y"})
    assert response.status_code == 302 and "/desk/login/" in response["Location"]
    assert Case.objects.get(pk=case.pk).status == CaseStatus.RECEIVED


@pytest.mark.django_db
def test_specialists_may_use_the_desk_too(client):
    client.force_login(make_user(group="Specialists", is_staff=True))
    assert client.get("/desk/").status_code == 200


@pytest.mark.django_db
def test_sign_in_page_signs_a_desk_user_in(client):
    make_user("desk_bo", group="Front desk")
    response = client.post("/desk/login/", {"username": "desk_bo", "password": "pw-for-tests-1"})
    assert response.status_code == 302 and response["Location"] == "/desk/"
    wrong = client.post("/desk/login/", {"username": "desk_bo", "password": "nope"})
    assert "Please enter a correct username and password" in wrong.content.decode()


@pytest.mark.django_db
def test_the_board_groups_open_cases_with_counts_and_marks_the_oldest(desk):
    oldest = make_case(patient=make_patient(family_name="Oldest"))
    make_case(patient=make_patient(family_name="Newer"))
    asked = make_case(patient=make_patient(family_name="Asked"))
    make_draft(case_id=asked.pk)
    review.request_information(case_id=asked.pk, user=make_user(group="Specialists"), question="Which knee?")

    page = desk.get("/desk/").content.decode()

    assert 'data-count="in_progress">2<' in page
    assert 'data-count="needs_information">1<' in page
    assert f'Oldest waiting: <a href="/desk/cases/{oldest.pk}/">Oldest' in page
    assert 'data-changes-url="/desk/board/changes/"' in page
    in_progress_cards = page.split('id="g-in_progress"')[1].split('<ul class="cards">')[1]
    assert in_progress_cards.index("Newer") < in_progress_cards.index("Oldest")  # newest activity first


@pytest.mark.django_db
def test_the_board_fragment_is_just_the_board_for_polling(desk):
    make_case()
    fragment = desk.get("/desk/", {"fragment": 1}).content.decode()
    assert fragment.lstrip().startswith('<div class="board"') and "<html" not in fragment


@pytest.mark.django_db
def test_the_board_takes_the_same_number_of_queries_for_many_cases(desk):
    make_case()

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            desk.get("/desk/")
        return len(ctx.captured_queries)

    few = queries()
    for _ in range(40):
        make_case()
    assert queries() == few


@pytest.mark.django_db
def test_patient_search_links_to_an_intake(desk):
    patient = make_patient(family_name="Findme")
    page = desk.get("/desk/patients/", {"q": "findme"}).content.decode()
    assert f"/desk/patients/{patient.pk}/intake/" in page


def patient_form(**changes) -> dict:
    return {
        "submission_key": str(uuid.uuid4()),
        "given_name": "Ana",
        "family_name": "Silva",
        "birth_date": "1961-04-02",
        "sex": "female",
        "phone": "+15551234567",
        "email": "ana@example.org",
        "mrn": "",
        **changes,
    }


@pytest.mark.django_db
def test_a_new_patient_is_registered_and_the_intake_follows(desk):
    response = desk.post("/desk/patients/new/", patient_form())

    patient = Patient.objects.get()
    assert response["Location"] == f"/desk/patients/{patient.pk}/intake/"
    assert patient.mrn.startswith("MRN")


@pytest.mark.django_db
def test_the_duplicate_warning_lists_matches_with_reasons_and_saves_nothing(desk):
    existing = make_patient(
        given_name="Ana", family_name="Silva", birth_date="1961-04-02", phone="+15551234567"
    )

    page = desk.post("/desk/patients/new/", patient_form(given_name="Anna", email="")).content.decode()

    assert "This may be a patient we already have" in page
    assert "same birth date and a similar name; same phone number" in page
    assert f"/desk/patients/{existing.pk}/intake/" in page
    assert 'name="confirm_new" value="True"' in page
    assert Patient.objects.count() == 1


@pytest.mark.django_db
def test_confirming_a_new_patient_registers_them_once(desk):
    make_patient(given_name="Ana", family_name="Silva", birth_date="1961-04-02")
    form = patient_form(confirm_new="True")

    desk.post("/desk/patients/new/", form)
    desk.post("/desk/patients/new/", form)  # double click: the same one-time key

    assert Patient.objects.filter(given_name="Ana").count() == 2


@pytest.mark.django_db
def test_patient_errors_are_next_to_their_fields_and_what_was_typed_is_kept(desk):
    response = desk.post(
        "/desk/patients/new/",
        patient_form(given_name="", birth_date="2999-01-01", phone="call me", email="not-an-email"),
    )
    page = response.content.decode()

    assert response.status_code == 200
    assert 'id="id_given_name_error"' in page
    assert "The birth date is in the future." in page
    assert "Enter digits with an optional leading +" in page
    assert "Enter a valid email address." in page
    assert 'value="Silva"' in page
    assert not Patient.objects.exists()


@pytest.mark.django_db
def test_a_double_click_with_a_given_mrn_registers_once(desk):
    form = patient_form(mrn="MRN-NEW-1")

    first = desk.post("/desk/patients/new/", form)
    second = desk.post("/desk/patients/new/", form)

    assert Patient.objects.filter(mrn="MRN-NEW-1").count() == 1
    assert first["Location"] == second["Location"]


@pytest.mark.django_db
def test_an_mrn_that_is_taken_is_an_error_on_its_field(desk):
    make_patient(mrn="MRN-1")
    page = desk.post("/desk/patients/new/", patient_form(mrn="mrn-1", confirm_new="True")).content.decode()
    assert "MRN mrn-1 belongs to another patient." in page


@pytest.mark.django_db
def test_an_intake_opens_a_case_and_shows_its_page(desk):
    patient = make_patient()

    response = desk.post(f"/desk/patients/{patient.pk}/intake/", intake_form())

    case = Case.objects.get()
    assert response["Location"] == f"/desk/cases/{case.pk}/"
    assert (case.condition_code, case.affected_sites, case.consent_form_version) == (
        "M17.11",
        ["right_knee"],
        "2026-01",
    )
    assert case.created_by.username == "desk_ana"
    assert case.events.get().actor_label == "desk_ana"


@pytest.mark.django_db
def test_a_double_submit_or_resubmit_makes_one_case(desk):
    patient = make_patient()
    form = intake_form()

    first = desk.post(f"/desk/patients/{patient.pk}/intake/", form)
    second = desk.post(f"/desk/patients/{patient.pk}/intake/", form)

    assert Case.objects.count() == 1
    assert first["Location"] == second["Location"]


@pytest.mark.django_db
def test_every_contraindication_needs_an_explicit_answer(desk):
    patient = make_patient()
    form = intake_form()
    for name in NO_CONTRAINDICATIONS:
        del form[name]

    page = desk.post(f"/desk/patients/{patient.pk}/intake/", form).content.decode()

    summary = page.split('id="error-summary"')[1].split("</div>")[0]
    assert summary.count("Answer yes or no.") == 6  # listed once each at the top, linked to the field
    assert page.count("Answer yes or no.") == 12  # and beside each question
    assert not Case.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (dict(condition_code="knee pain"), "“knee pain” is not an ICD-10 code but a search"),
        (
            dict(condition_code="M17.19"),
            "“M17.19” has the form of an ICD-10 code but is not a code in ICD-10-CM",
        ),
        (dict(affected_sites=["nose"]), "Select a valid choice. nose is not one of the available choices."),
        (dict(consent_form_version=""), "Enter the version of the consent form signed."),
        (dict(priority="9"), "Select a valid choice."),
        (dict(pregnant="maybe"), "Select a valid choice."),
        (dict(submission_key="not-a-uuid"), "This form is out of date: reload the page"),
    ],
)
def test_bad_intake_input_is_a_message_not_a_500(desk, changes, message):
    patient = make_patient()
    response = desk.post(f"/desk/patients/{patient.pk}/intake/", intake_form(**changes))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert 'value="OA right knee"' in response.content.decode()
    assert not Case.objects.exists()
