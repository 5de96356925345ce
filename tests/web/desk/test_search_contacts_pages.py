"""Finding a patient shows their open cases; contact details a partner sent wait on the case page for
the desk to accept (after a confirmation: it amends the patient record) or dismiss; withdrawing a
case shows what it does before it does it (issue #24, part 4)."""

import html
import re
import uuid
from datetime import date

import pytest

from intake.contacts import keep_contact_update
from intake.models import Case, CaseStatus, Patient, PendingContactUpdate
from intake.workflow import SYSTEM
from tests.factories import make_case, make_partner, make_patient, make_referral, make_user


@pytest.fixture
def desk(client):
    client.force_login(make_user("desk_search", group="Front desk"))
    return client


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def waiting_update(**fields) -> PendingContactUpdate:
    partner, _ = make_partner("Northside Clinic")
    case = make_referral(partner)
    details = {"phone": "+15559876543", "email": ""} | fields
    return keep_contact_update(patient=case.patient, case=case, partner=partner, actor=SYSTEM, **details)


@pytest.mark.django_db
def test_the_search_page_says_what_one_can_search_by(desk):
    page = text_of(desk.get("/desk/patients/").content.decode())

    for way in [
        "name",
        "accents optional",
        "birth date",
        "04/02/1961",
        "MRN",
        "referral reference",
        "C-2026-000123",
    ]:
        assert way in page


@pytest.mark.django_db
def test_a_name_without_accents_finds_the_patient_and_shows_their_open_cases(desk):
    patient = make_patient(given_name="Thị Hồng", family_name="Nguyễn", birth_date=date(1970, 5, 6))
    open_case = make_case(patient=patient)
    closed = make_case(patient=patient, condition_code="M17.12", affected_sites=["left_knee"])
    Case.objects.filter(pk=closed.pk).update(status=CaseStatus.WITHDRAWN)

    page = desk.get("/desk/patients/", {"q": "Nguyen"}).content.decode()

    assert "Nguyễn, Thị Hồng" in page
    assert (
        f'<a href="/desk/cases/{open_case.pk}/"><span class="ref-code">{open_case.reference}</span>' in page
    )
    assert "Being drafted" in page.split(open_case.reference)[1]
    assert closed.reference not in page  # only the cases still under way
    assert f"/desk/patients/{patient.pk}/intake/" in page  # and a new intake, as before


@pytest.mark.django_db
def test_a_patient_without_an_open_case_says_so(desk):
    make_patient(family_name="Quiet")

    page = text_of(desk.get("/desk/patients/", {"q": "Quiet"}).content.decode())

    assert "No open case." in page


@pytest.mark.django_db
def test_a_us_birth_date_finds_the_patient_and_the_page_says_which_date_it_read(desk):
    make_patient(family_name="Datewise", birth_date=date(1961, 4, 2))

    page = text_of(desk.get("/desk/patients/", {"q": "04/02/1961"}).content.decode())

    assert "Datewise" in page and "Birth date searched: 2 April 1961" in page


@pytest.mark.django_db
def test_waiting_contact_details_show_on_the_search_result_and_the_case_page(desk):
    update = waiting_update()

    found = text_of(desk.get("/desk/patients/", {"q": "Silva"}).content.decode())
    page = desk.get(f"/desk/cases/{update.case_id}/").content.decode()

    assert "New contact details from Northside Clinic wait for you" in found
    assert "New contact details to check" in page
    section = text_of(page.split('id="contact-updates"')[1].split("</section>")[0])
    assert "+15551234567" in section and "+15559876543" in section  # on record, and sent
    assert f"/desk/contact-updates/{update.pk}/accept/?next=" in page
    assert f'action="/desk/contact-updates/{update.pk}/dismiss/"' in page


@pytest.mark.django_db
def test_accepting_asks_first_and_says_what_changes(desk):
    update = waiting_update()

    page = desk.get(f"/desk/contact-updates/{update.pk}/accept/").content.decode()

    words = text_of(page)
    assert "Accept the new contact details?" in words
    assert "+15551234567" in words and "+15559876543" in words
    assert "Each of the patient's cases records, in its permanent timeline" in words
    assert Patient.objects.get(pk=update.patient_id).phone == "+15551234567"  # nothing yet


@pytest.mark.django_db
def test_accepting_puts_the_details_on_the_record_and_returns_to_the_case(desk):
    update = waiting_update()
    back = f"/desk/cases/{update.case_id}/"

    response = desk.post(f"/desk/contact-updates/{update.pk}/accept/", {"next": back})

    assert response.status_code == 302 and response["Location"] == back
    assert Patient.objects.get(pk=update.patient_id).phone == "+15559876543"
    page = desk.get(back).content.decode()
    assert "has the new contact details" in page
    assert "New contact details to check" not in page
    again = desk.post(f"/desk/contact-updates/{update.pk}/accept/", follow=True).content.decode()
    assert "already accepted by desk_search" in again


@pytest.mark.django_db
def test_dismissing_keeps_the_record_and_the_reason(desk):
    update = waiting_update()

    desk.post(
        f"/desk/contact-updates/{update.pk}/dismiss/", {"reason": "The patient confirmed the old number"}
    )

    update.refresh_from_db()
    assert (update.outcome, update.reason) == ("dismissed", "The patient confirmed the old number")
    assert Patient.objects.get(pk=update.patient_id).phone == "+15551234567"


@pytest.mark.django_db
def test_only_the_desk_takes_or_leaves_contact_details_and_only_by_post(client):
    update = waiting_update()
    accept, dismiss = (f"/desk/contact-updates/{update.pk}/{action}/" for action in ("accept", "dismiss"))

    refused = [client.get(accept), client.post(accept), client.post(dismiss)]
    client.force_login(make_user("desk_get", group="Front desk"))
    by_get = client.get(dismiss)

    assert all(r.status_code == 302 and "/desk/login/" in r["Location"] for r in refused)
    assert by_get.status_code == 405
    assert client.post(f"/desk/contact-updates/{uuid.uuid4()}/accept/").status_code == 404
    assert PendingContactUpdate.objects.get(pk=update.pk).is_pending


@pytest.mark.django_db
def test_accept_returns_only_to_a_page_of_this_site(desk):
    update = waiting_update()

    page = desk.get(f"/desk/contact-updates/{update.pk}/accept/", {"next": "https://evil.example/"})
    response = desk.post(f"/desk/contact-updates/{update.pk}/accept/", {"next": "https://evil.example/"})

    assert "evil.example" not in page.content.decode()
    assert response["Location"] == f"/desk/cases/{update.case_id}/"


@pytest.mark.django_db
def test_withdrawing_first_shows_exactly_what_happens_and_changes_nothing(desk):
    partner, _ = make_partner("Northside Clinic")
    case = make_referral(partner)

    page = desk.post(f"/desk/cases/{case.pk}/withdraw/", {"reason": "Patient moved away"}).content.decode()

    words = text_of(page)
    assert f"Withdraw case {case.reference}?" in words
    assert "withdrawn for good" in words and "it cannot be reopened, answered or decided" in words
    assert "Your reason below, your name and the time are written to the case's permanent timeline" in words
    assert "Northside Clinic, who referred it (their reference RF-1001" in words
    assert "is told the referral was withdrawn. They are not sent your reason." in words
    assert "Patient moved away" in words
    assert f"Withdraw case {case.reference} permanently" in words and "Cancel: keep the case" in words
    assert Case.objects.get(pk=case.pk).status != CaseStatus.WITHDRAWN


@pytest.mark.django_db
def test_the_confirmation_withdraws_with_the_reason_as_shown(desk):
    case = make_case()

    response = desk.post(
        f"/desk/cases/{case.pk}/withdraw/", {"reason": "Patient moved away", "confirmed": "True"}, follow=True
    )

    case.refresh_from_db()
    assert case.status == CaseStatus.WITHDRAWN
    assert case.events.order_by("id").last().note == "Patient moved away"
    assert f"Case {case.reference} was withdrawn." in response.content.decode()


@pytest.mark.django_db
def test_the_case_page_warns_that_withdrawing_is_confirmed_on_the_next_page(desk):
    case = make_case()

    page = text_of(desk.get(f"/desk/cases/{case.pk}/").content.decode())

    assert "The next page shows exactly what happens, and nothing changes until you confirm there." in page
