"""A specialist works the queue in a real browser (Debian's chromium via Playwright)."""

import pytest

from intake.models import Case
from recommendations.models import Decision
from recommendations.services import make_draft
from tests.factories import make_case, make_patient, make_user
from tests.support import committed_db

pytestmark = [pytest.mark.browser, committed_db]


def sign_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw-for-tests-1")
    page.get_by_role("button", name="Log in").click()


def test_a_specialist_amends_a_draft_and_sees_the_decision_recorded(
    page, live_server, screenshot, knee_infusion_protocol
):
    # Given a knee case in the queue, a specialist, and a protocol that covers an infusion for it
    make_user("dr_silva", group="Specialists", is_staff=True)
    case = make_case(patient=make_patient(family_name="Queuepatient"), anticoagulant_therapy=True)
    make_draft(case_id=case.pk)

    # When she signs in, opens the queue and the case
    sign_in(page, live_server, "dr_silva")
    page.goto(f"{live_server.url}/admin/recommendations/reviewcase/")
    screenshot("review-queue")
    page.get_by_role("link", name="Queuepatient, Ana", exact=False).click()
    assert page.locator("#draft-route").inner_text() == "Local injection"
    assert page.get_by_text("FLAG-BLEEDING-RISK").is_visible()
    screenshot("review-page")

    # and amends the draft with a reason
    page.get_by_label("Final route").select_option("intravenous")
    page.get_by_label("Reason for amending").fill("Bleeding risk on anticoagulants; infuse instead.")
    page.get_by_role("button", name="Amend").click()
    page.get_by_role("button", name="Sign the decision").click()  # after checking what it signs

    # Then the decision is recorded and shown, with no way to act again
    page.get_by_text("Decision recorded: amended.").wait_for()
    decision_box = page.locator("#decision").inner_text()
    assert "Intravenous infusion" in decision_box and "Dr. Dr_Silva, MD" in decision_box  # signed
    assert page.locator("#actions").count() == 0
    screenshot("review-decided")
    decision = Decision.objects.get(case=case)
    assert (decision.route, decision.outcome) == ("intravenous", "amended")
    assert Case.objects.get(pk=case.pk).status == "decided"


def test_a_front_desk_user_is_refused(page, live_server):
    make_user("desk_anna", group="Front desk")
    case = make_case()
    make_draft(case_id=case.pk)

    sign_in(page, live_server, "desk_anna")
    assert page.get_by_text("Please enter the correct username and password for a staff account").is_visible()

    page.goto(f"{live_server.url}/admin/recommendations/reviewcase/{case.pk}/change/")
    assert "/admin/login/" in page.url
    assert not Decision.objects.exists()
