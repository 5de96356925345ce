"""The desk's course moves after treatment (issue #25, item 1): starting the follow-up of a treated
course, and recording a patient lost to it, each from a confirmation page that says what follows;
the one that cannot be undone says so and asks why. A move the course cannot make changes nothing."""

from pathlib import Path

import pytest

from clinic.aftercare.models import TreatmentCourse
from tests.aftercare.factories import make_course, make_signed_treatment
from tests.support import committed_db
from tests.web.desk.test_desk_browser import sign_in

SHOTS = Path("/tmp/notes/shots")


def page(response) -> str:
    return response.content.decode()


def state_of(course) -> str:
    return TreatmentCourse.objects.get(pk=course.pk).state


@pytest.mark.django_db
def test_a_treated_course_starts_its_follow_up_from_a_confirmation_page(desk):
    course = make_course()
    make_signed_treatment(course)
    case_page = page(desk.get(f"/desk/cases/{course.case_id}/"))
    assert f'href="/desk/cases/{course.case_id}/course/follow-up/">Start follow-up…' in case_page
    assert "Lost to follow-up…" not in case_page

    confirm = page(desk.get(f"/desk/cases/{course.case_id}/course/follow-up/"))
    assert "It does not go back to treated." in confirm and "lost to follow-up" in confirm
    assert state_of(course) == "treated"  # reading the page changes nothing

    done = desk.post(f"/desk/cases/{course.case_id}/course/follow-up/", {}, follow=True)

    assert state_of(course) == "following_up"
    assert "The treatment course is now following up." in page(done)
    assert 'id="course-state">Following up<' in page(done)
    assert "Treatment course: Following up" in page(done)  # the timeline
    assert "Start follow-up…" not in page(done)
    assert "Lost to follow-up…" in page(done) and "Complete the course…" in page(done)


@pytest.mark.django_db
def test_a_patient_lost_to_follow_up_is_recorded_for_good_with_the_reason(desk):
    course = make_course()
    make_signed_treatment(course)
    desk.post(f"/desk/cases/{course.case_id}/course/follow-up/", {})
    url = f"/desk/cases/{course.case_id}/course/lost/"
    confirm = page(desk.get(url))
    assert "this cannot be undone" in confirm and "It cannot be completed afterwards" in confirm

    refused = desk.post(url, {"reason": "   "})
    assert refused.status_code == 400
    assert "Say why the patient is lost to follow-up" in page(refused)
    assert 'href="#field-reason"' in page(refused)
    assert state_of(course) == "following_up"

    done = desk.post(url, {"reason": "Three calls and a letter unanswered."}, follow=True)

    course.refresh_from_db()
    assert (course.state, course.close_reason) == (
        "lost_to_follow_up",
        "Three calls and a letter unanswered.",
    )
    assert course.closed_at is not None
    text = page(done)
    assert "The treatment course is now lost to follow-up." in text
    assert "Lost to follow-up: Three calls and a letter unanswered." in text  # the timeline
    assert "Complete the course…" not in text and "Enter a treatment record" not in text
    again = desk.get(url, follow=True)
    assert "it cannot be recorded as lost to follow-up now" in page(again)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("follow-up/", "it cannot start its follow-up now"),
        ("lost/", "it cannot be recorded as lost to follow-up now"),
    ],
)
def test_a_course_not_yet_treated_neither_starts_follow_up_nor_is_lost_to_it(desk, path, words):
    course = make_course()
    assert words in page(desk.get(f"/desk/cases/{course.case_id}/course/{path}", follow=True))
    desk.post(f"/desk/cases/{course.case_id}/course/{path}", {"reason": "No answer."})
    assert state_of(course) == "scheduled"


@pytest.mark.django_db
def test_a_treated_course_is_not_lost_before_its_follow_up_starts(desk):
    course = make_course()
    make_signed_treatment(course)
    response = desk.post(f"/desk/cases/{course.case_id}/course/lost/", {"reason": "No answer."}, follow=True)
    assert "it cannot be recorded as lost to follow-up now" in page(response)
    assert state_of(course) == "treated"


@pytest.mark.browser
@committed_db
def test_follow_up_then_lost_to_it_in_a_browser(page, live_server):
    """Debian's chromium: the pages at 1280 and 390 px, neither scrolling sideways."""
    course = make_course()
    make_signed_treatment(course)
    sign_in(page, live_server)

    def shoot(name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=str(SHOTS / f"desk-{name}-{width}.png"), full_page=True)
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (name, width)
        page.set_viewport_size({"width": 1280, "height": 900})

    page.goto(f"{live_server.url}/desk/cases/{course.case_id}/")
    page.get_by_role("link", name="Start follow-up…").click()
    shoot("course-follow-up")
    page.get_by_role("button", name="Start the follow-up").click()
    assert page.locator("#course-state").inner_text() == "Following up"
    shoot("course-following-up")

    page.get_by_role("link", name="Lost to follow-up…").click()
    page.get_by_role("button", name="Record as lost to follow-up permanently").click()
    assert "Say why the patient is lost to follow-up" in page.locator("#error-summary").inner_text()
    shoot("course-lost-refused")
    page.get_by_label("Why the patient is lost to follow-up").fill("Three calls and a letter unanswered.")
    page.get_by_role("button", name="Record as lost to follow-up permanently").click()
    assert page.locator("#course-state").inner_text() == "Lost to follow-up"
    shoot("course-lost")
