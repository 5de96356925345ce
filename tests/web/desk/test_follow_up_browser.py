"""The desk's follow-up in Debian's chromium (Playwright): a knee patient with no email address is on
the follow-up call list from the start; the desk records the baseline from a phone call (a question
missed first), later day 42 at the desk from the case page, and day 91 as unreachable; the case page
then shows each time point in words and the charts. Every page is photographed at 1280 and 390 px
(/tmp/notes/shots/desk-follow-up-*.png)."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from clinic.aftercare.models import TimePoint
from tests.aftercare.factories import make_course, make_signed_treatment
from tests.factories import make_patient
from tests.support import committed_db
from tests.web.desk.test_desk_browser import sign_in

pytestmark = [pytest.mark.browser, committed_db]
SHOTS = Path("/tmp/notes/shots")
KOOS_QUESTIONS = [
    "How severe is your knee stiffness",
    "Twisting/pivoting on your knee",
    "Straightening knee fully",
    "Going up or down stairs",
    "Standing upright",
    "Rising from sitting",
    "Bending to floor/pick up an object",
]


@pytest.fixture
def shoot(page):
    """A full-page photograph at 1280 and 390 px; neither may scroll sideways. Left at 1280 px."""
    SHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> None:
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=str(SHOTS / f"desk-follow-up-{name}-{width}.png"), full_page=True)
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (name, width)
        page.set_viewport_size({"width": 1280, "height": 900})

    return take


def answer(page, *, pain: str, koos: str, skip: str | None = None) -> None:
    page.get_by_role("group", name="how much pain").get_by_label(pain, exact=True).check()
    for question in KOOS_QUESTIONS:
        if question != skip:
            page.get_by_role("group", name=question).get_by_label(koos).check()


def due_today(course, day: int) -> None:
    TimePoint.objects.filter(course=course, day=day).update(due_on=timezone.localdate())


def test_the_desk_follows_a_patient_up_by_phone_and_at_the_desk(page, live_server, shoot):
    course = make_course(patient=make_patient(given_name="Rosa", family_name="Mendes", phone="+1 555 0142"))
    TimePoint.objects.filter(course=course, day=0).update(due_on=timezone.localdate() - timedelta(days=2))
    sign_in(page, live_server)
    assert page.locator("#nav-follow-up-calls").inner_text() == "Follow-up calls: 1"
    shoot("board")

    # The call list: who, the phone, the time point, why.
    page.locator("#nav-follow-up-calls").click()
    page.get_by_role("heading", name="Follow-up calls").wait_for()
    call = page.locator("ol.calls > li")
    assert call.count() == 1
    assert "No email address on file" in call.inner_text() and "+1 555 0142" in call.inner_text()
    assert "2 days ago" in call.inner_text()
    shoot("calls")

    # The baseline by phone: one question missed is named on its question.
    call.get_by_role("link", name="Record the answers").click()
    page.get_by_role("heading", name="Record the answers: baseline").wait_for()
    assert page.get_by_label("By phone: read to the patient").is_checked()  # opened from the call list
    shoot("answer")
    answer(page, pain="7", koos="Severe", skip="Standing upright")
    page.get_by_role("button", name="Record the answers").click()
    summary = page.locator("#error-summary")
    summary.wait_for()
    assert "Standing upright: Choose an answer to this question." in summary.inner_text()
    shoot("answer-errors")
    page.get_by_role("group", name="Standing upright").get_by_label("Severe").check()
    page.get_by_role("button", name="Record the answers").click()
    page.get_by_text("Baseline recorded (by phone).").wait_for()
    assert "Nobody to call" in page.locator("main").inner_text()
    assert page.locator("#nav-follow-up-calls").inner_text() == "Follow-up calls: 0"
    shoot("calls-empty")

    # Treated; day 42 is due and answered at the desk from the case page.
    make_signed_treatment(course)
    due_today(course, 42)
    page.goto(f"{live_server.url}/desk/cases/{course.case_id}/")
    page.locator("#time-point-42").get_by_role("link", name="Record the answers").click()
    page.get_by_label("At the desk: the patient answered here").check()
    answer(page, pain="3", koos="Mild")
    page.get_by_role("button", name="Record the answers").click()
    page.get_by_text("Day 42 recorded (at the desk).").wait_for()

    # Day 91: could not be reached; the page says what follows and asks what was tried.
    due_today(course, 91)
    page.reload()
    page.locator("#time-point-91").get_by_role("link", name="Unreachable…").click()
    page.get_by_role("heading", name="Record that the patient could not be reached?").wait_for()
    assert "The follow-up goes on: day 182, day 365 still to come." in page.locator("main").inner_text()
    page.get_by_role("button", name="Record as unreachable").click()
    assert "Say what was tried" in page.locator("#error-summary").inner_text()
    shoot("unreachable")
    page.get_by_label("What was tried").fill("Called 3 times over a week; no answer, voicemail left.")
    page.get_by_role("button", name="Record as unreachable").click()
    page.get_by_text("Day 91 recorded as unreachable.").wait_for()

    # The case page: each time point in words, the scores with responder status, the charts.
    day_42 = page.locator("#time-point-42").inner_text()
    assert "at the desk" in day_42
    assert "Pain rating, 0 to 10: 3 (0 to 10) · 4 points better than the baseline · Responder" in day_42
    assert "KOOS, JR. (knee): 68.284 (0 to 100) · 34.1 points better than the baseline · Responder" in day_42
    assert "Unreachable (desk_rita" in page.locator("#time-point-91").inner_text()
    chart = page.get_by_role("img", name="Pain rating, 0 to 10: score by day")
    assert chart.is_visible()
    description = page.locator("#chart-pain_nrs-desc").text_content()
    assert "Baseline: 7, baseline. Day 42: 3, 4 points better than the baseline, responder." in description
    assert "Day 91: not answered (unreachable)." in description
    page.locator("#chart-koos_jr summary").click()
    row = page.locator("#chart-koos_jr table").get_by_role("row", name=re.compile("Day 42"))
    assert row.locator("td").all_inner_texts() == [
        "68.284",
        "34.1 points better than the baseline",
        "responder",
    ]
    shoot("case")
    for width in (1280, 390):  # the follow-up alone, close up
        page.set_viewport_size({"width": width, "height": 900})
        page.locator("#follow-up").screenshot(path=str(SHOTS / f"desk-follow-up-case-section-{width}.png"))
