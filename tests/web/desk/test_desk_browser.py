"""The front desk in a real browser (Debian's chromium via Playwright) with a real worker."""

import pytest

from intake.models import Case, Patient
from tests.factories import make_patient, make_user
from tests.support import committed_db

pytestmark = [pytest.mark.browser, pytest.mark.worker, committed_db]

NO = [
    "Active malignancy",
    "Active infection",
    "Pregnant",
    "Anticoagulant therapy",
    "Bleeding disorder",
    "Immunosuppressed",
]


def sign_in(page, live_server) -> None:
    make_user("desk_rita", group="Front desk")
    page.goto(f"{live_server.url}/desk/")
    assert "/desk/login/" in page.url
    page.get_by_label("Username").fill("desk_rita")
    page.get_by_label("Password").fill("pw-for-tests-1")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Cases").wait_for()


def register(page, live_server, *, given: str = "Ana", family: str = "Silva") -> None:
    page.goto(f"{live_server.url}/desk/patients/new/")
    page.get_by_label("Given name").fill(given)
    page.get_by_label("Family name").fill(family)
    page.get_by_label("Birth date").fill("1961-04-02")
    page.get_by_label("Female").check()
    page.get_by_label("Phone").fill("+15551234567")


def answer_intake(page) -> None:
    page.get_by_label("Condition (ICD-10 code)").fill("m17.11")
    # the code-set search names the exact code with its official descriptor and the clinic's category
    page.locator("#condition-match").get_by_text(
        "M17.11 Unilateral primary osteoarthritis, right knee (localized)"
    ).wait_for()
    page.get_by_label("Right knee").check()
    for question in NO:
        page.get_by_role("group", name=question, exact=True).get_by_label("No").check()
    page.get_by_role("group", name="Consent obtained").get_by_label("Yes").check()
    page.get_by_role("group", name="Consent given by").get_by_label("The patient").check()
    page.get_by_label("Consent form version").fill("2026-01")


def test_a_newcomer_takes_a_patient_from_arrival_to_awaiting_review(
    page, live_server, celery_worker_process, screenshot
):
    sign_in(page, live_server)

    # registers a new patient
    page.get_by_role("link", name="New intake").first.click()
    page.get_by_role("link", name="Register a new patient").click()
    register(page, live_server)
    page.get_by_role("button", name="Register and continue").click()
    page.get_by_role("heading", name="Intake for Silva, Ana").wait_for()

    # completes the intake
    answer_intake(page)
    screenshot("desk-intake-form")
    page.get_by_role("button", name="Send for review").click()
    page.get_by_role("heading", name="Silva, Ana").wait_for()

    # and watches the board until the worker has drafted it
    page.goto(f"{live_server.url}/desk/")
    awaiting = page.locator(".group-awaiting_review .card")
    awaiting.first.wait_for(timeout=30_000)  # the board refreshes itself, no reload
    assert "Silva, Ana" in awaiting.first.inner_text()
    screenshot("desk-board")
    awaiting.first.get_by_role("link").click()
    page.locator('[aria-current="step"]', has_text="Waiting for a specialist").wait_for()
    screenshot("desk-case-page")
    assert Case.objects.get().status == "awaiting_review"

    # readable at phone width: nothing runs off the side of the screen
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot("desk-case-page-phone")


def test_the_duplicate_warning_appears_for_a_second_entry_of_the_same_person(page, live_server, screenshot):
    existing = make_patient(given_name="Ana", family_name="Silva", birth_date="1961-04-02")
    sign_in(page, live_server)
    page.keyboard.press("Tab")  # keyboard users land on the skip link first
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"

    register(page, live_server, given="Anna")
    page.get_by_role("button", name="Register and continue").click()

    warning = page.get_by_role("alert").filter(has_text="This may be a patient we already have")
    warning.wait_for()
    assert "same birth date and a similar name" in warning.inner_text()
    screenshot("desk-duplicate-warning")
    warning.get_by_role("link", name="Use this record").click()
    page.get_by_role("heading", name="Intake for Silva, Ana").wait_for()
    assert Patient.objects.count() == 1 and existing.pk


def test_a_double_submit_and_the_back_button_make_one_case(page, live_server):
    patient = make_patient(given_name="Bo", family_name="Double")
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/desk/patients/{patient.pk}/intake/")
    answer_intake(page)

    page.get_by_role("button", name="Send for review").dblclick()
    page.get_by_role("heading", name="Double, Bo").wait_for()
    page.go_back()
    page.get_by_role("button", name="Send for review").click()
    page.get_by_role("heading", name="Double, Bo").wait_for()

    assert Case.objects.filter(patient=patient).count() == 1
