"""A specialist works the review desk as an inbox in a real browser (Debian's chromium via
Playwright): she signs in and lands on her queue, which shows a new case by itself; she finds a
case by its reference, decides it through the confirmation, goes on to the next case, cancels a
decline, and prints the signed letter (issue #24)."""

from datetime import timedelta
from pathlib import Path

import pytest

from intake.models import Case, Priority
from recommendations.models import Decision
from recommendations.services import make_draft
from tests.factories import make_case, make_patient, make_user
from tests.support import committed_db

pytestmark = [pytest.mark.browser, committed_db]


def queued(family_name: str, **fields) -> Case:
    case = make_case(patient=make_patient(given_name="Ana", family_name=family_name), **fields)
    make_draft(case_id=case.pk)
    return Case.objects.get(pk=case.pk)


def both_widths(page, screenshot, name: str) -> list[Path]:
    """The page at 1280 px and at a phone's 390 px, where it must not scroll sideways."""
    shots = [screenshot(f"{name}-1280")]
    page.set_viewport_size({"width": 390, "height": 844})
    shots.append(screenshot(f"{name}-390"))
    width = page.evaluate("document.documentElement.scrollWidth")
    page.set_viewport_size({"width": 1280, "height": 900})
    assert width <= 390, f"{name} scrolls sideways at 390 px ({width} px wide)"
    return shots


def test_a_specialist_works_the_queue_as_an_inbox(page, live_server, screenshot):
    make_user("dr_inbox", group="Specialists", is_staff=True)
    first = queued("Urgente", priority=Priority.URGENT, notes="Partner's history. " * 160)
    second = queued("Segundo")
    shots = []

    # She signs in at /admin/ and lands on her queue, not on the site index
    page.goto(f"{live_server.url}/admin/")
    page.get_by_label("Username").fill("dr_inbox")
    page.get_by_label("Password").fill("pw-for-tests-1")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Review queue: most urgent first, then oldest").wait_for()
    assert page.url.endswith("/admin/recommendations/reviewcase/")

    # A case that reaches the queue while she looks at it appears without her reloading
    queued("Recienllegado")
    page.get_by_role("link", name="Recienllegado, Ana", exact=False).wait_for()
    shots += both_widths(page, screenshot, "inbox-queue")

    # She finds the urgent case by its reference and opens it
    page.locator("#searchbar").fill(first.reference)
    page.locator("#searchbar").press("Enter")
    page.get_by_role("link", name="Urgente, Ana", exact=False).wait_for()
    assert page.get_by_role("link", name="Segundo, Ana", exact=False).count() == 0
    page.get_by_role("link", name="Urgente, Ana", exact=False).click()
    page.locator("#draft-route").wait_for()
    assert page.get_by_text("Show more").first.is_visible()  # the long note is folded
    shots += both_widths(page, screenshot, "inbox-review")

    # Approving shows what she is about to sign; nothing is written yet
    page.get_by_role("button", name="Approve the draft").click()
    page.get_by_role("heading", name="Approve the draft: what you are about to sign").wait_for()
    assert page.locator("#signing-signature").inner_text() == "Dr. Dr_Inbox, MD"
    assert "knee-oa-bmac version 1" in page.locator("#signing-protocol").inner_text()
    assert page.locator("#signing-notice").is_visible()
    assert not Decision.objects.exists()
    shots += both_widths(page, screenshot, "inbox-confirm")

    # She signs and goes straight on to the next case in queue order
    page.get_by_role("button", name="Sign and open the next case").click()
    page.get_by_text(f"Signed case {first.reference}: Approved as drafted, Local injection.").wait_for()
    assert page.url.endswith(f"/reviewcase/{second.pk}/change/")
    assert Decision.objects.get(case=first).signature == "Dr. Dr_Inbox, MD"

    # A decline she cancels writes nothing
    page.get_by_label("Reason for declining").fill("Not a candidate")
    page.get_by_role("button", name="Decline").click()
    page.get_by_role("heading", name="Decline: what you are about to sign").wait_for()
    page.get_by_role("link", name="Cancel: sign nothing").click()
    page.locator("#actions").wait_for()
    assert not Decision.objects.filter(case=second).exists()

    # On the decided case she adds an addendum, which is confirmed like the decision
    page.goto(f"{live_server.url}/admin/recommendations/reviewcase/{first.pk}/change/")
    page.get_by_label("Correction and its reason").fill("Right knee confirmed on the imaging report.")
    page.get_by_role("button", name="Add addendum").click()
    page.get_by_role("heading", name="Add an addendum: what you are about to sign").wait_for()
    page.get_by_role("button", name="Sign the addendum").click()
    page.get_by_text("Addendum added.").wait_for()
    assert "Dr. Dr_Inbox, MD" in page.locator("#addenda").inner_text()
    shots += both_widths(page, screenshot, "inbox-decided")

    # The decided case prints as a letter with the notice, the signature and the signed addendum
    page.get_by_role("link", name="Print the decision letter").click()
    page.get_by_role("heading", name="Specialist decision on stem cell therapy").wait_for()
    assert page.locator("#signature").inner_text() == "Dr. Dr_Inbox, MD"
    assert page.locator("#notice").is_visible()
    addendum = page.locator("#addendum-1").inner_text()
    assert "Right knee confirmed on the imaging report." in addendum and "Dr. Dr_Inbox, MD" in addendum
    shots += both_widths(page, screenshot, "inbox-letter")

    # The decision record in the list of decisions reads in labels, and links the letter too
    page.goto(f"{live_server.url}/admin/recommendations/decision/?q={first.reference}")
    page.get_by_role("link", name="Urgente, Ana", exact=False).click()
    page.get_by_role("link", name="Print the decision letter").wait_for()
    record = page.locator("#content-main").inner_text()
    assert "Draft 1: Local injection" in record and "Dr. Dr_Inbox, MD" in record
    shots += both_widths(page, screenshot, "inbox-record")

    # Analytics read that decision's time in minutes, its bars as long as the numbers say
    decided_at = Decision.objects.get(case=first).decided_at
    Case.objects.filter(pk=first.pk).update(created_at=decided_at - timedelta(minutes=45))
    page.goto(f"{live_server.url}/admin/recommendations/decision/analytics/")
    assert page.locator("#by-week td.median").inner_text() == "45 min"
    shots += both_widths(page, screenshot, "inbox-analytics")
    print("\n".join(map(str, shots)))
