"""Adverse events and reporting clocks in the review desk (issue #25, items 3 and 5): the list by
what is due, the specialist's assessment made on the version read (a stale one keeps nothing and
shows the event as it is now), triage, recorded submissions, no delete anywhere, and the open
clocks on their own list and on the specialists' queue."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from clinic.aftercare import adverse_events
from clinic.aftercare.models import AdverseEvent, AdverseEventChange, ReportingClock, TreatmentCourse
from intake.workflow import Actor
from tests.aftercare.factories import make_course
from tests.factories import make_partner, make_user
from tests.support import committed_db

EVENTS = "/admin/aftercare/adverseevent/"
CLOCKS = "/admin/aftercare/reportingclock/"
QUEUE = "/admin/recommendations/reviewcase/"


def heart_course(**kw) -> TreatmentCourse:
    """An infusion under the demo IND protocol (hf-msc-ind: the clinic is sponsor-investigator)."""
    return make_course(route="intravenous", **kw)


def staff_report(course: TreatmentCourse | None = None, **values) -> AdverseEvent:
    """A serious event entered by staff: hospitalised, grade 3."""
    course = course or heart_course()
    body = dict(
        onset=timezone.localdate().isoformat(),
        description="Fever and rigors two hours after the infusion; admitted overnight.",
        ctcae_grade=3,
        serious=True,
        seriousness_criteria=["hospitalization"],
        outcome="recovering",
    )
    actor = Actor.of_user(make_user(group="Front desk"))
    return adverse_events.report_adverse_event(
        course_id=course.pk, source="staff", actor=actor, values=body | values
    )


def clocked(**values) -> AdverseEvent:
    """Unexpected and probably related: the IND safety report (15 days) and the IRB's row open."""
    return staff_report(expected=False, relatedness_product="probable", **values)


def partner_report() -> AdverseEvent:
    partner, _ = make_partner()
    course = heart_course(partner=partner)
    body = dict(
        onset=timezone.localdate().isoformat(),
        description="Patient reports a rash at the infusion site.",
        ctcae_grade=1,
        serious=False,
        seriousness_criteria=[],
        outcome="ongoing",
        reporter={"name": "Dr. Ines Porto", "qualification": "physician"},
    )
    return adverse_events.report_adverse_event(
        course_id=course.pk,
        source="partner",
        partner=partner,
        actor=Actor(label=f"partner: {partner.name}"),
        values=body,
        external_id="AE-1",
    )


def specialist(client, username: str = "dr_grades"):
    user = make_user(username, group="Specialists", is_staff=True)
    client.force_login(user)
    return user


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def page_of(event: AdverseEvent) -> str:
    return f"{EVENTS}{event.pk}/change/"


def assessment(event: AdverseEvent, **changes) -> dict:
    """The assessment form as posted, filled with the event as it is now plus `changes`."""
    yes_no = {True: "yes", False: "no", None: ""}
    data = {
        "assess": "1",
        "version": event.version,
        "ctcae_grade": event.ctcae_grade or "",
        "serious": yes_no[event.serious],
        "seriousness_criteria": event.seriousness_criteria,
        "communicable_disease": yes_no[event.communicable_disease],
        "relatedness_harvest": event.relatedness_harvest,
        "relatedness_product": event.relatedness_product,
        "relatedness_device": event.relatedness_device,
        "expected": yes_no[event.expected],
        "outcome": event.outcome,
        "action_taken": event.action_taken,
    }
    if event.device_involved:
        data["device_involved"] = "on"
    return data | changes


@pytest.mark.django_db
def test_events_are_listed_by_what_is_due_untriaged_first_then_the_soonest_clock(client):
    specialist(client)
    later, nothing_due, sooner = clocked(), staff_report(), clocked()
    untriaged = partner_report()
    ReportingClock.objects.filter(adverse_event=later).update(due_at=timezone.now() + timedelta(days=9))
    ReportingClock.objects.filter(adverse_event=sooner).update(due_at=timezone.now() - timedelta(hours=3))

    page = text(client.get(EVENTS))

    order = [page.index(f">{e.case.reference}<") for e in (untriaged, sooner, later, nothing_due)]
    assert order == sorted(order)
    assert "Awaiting triage" in page and "Overdue by 3" in page and "Nothing due" in page
    assert "/admin/aftercare/adverseevent/add/" not in page


@pytest.mark.django_db
def test_a_specialist_assesses_an_event_and_its_clocks_follow(client):
    specialist(client)
    event = staff_report()
    assert not ReportingClock.objects.filter(adverse_event=event).exists()

    page = text(client.get(page_of(event)))
    assert "Grade 3: severe or medically significant but not immediately life-threatening" in page
    assert "Probable / likely" in page and "Unassessable / unclassifiable" in page
    assert "As defined by 21 CFR 312.32(a)." in page and "Against the investigator&#x27;s brochure." in page
    assert f'href="{reverse("desk:medwatch", args=[event.pk])}"' in page
    assert f'href="{reverse("desk:adverse-event-json", args=[event.pk])}"' in page
    assert "No reporting clock applies" in page

    form = assessment(event, expected="no", relatedness_product="probable", action_taken="Antipyretics.")
    assert client.post(page_of(event), form)["Location"] == page_of(event)

    event.refresh_from_db()
    assert (event.expected, event.relatedness_product, event.action_taken) == (
        False,
        "probable",
        "Antipyretics.",
    )
    assert event.version == 2 and event.qualified_at is not None
    rules = set(
        ReportingClock.objects.filter(adverse_event=event, state="open").values_list("citation", flat=True)
    )
    assert rules == {"21 CFR 312.32(c)(1)", "21 CFR 312.66"}
    page = text(client.get(page_of(event)))
    assert "Assessment saved." in page
    assert "21 CFR 312.32(c)(1): to FDA and all participating investigators" in page
    assert "Related to the product: Probable / likely" in page and "Expected: no" in page


@pytest.mark.django_db
def test_a_stale_assessment_keeps_nothing_and_shows_what_the_event_says_now(client):
    me, colleague = specialist(client), make_user("dr_colleague", group="Specialists")
    event = staff_report()
    read = assessment(event)  # the page as she opened it, at version 1

    # A colleague records the outcome while she is still editing
    adverse_events.assess_adverse_event(
        adverse_event_id=event.pk, user=colleague, version=1, values={"outcome": "resolved"}
    )
    page = text(client.post(page_of(event), read | {"ctcae_grade": "2", "outcome": "ongoing"}))

    assert "Someone changed this event while you were editing; here is what it says now." in page
    event.refresh_from_db()
    assert (event.ctcae_grade, event.outcome, event.version) == (3, "resolved", 2)  # nothing half-applied
    assert '<option value="resolved" selected>' in page
    assert 'name="version" value="2"' in page
    assert "What you had entered" in page and "Ongoing" in page
    assert AdverseEventChange.objects.filter(adverse_event=event, actor=me).count() == 0


@pytest.mark.django_db
def test_an_incoherent_assessment_is_refused_with_a_message_and_nothing_changes(client):
    specialist(client)
    event = staff_report()

    page = text(client.post(page_of(event), assessment(event, ctcae_grade="5")))

    assert "errorlist" in page and "fatal" in page.lower()
    event.refresh_from_db()
    assert (event.ctcae_grade, event.version) == (3, 1)


@pytest.mark.django_db
def test_a_partners_report_is_triaged_a_dismissal_needs_its_reason(client):
    specialist(client)
    event = partner_report()
    page = text(client.get(page_of(event)))
    assert "Dismiss: not an adverse event" in page and "Dr. Ines Porto (Physician)" in page

    triage = {"triage": "1", "version": event.version, "decision": "dismiss", "note": ""}
    refused = text(client.post(page_of(event), triage))
    assert "errorlist" in refused and "why this is not an adverse event" in refused
    assert AdverseEvent.objects.get(pk=event.pk).triage == "received"

    reason = "Same rash as before the infusion: a known contact dermatitis."
    client.post(page_of(event), triage | {"note": reason})
    event.refresh_from_db()
    assert event.triage == "dismissed"
    page = text(client.get(page_of(event)))
    assert reason in page and "Dismiss: not an adverse event" not in page


@pytest.mark.django_db
def test_a_submission_is_recorded_on_its_clock_with_date_recipient_and_reference(client):
    specialist(client)
    event = clocked()
    clock = ReportingClock.objects.get(adverse_event=event, citation="21 CFR 312.32(c)(1)")
    prefix = f"clock-{clock.pk}"
    post = {"submission": str(clock.pk), f"{prefix}-submitted_at": "", f"{prefix}-recipient": "FDA"}

    refused = text(client.post(page_of(event), post | {f"{prefix}-reference": ""}))
    assert "Give the date and time the report was submitted." in refused
    assert "Give the reference the recipient gave" in refused
    assert ReportingClock.objects.get(pk=clock.pk).state == "open"

    sent = f"{timezone.localtime():%Y-%m-%dT%H:%M}"
    post |= {f"{prefix}-submitted_at": sent, f"{prefix}-reference": "IND 000000 SN-0042"}
    assert client.post(page_of(event), post)["Location"] == page_of(event)

    clock.refresh_from_db()
    assert (clock.state, clock.submitted_to, clock.submission_reference) == (
        "submitted",
        "FDA",
        "IND 000000 SN-0042",
    )
    page = text(client.get(page_of(event)))
    assert "Submission to FDA recorded (21 CFR 312.32(c)(1))." in page
    assert "reference IND 000000 SN-0042" in page


@pytest.mark.django_db
def test_a_submission_dated_before_the_event_arrived_is_refused_on_its_date_field(client):
    specialist(client)
    event = clocked()
    clock = ReportingClock.objects.get(adverse_event=event, citation="21 CFR 312.32(c)(1)")
    prefix = f"clock-{clock.pk}"
    post = {"submission": str(clock.pk), f"{prefix}-recipient": "FDA", f"{prefix}-reference": "SN-1"}

    page = text(client.post(page_of(event), post | {f"{prefix}-submitted_at": "2001-01-01T09:00"}))

    field = page.split(f'for="id_{prefix}-submitted_at"')[1].split("</div>")[0]
    assert "errorlist" in field and "The clinic learned of this adverse event on" in field
    assert ReportingClock.objects.get(pk=clock.pk).state == "open"


@pytest.mark.django_db
def test_nothing_is_added_or_deleted_here_superuser_included(client):
    event = clocked()
    clock = ReportingClock.objects.filter(adverse_event=event).first()
    client.force_login(make_user("root", is_staff=True, is_superuser=True))

    assert client.get(f"{page_of(event)[: -len('change/')]}delete/").status_code == 403
    assert client.get(f"{EVENTS}add/").status_code == 403
    assert client.get(f"{CLOCKS}{clock.pk}/delete/").status_code == 403
    assert 'name="action"' not in text(client.get(EVENTS))  # no bulk "delete selected"
    assert AdverseEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.django_db
def test_open_clocks_are_listed_overdue_first_and_counted_on_the_specialists_queue(client):
    specialist(client)
    first, second = clocked(), clocked()
    overdue = ReportingClock.objects.get(adverse_event=second, citation="21 CFR 312.32(c)(1)")
    ReportingClock.objects.filter(pk=overdue.pk).update(due_at=timezone.now() - timedelta(days=2))
    adverse_events.record_submission(
        clock_id=ReportingClock.objects.get(adverse_event=first, citation="21 CFR 312.66").pk,
        user=make_user(group="Front desk"),
        submitted_at=timezone.now(),
        recipient="The IRB",
        reference="IRB-7",
    )

    clocks = text(client.get(CLOCKS))
    rows = re.findall(r"<tr>.*?</tr>", clocks, flags=re.S)[1:]
    assert len(rows) == 3 and "Overdue by 2" in rows[0] and second.case.reference in rows[0]
    assert f'href="{page_of(second)}#clock-{overdue.pk}"' in rows[0]
    assert "IRB-7" not in clocks and len(re.findall(r"<tr>", text(client.get(CLOCKS, {"state": "all"})))) == 5

    queue = text(client.get(QUEUE))
    assert "Reporting clocks: 3 open, 1 overdue" in queue
    assert f'href="{page_of(second)}#clock-{overdue.pk}"' in queue
    assert queue.index("Reporting clocks:") < queue.index('id="searchbar"')  # above the list


@pytest.mark.django_db
def test_the_queue_shows_no_clock_panel_when_none_is_open(client):
    specialist(client)
    staff_report()  # serious but expected: no clock under this protocol
    assert "Reporting clocks:" not in text(client.get(QUEUE))


def both_widths(page, screenshot, name: str) -> None:
    """The page at 1280 px and at a phone's 390 px, where it must not scroll sideways."""
    screenshot(f"{name}-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(f"{name}-390")
    width = page.evaluate("document.documentElement.scrollWidth")
    page.set_viewport_size({"width": 1280, "height": 900})
    assert width <= 390, f"{name} scrolls sideways at 390 px ({width} px wide)"


@pytest.mark.browser
@committed_db
def test_a_specialist_grades_an_event_and_records_a_submission_in_a_browser(page, live_server, screenshot):
    make_user("dr_browser", group="Specialists", is_staff=True)
    event, reported = staff_report(), partner_report()
    overdue = clocked()
    ReportingClock.objects.filter(adverse_event=overdue).update(due_at=timezone.now() - timedelta(hours=30))

    # She lands on her queue: the clocks panel counts what is open and overdue
    page.goto(f"{live_server.url}/admin/")
    page.get_by_label("Username").fill("dr_browser")
    page.get_by_label("Password").fill("pw-for-tests-1")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Reporting clocks: 2 open, 2 overdue").wait_for()
    both_widths(page, screenshot, "aftercare-queue-panel")

    page.goto(f"{live_server.url}{EVENTS}")
    page.locator("span.urgent", has_text="Awaiting triage").wait_for()
    both_widths(page, screenshot, "aftercare-events")
    page.goto(f"{live_server.url}{CLOCKS}")
    both_widths(page, screenshot, "aftercare-clocks")
    page.goto(f"{live_server.url}{page_of(reported)}")
    page.get_by_role("button", name="Dismiss: not an adverse event").wait_for()
    both_widths(page, screenshot, "aftercare-triage")

    # She grades the staff's report: unexpected, probably related to the product
    page.goto(f"{live_server.url}{page_of(event)}")
    page.get_by_label("Expected", exact=True).select_option("no")
    page.get_by_label("The product", exact=True).select_option("probable")
    page.get_by_role("button", name="Save the assessment").click()
    page.get_by_text("Assessment saved.").wait_for()
    assert "21 CFR 312.32(c)(1)" in page.locator("#clocks").inner_text()
    both_widths(page, screenshot, "aftercare-assess")

    # and records the IRB report she made by telephone and email
    clock = ReportingClock.objects.get(adverse_event=event, citation="21 CFR 312.66")
    form = page.locator(f"#submission-{clock.pk}")
    form.get_by_label("Their reference").fill("IRB email of today, 10:12")
    form.get_by_role("button", name="Record the submission").click()
    page.get_by_text("Submission to The IRB recorded (21 CFR 312.66).").wait_for()
    assert ReportingClock.objects.get(pk=clock.pk).state == "submitted"
