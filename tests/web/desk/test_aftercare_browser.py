"""After the decision, in Debian's chromium (Playwright): a decided case is booked on the desk, its
treatment record entered at the desk and signed by its performer in the review desk, an adverse
event reported on the desk, its reporting clock shown on the case page and the board, and the
MedWatch data sheet opened. Every page is photographed at 1280 and 390 px."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from clinic.aftercare.models import AdverseEvent, ReportingClock, TreatmentRecord
from recommendations.models import SpecialistProfile
from tests.aftercare.factories import make_course, make_performer
from tests.support import committed_db
from tests.web.desk.test_desk_browser import sign_in

pytestmark = [pytest.mark.browser, committed_db]
SHOTS = Path("/tmp/notes/shots")


@pytest.fixture
def shoot(page):
    """A full-page photograph at desk width (1280 px) and phone width (390 px); the page is left
    at desk width. Neither width may scroll sideways."""
    SHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> None:
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=str(SHOTS / f"desk-{name}-{width}.png"), full_page=True)
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (name, width)
        page.set_viewport_size({"width": 1280, "height": 900})

    return take


def next_minute_after(moment) -> timezone.datetime:
    return (timezone.localtime(moment) + timedelta(minutes=1)).replace(second=0, microsecond=0)


def test_decision_to_medwatch_sheet_on_the_desk(page, live_server, shoot):
    # A heart-failure case approved for an infusion under hf-msc-ind (sponsor-investigator), and
    # an unbooked knee course beside it on the board.
    course = make_course(route="intravenous")
    other = make_course()
    case = course.case
    performer = make_performer("dr_okafor", is_staff=True)
    SpecialistProfile.objects.filter(user=performer).update(full_name="Dr. Maria Okafor", credentials="MD")
    sign_in(page, live_server)
    assert "Not booked" in page.locator(".courses-list").inner_text()
    shoot("aftercare-board-courses")

    # The desk books the treatment
    page.goto(f"{live_server.url}/desk/cases/{case.pk}/")
    assert page.locator("#course-state").inner_text() == "Scheduled"
    shoot("aftercare-case-scheduled")
    page.get_by_role("link", name="Book the appointment").click()
    at = next_minute_after(course.decision.decided_at)
    page.get_by_label("Appointment date").fill(f"{at:%Y-%m-%d}")
    page.get_by_label("Appointment time").fill(f"{at:%H:%M}")
    shoot("aftercare-schedule")
    page.get_by_role("button", name="Book the appointment").click()
    page.get_by_text(f"Booked for {at:%Y-%m-%d} at {at:%H:%M}.").wait_for()

    # ... enters the treatment record for its performer; a code holding the MRN is refused
    page.get_by_role("link", name="Enter a treatment record").click()
    assert page.get_by_role("radio", name="Intravenous infusion").is_checked()  # the decision's route
    page.get_by_label("Performed by").select_option(label="Dr. Maria Okafor, MD")
    page.get_by_label("Date given").fill(f"{at:%Y-%m-%d}")
    page.get_by_label("Time given").fill(f"{at:%H:%M}")
    page.get_by_role("group", name="Image guidance").get_by_label("None (landmark-guided)").check()
    page.get_by_label("Product given").fill("Allogeneic mesenchymal stromal cells")
    page.get_by_label("Processing facility").fill("Cell therapy lab, Building C")
    page.get_by_label("Lot number").fill("MSC-2026-118")
    page.get_by_label("Distinct identification code").fill(f"MSC-{case.patient.mrn}")
    page.get_by_label("Allogeneic (a donor's cells)").check()
    page.get_by_label("Volume given").fill("100")
    page.get_by_label("Total nucleated cells").fill("150,000,000")
    page.get_by_role("button", name="Save for the performer to sign").click()
    error = page.locator("#field-distinct_code .error")
    assert "medical record number" in error.inner_text()
    assert page.locator("#error-summary").is_visible()
    shoot("aftercare-treatment-entry-error")
    page.get_by_label("Distinct identification code").fill("MSC-7Q4K-0091")
    page.get_by_role("button", name="Save for the performer to sign").click()
    page.get_by_text("Saved; Dr. Maria Okafor, MD must sign it in the").wait_for()
    assert page.locator("#course-state").inner_text() == "Scheduled"
    shoot("aftercare-case-entry-awaiting-signature")

    # The performer signs it in the review desk, in their own browser
    review = page.context.browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    review.goto(f"{live_server.url}/admin/login/")
    review.get_by_label("Username").fill("dr_okafor")
    review.get_by_label("Password").fill("pw-for-tests-1")
    review.get_by_role("button", name="Log in").click()
    sign_path = page.get_by_role("link", name="review desk").first.get_attribute("href")
    review.goto(f"{live_server.url}{sign_path}")
    review.get_by_role("button", name="Sign the treatment record").click()
    review.get_by_text("Signed: treatment record of case").wait_for()
    record = TreatmentRecord.objects.get(course=course)
    assert record.signature == "Dr. Maria Okafor, MD"

    page.reload()
    assert page.locator("#course-state").inner_text() == "Treated"
    assert "Treatment record signed (session 1)" in page.locator(".timeline").inner_text()
    page.get_by_role("link", name="Full treatment record").click()
    assert "MSC-7Q4K-0091" in page.locator(".records").inner_text()
    shoot("aftercare-course-full-record")

    # ... reports a serious adverse event (a hospitalization) on the desk
    page.goto(f"{live_server.url}/desk/cases/{case.pk}/")
    page.get_by_role("link", name="Report an adverse event").click()
    page.get_by_role("button", name="Record the adverse event").click()  # empty: each field says what to do
    assert "Describe what happened." in page.locator("#error-summary").inner_text()
    shoot("aftercare-adverse-event-errors")
    page.get_by_label("Onset date").fill(f"{timezone.localdate():%Y-%m-%d}")
    page.get_by_label("What happened").fill("Fever and breathlessness the evening after the infusion.")
    page.get_by_label("3 Severe or medically significant").check()
    page.get_by_role("group", name="Serious", exact=True).get_by_label("Yes", exact=True).check()
    page.get_by_label("Hospitalization (initial or prolonged)").check()
    page.get_by_role("group", name="Involves a communicable disease").get_by_label("No", exact=True).check()
    page.get_by_role("group", name="A medical device was involved").get_by_label("No", exact=True).check()
    page.get_by_label("Recovering").check()
    page.get_by_text("A clinician's assessment").click()
    page.get_by_role("group", name="Expected").get_by_label("No", exact=True).check()
    page.get_by_label("Caused by the product?").select_option("possible")
    shoot("aftercare-adverse-event-form")
    page.get_by_role("button", name="Record the adverse event").click()
    page.get_by_text("Adverse event recorded.").wait_for()
    event = AdverseEvent.objects.get(course=course)
    clock = ReportingClock.objects.get(adverse_event=event, rule="ind_safety_report_15_day")
    assert "due in 15 days" in page.locator(f"#clock-{clock.pk}").inner_text()
    shoot("aftercare-adverse-event")

    # The clock shows on the case page and on the board
    page.goto(f"{live_server.url}/desk/cases/{case.pk}/")
    clocks = page.locator(".treatment .clocks").inner_text()
    assert "FDA and all participating investigators" in clocks and "due in 15 days" in clocks
    assert "Adverse event: reported" in page.locator(".timeline").inner_text()
    shoot("aftercare-case-with-clock")
    page.goto(f"{live_server.url}/desk/")
    board_clocks = page.locator(".clocks-list").inner_text()
    assert case.reference in board_clocks and "Due in 15 days" in board_clocks
    shoot("aftercare-board-clocks")

    # The MedWatch data sheet opens with the case reference; the record downloads as JSON
    page.goto(f"{live_server.url}/desk/adverse-events/{event.pk}/")
    page.get_by_role("link", name="Print the MedWatch data sheet").click()
    assert page.locator("#case-reference").inner_text() == case.reference
    assert "Form FDA 3500A" in page.locator("h1").inner_text()
    shoot("aftercare-medwatch")
    page.goto(f"{live_server.url}/desk/adverse-events/{event.pk}/")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download as JSON").click()
    assert download.value.suggested_filename.startswith(f"adverse-event-{case.reference}")

    # The confirmation pages of what cannot be undone
    page.goto(f"{live_server.url}/desk/cases/{case.pk}/course/complete/")
    assert "cannot be undone" in page.locator(".confirm").inner_text()
    shoot("aftercare-complete-confirm")
    page.goto(f"{live_server.url}/desk/cases/{other.case_id}/course/cancel/")
    page.get_by_role("button", name="Cancel the course permanently").click()
    assert "Say why the course is cancelled" in page.locator("#error-summary").inner_text()
    shoot("aftercare-cancel-confirm")
