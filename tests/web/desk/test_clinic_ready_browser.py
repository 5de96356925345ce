"""The pages as a clinic meets them in its first week, in Debian's chromium (Playwright):
a signed decision, a board that tells at a glance and keeps itself current, long text,
claims between two specialists, the back button, and where the focus goes on an error."""

import time

import pytest

from intake.models import Case
from recommendations import review
from recommendations.models import Decision
from recommendations.services import make_draft
from tests.factories import make_case, make_patient, make_user
from tests.support import committed_db
from tests.web.desk.test_desk_browser import answer_intake, sign_in

pytestmark = [pytest.mark.browser, committed_db]
LONG = "x" * 5000  # 5,000 characters without a space


def signed_specialist(username: str, full_name: str):
    user = make_user(username, group="Specialists", is_staff=True, signs=False)
    review.set_signature(user=user, full_name=full_name, credentials="MD")
    return user


def decided_case(family_name: str, **fields) -> Case:
    case = make_case(patient=make_patient(family_name=family_name), **fields)
    make_draft(case_id=case.pk)
    review.approve_draft(
        case_id=case.pk, user=signed_specialist(f"dr_{family_name.lower()}", "Dr. Maria Okafor")
    )
    return Case.objects.get(pk=case.pk)


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_the_decision_is_signed_on_the_case_page_and_the_print(page, live_server, screenshot):
    case = decided_case("Signed")
    sign_in(page, live_server)

    page.goto(f"{live_server.url}/desk/cases/{case.pk}/")
    assert page.locator("#signature").inner_text() == "Dr. Maria Okafor, MD"
    assert case.reference in page.locator("h1").inner_text()
    screenshot("desk-case-page-decided")

    page.get_by_role("link", name="Print the decision").click()
    assert page.locator(".signature-block #signature").inner_text() == "Dr. Maria Okafor, MD"
    assert "Regenerative Medicine Clinic" in page.locator(".letterhead").inner_text()
    assert "Unilateral primary osteoarthritis, right knee" in page.content()
    screenshot("desk-print")
    for size in ({"width": 794, "height": 1123}, {"width": 816, "height": 1056}):  # A4, US Letter at 96 dpi
        page.set_viewport_size(size)
        assert no_sideways_scroll(page)


def test_the_board_shows_urgent_first_and_the_outcome_and_route_of_decided_cases(
    page, live_server, screenshot
):
    make_case(patient=make_patient(family_name="Routinecase"))
    make_case(patient=make_patient(family_name="Urgentcase"), priority=1)
    decided_case("Decidedcase")
    sign_in(page, live_server)

    cards = page.locator(".group-in_progress .card")
    assert "Urgent" in cards.nth(0).inner_text() and "Urgentcase" in cards.nth(0).inner_text()
    assert "Routinecase" in cards.nth(1).inner_text()
    closed = page.locator(".group-closed .card").first.inner_text()
    assert "Approved as drafted: Local injection" in closed
    screenshot("desk-board-at-a-glance")


def test_the_board_shows_a_case_created_elsewhere_within_5_seconds_without_a_reload(page, live_server):
    sign_in(page, live_server)
    page.evaluate("window.notReloaded = true")

    # Another desk sends an intake while this board is open
    make_case(patient=make_patient(family_name="Newcomer"))
    started = time.monotonic()

    page.locator(".card", has_text="Newcomer").wait_for(timeout=5_000)
    print(f"new case on the board after {time.monotonic() - started:.1f} s")
    assert page.evaluate("window.notReloaded") is True  # the board redrew itself, the page did not reload


def test_5000_characters_without_a_space_do_not_widen_any_page(page, live_server, screenshot):
    case = make_case(patient=make_patient(family_name="Longnotes"), notes=LONG, goals=LONG)
    make_draft(case_id=case.pk)
    sign_in(page, live_server)

    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server.url}/desk/cases/{case.pk}/")
        assert no_sideways_scroll(page), width
        height = page.evaluate("document.documentElement.scrollHeight")
        assert height < 3000, f"long notes push the page to {height}px at {width}px"
        page.goto(f"{live_server.url}/desk/")
        assert no_sideways_scroll(page), width
    page.goto(f"{live_server.url}/desk/cases/{case.pk}/")
    page.get_by_text("Show more").first.click()  # the whole note is one click away
    screenshot("desk-case-page-long-notes-phone")


def test_a_claim_holds_between_two_specialists_in_two_browsers(page, live_server, screenshot):
    case = make_case(patient=make_patient(family_name="Claimed"))
    make_draft(case_id=case.pk)
    signed_specialist("dr_first", "Dr. Ana First")
    signed_specialist("dr_second", "Dr. Ben Second")
    url = f"{live_server.url}/admin/recommendations/reviewcase/{case.pk}/change/"

    def admin_sign_in(tab, username):
        tab.goto(f"{live_server.url}/admin/login/")
        tab.get_by_label("Username").fill(username)
        tab.get_by_label("Password").fill("pw-for-tests-1")
        tab.get_by_role("button", name="Log in").click()

    # The first specialist claims the case in her browser
    admin_sign_in(page, "dr_first")
    page.goto(url)
    page.get_by_role("button", name="Claim").click()
    page.get_by_text("You are reviewing this case.").wait_for()

    # The second, in another browser, sees who holds it and cannot decide it
    other = page.context.browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    admin_sign_in(other, "dr_second")
    other.goto(url)
    assert "Dr. Ana First" in other.locator("#claimed-by").inner_text()
    other.get_by_role("button", name="Approve the draft").click()
    other.locator(".messagelist").get_by_text("Dr. Ana First claimed this case").wait_for()
    screenshot("review-page")
    assert not Decision.objects.exists()

    # The holder decides; the decision is signed with her name
    page.goto(url)
    page.get_by_role("button", name="Approve the draft").click()
    page.get_by_role("button", name="Sign the decision").click()  # after checking what it signs
    page.get_by_text("Draft approved.").wait_for()
    assert Decision.objects.get().signature == "Dr. Ana First, MD"
    other.context.close()


def test_back_and_resubmit_after_send_for_review_lands_on_the_case(page, live_server):
    patient = make_patient(given_name="Bo", family_name="Backbutton")
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/desk/patients/{patient.pk}/intake/")
    answer_intake(page)
    page.get_by_role("button", name="Send for review").click()
    page.get_by_role("heading", name="Backbutton, Bo").wait_for()

    # Chromium draws the form afresh on the way back: a new one-time key, and the condition code
    # (autocomplete off) is not restored
    page.go_back()
    assert page.get_by_label("Condition (ICD-10 code)").input_value() == ""
    page.get_by_role("button", name="Send for review").click()

    page.get_by_role("heading", name="Backbutton, Bo").wait_for()
    assert "This field is required" not in page.content()
    assert Case.objects.filter(patient=patient).count() == 1


def test_after_a_failed_submit_the_focus_is_on_a_summary_that_links_to_each_field(
    page, live_server, screenshot
):
    patient = make_patient(given_name="Eve", family_name="Errors")
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/desk/patients/{patient.pk}/intake/")
    page.get_by_label("Condition (ICD-10 code)").fill("M17.19")  # a code that does not exist

    page.get_by_role("button", name="Send for review").click()

    summary = page.locator("#error-summary")
    summary.wait_for()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert "not a code in ICD-10-CM" in summary.inner_text()
    screenshot("desk-error-summary")
    summary.get_by_role("link", name="Condition (ICD-10 code)", exact=False).click()
    assert page.evaluate("document.activeElement.id") == "id_condition_code"


def test_on_a_phone_the_work_comes_before_the_empty_groups(page, live_server, screenshot):
    make_case(patient=make_patient(family_name="Onlyone"))
    sign_in(page, live_server)
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()

    work_top = page.locator(".group-in_progress").bounding_box()["y"]
    empty_tops = [box["y"] for box in (g.bounding_box() for g in page.locator(".group.is-empty").all())]
    assert all(work_top < top for top in empty_tops)
    assert work_top < 844, "the only group with work must be above the fold"
    screenshot("desk-board-phone")
