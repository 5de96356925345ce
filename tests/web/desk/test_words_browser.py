"""The desk's searches, limits and confirmations in a real browser (Debian's chromium via
Playwright): a condition found by a whole phrase, a patient found without accents with their open
case, a note's live count, a required marker that appears with consent, the withdraw and contact
update confirmations; each page also at phone width, nothing running off the side."""

from datetime import date

import pytest

from intake.contacts import keep_contact_update
from intake.models import Case, CaseStatus, Patient
from intake.workflow import SYSTEM
from tests.factories import make_case, make_partner, make_patient, make_referral
from tests.support import committed_db
from tests.web.desk.test_desk_browser import sign_in

pytestmark = [pytest.mark.browser, committed_db]


def fits_a_phone(page) -> bool:
    page.set_viewport_size({"width": 390, "height": 844})
    fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.set_viewport_size({"width": 1280, "height": 900})
    return fits


def test_a_condition_is_found_by_a_whole_phrase_and_stored_as_its_code(page, live_server, screenshot):
    patient = make_patient(given_name="Ana", family_name="Silva")
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/desk/patients/{patient.pk}/intake/")

    box = page.get_by_label("Condition (ICD-10 code)")
    box.press_sequentially("osteoarthritis of right knee")

    assert box.input_value() == "osteoarthritis of right knee"  # typed in full, no 16-character cap
    option = page.get_by_role("option").filter(has_text="M17.11")
    option.first.wait_for()
    assert "Unilateral primary osteoarthritis, right knee" in option.first.inner_text()
    screenshot("desk-code-search")
    option.first.click()
    assert box.input_value() == "M17.11"
    page.locator("#condition-match").get_by_text(
        "M17.11 Unilateral primary osteoarthritis, right knee"
    ).wait_for()
    assert (
        page.get_by_role("listbox").count() == 0
        or not page.locator("#id_condition_code_options").is_visible()
    )

    # the keyboard picks a code too, in an additional condition's box
    other = page.get_by_label("Additional condition 1 (ICD-10 code)")
    other.press_sequentially("osteoarthritis of left knee")
    page.locator("#id_condition_1_code_options").get_by_role("option").first.wait_for()
    other.press("ArrowDown")
    other.press("Enter")
    assert other.input_value().startswith("M17.")
    assert fits_a_phone(page)


def test_a_name_typed_without_accents_finds_the_patient_and_their_open_case(page, live_server, screenshot):
    patient = make_patient(given_name="Thị Hồng", family_name="Nguyễn", birth_date=date(1970, 5, 6))
    case = make_case(patient=patient)
    sign_in(page, live_server)

    page.get_by_role("link", name="Find a patient").click()
    page.get_by_label("Find a patient or a case").fill("Nguyen")
    page.get_by_role("button", name="Search").click()

    result = page.locator("li.patient").filter(has_text="Nguyễn, Thị Hồng")
    result.wait_for()
    assert "Open case:" in result.inner_text()
    screenshot("desk-patient-search")
    assert fits_a_phone(page)
    result.get_by_role("link", name=case.reference).click()
    page.get_by_role("heading", name="Nguyễn, Thị Hồng").wait_for()


def test_a_long_note_is_counted_live_never_cut_and_consent_marks_its_version_required(page, live_server):
    patient = make_patient()
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/desk/patients/{patient.pk}/intake/")

    notes = page.get_by_label("Notes")
    notes.fill("A knee 🦵 that hurts")
    counter = page.locator("#id_notes_counter")
    shown, said = counter.locator('[aria-hidden="true"]'), counter.locator("[aria-live]")
    assert shown.inner_text() == "19 of 5,000 characters"  # an emoji counts one, as the server counts
    notes.fill("n" * 5001)
    assert shown.inner_text() == "1 character over the limit of 5,000: shorten the text."
    assert said.inner_text() == "Over the limit of 5,000 characters."  # told once, to a screen reader
    assert len(notes.input_value()) == 5001  # nothing cut

    star = page.locator("#field-consent_form_version [data-required-when]")
    assert not star.is_visible()
    page.get_by_role("group", name="Consent obtained").get_by_label("Yes").check()
    assert star.is_visible()
    page.get_by_role("group", name="Consent obtained").get_by_label("No").check()
    assert not star.is_visible()


def test_withdrawing_shows_what_happens_before_it_happens(page, live_server, screenshot):
    partner, _ = make_partner("Northside Clinic")
    case = make_referral(partner)
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/desk/cases/{case.pk}/")

    page.get_by_label("Reason for withdrawing").fill("Patient moved away\nto another city")
    page.get_by_role("button", name="Withdraw…").click()

    page.get_by_role("heading", name=f"Withdraw case {case.reference}?").wait_for()
    assert "Northside Clinic, who referred it" in page.content()
    assert Case.objects.get(pk=case.pk).status != CaseStatus.WITHDRAWN
    screenshot("desk-withdraw-confirm")
    assert fits_a_phone(page)
    page.get_by_role("button", name=f"Withdraw case {case.reference} permanently").click()
    page.get_by_text(f"Case {case.reference} was withdrawn.").wait_for()
    case.refresh_from_db()
    assert case.status == CaseStatus.WITHDRAWN
    assert case.events.order_by("id").last().note == "Patient moved away\nto another city"


def test_new_contact_details_are_accepted_after_a_confirmation(page, live_server, screenshot):
    partner, _ = make_partner("Northside Clinic")
    case = make_referral(partner)
    keep_contact_update(
        patient=case.patient, case=case, partner=partner, phone="+15559876543", email="", actor=SYSTEM
    )
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/desk/cases/{case.pk}/")

    section = page.locator("#contact-updates")
    assert "+15559876543" in section.inner_text()
    screenshot("desk-contact-update")
    assert fits_a_phone(page)
    section.get_by_role("link", name="Accept…").click()
    page.get_by_role("heading", name="Accept the new contact details?").wait_for()
    assert Patient.objects.get(pk=case.patient_id).phone == "+15551234567"
    page.get_by_role("button", name="Accept and update the patient record").click()
    page.get_by_text("has the new contact details").wait_for()
    assert page.url.endswith(f"/desk/cases/{case.pk}/")
    assert Patient.objects.get(pk=case.patient_id).phone == "+15559876543"
