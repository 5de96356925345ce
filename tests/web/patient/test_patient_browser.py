"""The patient's follow-up link in Debian's chromium (Playwright) on a 390 px phone screen: a
knee patient whose baseline is on file opens the day-42 link, answers the pain scale and KOOS JR
one question per screen (part of it by keyboard alone), sees each answer saved, checks and sends
the form, and the scores come back with their responder status; the spent link is then refused
kindly. Without JavaScript the same link works one short page per instrument. Every page is
photographed at 390 and 1280 px (/tmp/notes/shots/patient-*.png)."""

from pathlib import Path

import pytest

from clinic.aftercare import follow_up
from clinic.aftercare.models import FormResponse, TimePoint
from tests.aftercare.factories import make_course, make_signed_treatment
from tests.support import committed_db, wait_for
from tests.web.desk.test_desk_browser import sign_in

pytestmark = [pytest.mark.browser, committed_db, pytest.mark.urls("tests.web.patient.urls")]
SHOTS = Path("/tmp/notes/shots")
PHONE = {"width": 390, "height": 844}
KOOS = [f"koos_jr_{n}" for n in range(1, 8)]


def shoot(page, name: str) -> None:
    """A full-page photograph at 390 and 1280 px; neither may scroll sideways. Left at 390 px."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 844 if width == 390 else 900})
        page.screenshot(path=str(SHOTS / f"patient-{name}-{width}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (name, width)


def accessible(page) -> None:
    """Every field has a label and every group of answers a legend; every visible answer, button
    and button-like link is at least 44 by 44 px (WCAG 2.5.8 asks 24, 2.5.5 44)."""
    unlabelled = page.evaluate(
        """[...document.querySelectorAll("input:not([type=hidden]), textarea, select")]
             .filter((field) => field.labels.length === 0).map((field) => field.name)"""
    )
    assert unlabelled == []
    assert page.evaluate("[...document.querySelectorAll('fieldset')].every((f) => f.querySelector('legend'))")
    for box in page.locator("label.option:visible, button:visible, a.button:visible").all():
        size = box.bounding_box()
        assert size["height"] >= 44 and size["width"] >= 44, (box.inner_text(), size)


def day_42_link() -> tuple[TimePoint, str]:
    """A treated knee course (protocol: pain_nrs and koos_jr on days 0, 42, ...) whose baseline the
    patient answered from its link (pain 7, every KOOS JR answer "Severe": 34.174), and the link
    of day 42."""
    baseline, token = baseline_link()
    course = baseline.course
    follow_up.save_answers(token=token, instrument="pain_nrs", answers={"pain_nrs": 7})
    follow_up.save_answers(token=token, instrument="koos_jr", answers=dict.fromkeys(KOOS, 3))
    follow_up.submit_form(token=token, unexpected=False)
    make_signed_treatment(course)
    course.refresh_from_db()
    day_42 = next(p for p in follow_up.schedule_follow_up(course) if p.day == 42)
    _, token = follow_up.issue_invitation(time_point_id=day_42.pk)
    return day_42, token


def baseline_link() -> tuple[TimePoint, str]:
    course = make_course()
    baseline = next(p for p in follow_up.schedule_follow_up(course) if p.day == 0)
    _, token = follow_up.issue_invitation(time_point_id=baseline.pk)
    return baseline, token


def current(page):
    return page.locator("fieldset.q:not(.is-off)")


def test_a_patient_answers_knee_follow_up_on_a_phone(page, live_server):
    point, token = day_42_link()
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/f/{token}")

    assert page.title() == "Your follow-up questions · Regenerative Medicine Clinic"
    assert page.locator("#progress-text").inner_text() == "Question 1 of 9"
    assert "6 weeks after your treatment" in page.locator(".when").inner_text()
    accessible(page)
    shoot(page, "pain")

    # The pain scale: the answer is saved the moment it is chosen.
    page.get_by_role("radio", name="3", exact=True).check()
    page.get_by_text("Saved: your answer to question 1.").wait_for()
    assert wait_for(lambda: FormResponse.objects.filter(time_point=point, answers={"pain_nrs": 3}).exists())
    page.get_by_role("button", name="Save and continue").click()

    # KOOS JR, one question per screen; "Next" without an answer says what to do.
    page.locator("#progress-text", has_text="Question 2 of 9").wait_for()
    assert current(page).count() == 1 and page.locator("fieldset.q").count() == 7
    assert "Stiffness is a sensation" in current(page).inner_text()
    page.get_by_role("button", name="Next").click()
    assert page.get_by_text("Choose an answer to go on.").is_visible()
    shoot(page, "koos-missing")
    for number in range(2, 9):
        question = current(page)
        if number == 4:
            # By keyboard alone: the focus is on the question; Tab to its answers, an arrow to
            # "Mild", Enter for the next question.
            assert page.evaluate("document.activeElement.id") == "q-4"
            page.keyboard.press("Tab")
            page.keyboard.press("ArrowDown")
            assert question.get_by_label("Mild").is_checked()
            shoot(page, "koos-keyboard")  # the focus ring on the chosen answer
        else:
            question.get_by_label("Mild").check()
        page.get_by_text(f"Saved: your answer to question {number}.").wait_for()
        assert page.locator("#progress-text").inner_text() == f"Question {number} of 9"
        if number == 5:
            accessible(page)
            shoot(page, "koos")
        if number == 4:
            page.keyboard.press("Enter")
        elif number < 8:
            page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Save and continue").click()

    # The last question: "yes" opens a text box.
    page.locator("#progress-text", has_text="Question 9 of 9").wait_for()
    assert current(page).get_by_text("Anything unexpected since your treatment?").is_visible()
    page.get_by_role("radio", name="Yes").check()
    assert page.get_by_label("If yes: what happened, and when?").is_visible()
    accessible(page)
    shoot(page, "unexpected")
    page.get_by_role("radio", name="No").check()
    assert not page.get_by_label("If yes: what happened, and when?").is_visible()
    page.get_by_role("button", name="Check my answers").click()

    # Check, then send.
    page.get_by_role("heading", name="Check your answers before sending").wait_for()
    assert page.locator("dd", has_text="Mild").count() == 7
    assert page.locator("dd", has_text="3 out of 10").count() == 1
    accessible(page)
    shoot(page, "confirm")
    page.get_by_role("button", name="Send my answers").click()
    page.get_by_role("heading", name="Thank you: your answers have been sent").wait_for()
    assert "/f/thank-you" in page.url and token not in page.url
    shoot(page, "done")

    # The scores and responder status, on the case page at the desk (a member of staff signs in).
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/desk/cases/{point.case_id}/")
    day_42 = page.locator("#time-point-42").inner_text()
    assert "by the patient, from the link" in day_42
    assert "Pain rating, 0 to 10: 3 (0 to 10) · 4 points better than the baseline · Responder" in day_42
    assert "KOOS, JR. (knee): 68.284 (0 to 100) · 34.1 points better than the baseline · Responder" in day_42
    assert page.get_by_role("img", name="KOOS, JR. (knee): score by day").is_visible()
    assert token not in page.content()  # the patient's link is never shown to staff
    assert TimePoint.objects.get(pk=point.pk).state == TimePoint.State.COMPLETED

    # The spent link: a kind page, not the form.
    response = page.goto(f"{live_server.url}/f/{token}")
    assert response.status == 410
    page.get_by_role("heading", name="These answers have already been sent").wait_for()
    shoot(page, "refused")


def test_without_javascript_each_instrument_is_one_short_page(page, live_server):
    point, token = baseline_link()
    context = page.context.browser.new_context(viewport=PHONE, java_script_enabled=False)
    phone = context.new_page()
    try:
        phone.goto(f"{live_server.url}/f/{token}")
        assert phone.locator("#progress-text").inner_text() == "Page 1 of 3: questions 1 to 1 of 9"
        phone.get_by_role("radio", name="2", exact=True).check()
        phone.get_by_role("button", name="Save and continue").click()

        phone.get_by_text("Page 2 of 3: questions 2 to 8 of 9").wait_for()
        assert phone.locator("fieldset.q:visible").count() == 7
        assert phone.get_by_text("Saved: your answers so far.").is_visible()
        for link_id in KOOS[:5]:
            phone.locator(f"input[name='koos_jr.{link_id}'][value='1']").check()
        phone.get_by_role("button", name="Save and continue").click()
        summary = phone.locator("#error-summary")
        assert "Question 7: Choose an answer to this question." in summary.inner_text()
        accessible(phone)
        shoot(phone, "nojs-errors")
        assert FormResponse.objects.get(time_point=point, instrument="koos_jr").answers == dict.fromkeys(
            KOOS[:5], 1
        )

        phone.get_by_role("link", name="Stop follow-up emails").click()
        phone.get_by_role("heading", name="Stop follow-up emails?").wait_for()
        shoot(phone, "opt-out")
        phone.get_by_role("button", name="Yes, stop follow-up emails").click()
        phone.get_by_role("heading", name="You will not get more follow-up emails").wait_for()
        shoot(phone, "opted-out")
        phone.get_by_role("link", name="go back to the questions").click()
        phone.get_by_text("Page 2 of 3: questions 2 to 8 of 9").wait_for()  # the link still works
        response = phone.goto(f"{live_server.url}/f/{token[:-2]}xy")
        assert response.status == 404
        shoot(phone, "not-valid")
    finally:
        context.close()
