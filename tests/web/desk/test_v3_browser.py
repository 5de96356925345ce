"""Rule set v3 on the desk and the review page, in a real browser (both widths)."""

import json
from pathlib import Path

import pytest

from intake.models import Case
from recommendations import review
from recommendations.protocols import import_protocols
from recommendations.services import make_draft
from tests.factories import make_case, make_patient, make_user
from tests.support import committed_db
from tests.web.desk.test_v3_pages import (
    DEMO,
    NO,
    a_child,
)


def sign_in(page, live_server, username="desk_v3b", group="Front desk", path="/desk/") -> None:
    make_user(username, group=group, is_staff=group == "Specialists")
    page.goto(f"{live_server.url}{path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw-for-tests-1")
    page.get_by_role("button", name="Sign in" if group == "Front desk" else "Log in").click()


def both_widths(page, screenshot, name: str) -> list[Path]:
    shots = [screenshot(f"{name}-1280")]
    page.set_viewport_size({"width": 390, "height": 844})
    shots.append(screenshot(f"{name}-390"))
    width = page.evaluate("document.documentElement.scrollWidth")
    page.set_viewport_size({"width": 1280, "height": 900})
    assert width <= 390, f"{name} scrolls sideways at 390 px ({width} px wide)"
    return shots


@pytest.mark.browser
@committed_db
def test_the_desk_enters_a_minors_v3_intake_and_sees_it_on_the_case_page(page, live_server, screenshot):
    child = a_child()
    sign_in(page, live_server)
    page.get_by_role("heading", name="Cases").wait_for()
    page.goto(f"{live_server.url}/desk/patients/{child.pk}/intake/")

    page.get_by_label("Condition (ICD-10 code)").fill("M17.11")
    page.locator("#condition-match").get_by_text(
        "M17.11 Unilateral primary osteoarthritis, right knee"
    ).wait_for()
    page.get_by_label("Right knee").check()
    # another condition, with the same code search as the main one
    page.get_by_label("Additional condition 1 (ICD-10 code)").fill("m17.12")
    page.locator("#condition-match-1").get_by_text(
        "M17.12 Unilateral primary osteoarthritis, left knee"
    ).wait_for()
    assert page.get_by_label("Additional condition 2 (ICD-10 code)").is_hidden()
    page.get_by_role("button", name="Add another condition").click()
    assert page.get_by_label("Additional condition 2 (ICD-10 code)").is_visible()
    page.get_by_label("Kellgren–Lawrence grade").fill("2")
    page.get_by_label("Months of conservative care tried").fill("6")
    page.get_by_label("Pain, numeric rating scale").fill("7")
    for question in NO:
        page.get_by_role("group", name=question, exact=True).get_by_label("No").check()
    page.get_by_role("group", name="Consent obtained").get_by_label("Yes").check()
    page.get_by_role("group", name="Consent given by").get_by_label("A parent or guardian").check()
    page.get_by_label("Consent form version").fill("2026-01")
    page.get_by_role("group", name="The minor's own agreement (assent)").get_by_label("Yes").check()
    shots = both_widths(page, screenshot, "desk-v3-intake-form")

    page.get_by_role("button", name="Send for review").click()
    page.get_by_role("heading", name="Child, Lia").wait_for()

    intake = page.locator("section", has=page.get_by_role("heading", name="Intake")).inner_text()
    assert "Kellgren–Lawrence grade: 2" in intake
    assert "Months of conservative care tried: 6 months" in intake
    assert "Pain, numeric rating scale: 7 points" in intake
    assert "M17.12 Unilateral primary osteoarthritis, left knee" in intake
    assert "Obtained, given by a parent or guardian" in intake
    assert "The minor agreed" in intake and "Not asked" in intake
    shots += both_widths(page, screenshot, "desk-v3-case-page")
    print("\n".join(map(str, shots)))


@pytest.mark.browser
@committed_db
def test_a_bad_finding_shows_its_error_at_the_field(page, live_server, screenshot):
    patient = make_patient(given_name="Bo", family_name="Finding")
    sign_in(page, live_server)
    page.get_by_role("heading", name="Cases").wait_for()
    page.goto(f"{live_server.url}/desk/patients/{patient.pk}/intake/")
    page.get_by_label("Condition (ICD-10 code)").fill("M17.11")
    page.get_by_label("Right knee").check()
    page.get_by_label("Kellgren–Lawrence grade").fill("7")
    page.get_by_role("button", name="Send for review").click()

    summary = page.locator("#error-summary")
    summary.wait_for()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    field = page.locator("#field-finding_kl_grade")
    assert "7 is outside the range; give a value from 0 to 4." in field.inner_text()
    summary.get_by_role("link", name="Kellgren–Lawrence grade: 7 is outside the range").click()
    assert page.evaluate("document.activeElement.name") == "finding_kl_grade"
    assert page.get_by_label("Kellgren–Lawrence grade").input_value() == "7"  # kept as typed
    print("\n".join(map(str, both_widths(page, screenshot, "desk-v3-finding-error"))))
    assert not Case.objects.exists()


@pytest.mark.browser
@committed_db
def test_the_specialist_sees_the_protocol_findings_and_needs(page, live_server, screenshot, settings):
    settings.RULESET_LIVE = "v3"
    import_protocols(data=json.loads(DEMO.read_text()))
    case = make_case(
        patient=make_patient(given_name="Eva", family_name="Protocol"),
        consent_by="patient",
        findings={"pain_nrs": 6},
        additional_conditions=[{"icd10": "M17.12", "description": "other knee"}],
    )
    make_draft(case_id=case.pk)

    sign_in(
        page, live_server, "dr_v3b", "Specialists", f"/admin/recommendations/reviewcase/{case.pk}/change/"
    )
    page.locator("#draft-protocol").wait_for()
    assert "knee-oa-bmac version 1" in page.locator("#draft-protocol").inner_text()
    needs = page.locator("#draft-needs").inner_text()
    assert "Kellgren–Lawrence grade, months of conservative care tried" in needs
    assert "6 points" in page.locator("#findings").inner_text()
    print("\n".join(map(str, both_widths(page, screenshot, "review-v3-page"))))


@pytest.mark.browser
@committed_db
def test_the_desk_answers_with_a_finding_and_a_guardians_consent(page, live_server, screenshot):
    case = make_case(patient=a_child(), consent_obtained=False)
    make_draft(case_id=case.pk)
    review.request_information(
        case_id=case.pk, user=make_user(group="Specialists"), question="KL grade and guardian consent?"
    )
    sign_in(page, live_server)
    page.get_by_role("heading", name="Cases").wait_for()
    page.goto(f"{live_server.url}/desk/cases/{case.pk}/")

    page.locator("summary", has_text="Add or correct findings").click()
    page.get_by_label("Kellgren–Lawrence grade").fill("2")
    page.locator("summary", has_text="Record consent, assent or breastfeeding").click()
    page.get_by_label("Consent has now been given").check()
    page.get_by_role("group", name="Consent given by").get_by_label("A parent or guardian").check()
    page.get_by_label("Consent form version").fill("2026-02")
    page.get_by_label("Your answer").fill("Mother signed today; KL grade 2 on the January films.")
    shots = both_widths(page, screenshot, "desk-v3-answer-form")
    page.get_by_role("button", name="Send the answer").click()

    page.get_by_text("Answer sent; the case is being drafted again.").wait_for()
    intake = page.locator("section", has=page.get_by_role("heading", name="Intake")).inner_text()
    assert "Kellgren–Lawrence grade: 2" in intake and "given by a parent or guardian" in intake
    print("\n".join(map(str, shots)))
