"""The desk after the decision: the course on the case page and the board, booking, cancelling and
completing it, the treatment record staff enter for its performer, a staff report of an adverse
event with its reporting clocks, the submission, the MedWatch sheet and the JSON export."""

import re
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from clinic.aftercare.models import AdverseEvent, ReportingClock, TreatmentCourse, TreatmentEntry
from clinic.aftercare.treatments import sign_treatment
from tests.aftercare.factories import make_course, make_performer, make_signed_treatment, treatment_values
from tests.factories import make_case, make_user

pytestmark = pytest.mark.django_db


def page(response) -> str:
    return response.content.decode()


def entry_form(course: TreatmentCourse, clinician, **changes) -> dict:
    """The treatment entry form as a person fills it for `course`."""
    values = treatment_values(course, clinician)
    # The form takes minutes: the first whole minute after the decision (signed a moment ago).
    decided = timezone.localtime(course.decision.decided_at)
    at = (decided + timedelta(minutes=1)).replace(second=0, microsecond=0)
    form = {
        "submission_key": str(uuid.uuid4()),
        "session": "1",
        "performer": str(clinician.pk),
        "performer_role": "physician",
        "administered_date": f"{at:%Y-%m-%d}",
        "administered_time": f"{at:%H:%M}",
        "route": course.route,
        "route_reason": "",
        "sites": values["sites"],
        "image_guidance": "ultrasound",
        "product_kind": "Bone marrow aspirate concentrate",
        "product_source": "autologous",
        "processing_facility": "Clinic cell processing room 2",
        "lot": "LOT-2026-0142",
        "distinct_code": "BMAC-7Q4K-0091",
        "label_legends": ["FOR AUTOLOGOUS USE ONLY"],
        "dose_tnc": "1,200,000,000",
        "viability_percent": "92.5",
        "volume_ml": "6",
        "notes": "",
    }
    return form | changes


def ae_form(**changes) -> dict:
    form = {
        "submission_key": str(uuid.uuid4()),
        "onset": f"{timezone.localdate():%Y-%m-%d}",
        "description": "Fever and breathlessness the evening after the infusion; admitted overnight.",
        "ctcae_grade": "3",
        "serious": "yes",
        "seriousness_criteria": ["hospitalization"],
        "communicable_disease": "no",
        "device_involved": "no",
        "outcome": "recovering",
        "action_taken": "Admitted for observation.",
        # The clinician's view, which makes the IND safety report due (21 CFR 312.32(c)).
        "expected": "no",
        "relatedness_product": "possible",
        "relatedness_harvest": "",
    }
    return form | changes


def test_a_case_without_a_course_has_no_treatment_pages(desk):
    case = make_case()
    for path in ("course/", "course/schedule/", "treatment/", "adverse-events/new/"):
        response = desk.get(f"/desk/cases/{case.pk}/{path}", follow=True)
        assert "This case has no treatment course" in page(response)
    assert 'id="treatment"' not in page(desk.get(f"/desk/cases/{case.pk}/"))


def test_the_desk_books_the_course_and_the_case_page_and_board_show_it(desk):
    course = make_course()
    case_page = page(desk.get(f"/desk/cases/{course.case_id}/"))
    assert 'id="course-state">Scheduled<' in case_page
    assert "Not booked yet" in case_page
    assert "Treatment course: Scheduled" in case_page  # the course's opening, in the case timeline
    assert "Not booked" in page(desk.get("/desk/"))

    day = timezone.localdate() + timedelta(days=3)
    form = {
        "submission_key": str(uuid.uuid4()),
        "appointment_date": f"{day:%Y-%m-%d}",
        "appointment_time": "09:30",
    }
    response = desk.post(f"/desk/cases/{course.case_id}/course/schedule/", form, follow=True)

    assert f"Booked for {day:%Y-%m-%d} at 09:30." in page(response)
    course.refresh_from_db()
    assert timezone.localtime(course.appointment_at).strftime("%Y-%m-%d %H:%M") == f"{day:%Y-%m-%d} 09:30"
    assert f"Appointment booked for {day:%Y-%m-%d} 09:30" in page(response)  # the timeline
    board = page(desk.get("/desk/"))
    assert (
        f"Appointment {day:%Y-%m-%d} 09:30, in 2 days" in board
        or f"Appointment {day:%Y-%m-%d} 09:30, in 3 days" in board
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"appointment_date": "", "appointment_time": ""}, "Enter the appointment date."),
        ({"appointment_date": "2026-02-30", "appointment_time": "09:30"}, "2026-02-30"),
        ({"appointment_date": "05/11/2026", "appointment_time": "09:30"}, "Enter the date as YYYY-MM-DD"),
        ({"appointment_date": "2020-01-01", "appointment_time": "09:30"}, "The date has passed"),
        ({"appointment_date": "2099-01-01", "appointment_time": "25:99"}, "Enter the time as HH:MM"),
    ],
)
def test_booking_refuses_a_bad_date_or_time_in_words(desk, fields, message):
    course = make_course()
    form = {"submission_key": str(uuid.uuid4())} | fields
    response = desk.post(f"/desk/cases/{course.case_id}/course/schedule/", form)
    assert response.status_code == 400
    assert message in page(response)
    course.refresh_from_db()
    assert course.appointment_at is None


def test_the_treatment_form_offers_the_decisions_route_and_sites_and_only_signing_clinicians(desk):
    course = make_course()
    make_performer("dr_signs")
    make_user("dr_unsigned", group="Specialists", signs=False)
    form = page(desk.get(f"/desk/cases/{course.case_id}/treatment/"))
    assert re.search(r'name="route" value="local_injection"[^>]*checked', form)
    assert not re.search(r'name="route" value="intravenous"[^>]*checked', form)
    assert 'name="sites" value="right_knee"' in form
    assert "Dr. Dr_Signs, MD" in form
    assert "dr_unsigned" not in form and "Dr_Unsigned" not in form
    assert "The code on the product label; never the patient&#x27;s name, MRN or birth date." in form
    for label in ("Date given", "Time given", "Lot number", "Distinct identification code", "Volume given"):
        assert f">{label}" in form


def test_a_saved_entry_says_who_must_sign_it_and_a_double_submit_saves_one(desk):
    course = make_course()
    performer = make_performer("dr_okafor")
    form = entry_form(course, performer)

    first = desk.post(f"/desk/cases/{course.case_id}/treatment/", form, follow=True)
    second = desk.post(f"/desk/cases/{course.case_id}/treatment/", form, follow=True)

    (entry,) = TreatmentEntry.objects.filter(course=course)
    assert "Saved; Dr. Dr_Okafor, MD must sign it in the" in page(first)
    assert f'href="/admin/aftercare/treatmententry/{entry.pk}/sign/"' in page(first)
    assert "This form was sent twice; it was saved once." in page(second)
    assert entry.dose_tnc == 1_200_000_000 and entry.viability_percent == 92.5
    case_page = page(desk.get(f"/desk/cases/{course.case_id}/"))
    assert "Not signed yet:" in case_page and "Dr. Dr_Okafor, MD must sign it" in case_page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"distinct_code": "{mrn}-01"}, "distinct_code", "medical record number"),
        ({"route": "intravenous"}, "route_reason", "say why this session was given"),
        ({"sites": ["left_hip"]}, "sites", "Tick only sites the decision names."),
        ({"sites": []}, "sites", "Choose the site(s) injected"),
        ({"volume_ml": "six"}, "volume_ml", "Give the volume administered in mL"),
        ({"viability_percent": "120"}, "viability_percent", "from 0 to 100"),
        ({"dose_tnc": "1.5"}, "dose_tnc", "whole positive number"),
        ({"administered_date": "2099-01-01"}, "administered_date", "cannot be given in the future"),
        ({"administered_time": "noon"}, "administered_time", "Enter the time as HH:MM"),
        ({"performer": "999999"}, "performer", "Choose a clinician from the list"),
        ({"session": "0"}, "session", "Sessions count from 1."),
        ({"lot": ""}, "lot", "Enter the lot number."),
        ({"submission_key": "not-a-key"}, "submission_key", "This form is out of date"),
    ],
)
def test_the_treatment_form_puts_each_error_on_its_field(desk, changes, field, message):
    course = make_course()
    performer = make_performer()
    mrn = course.case.patient.mrn
    changes = {k: v.format(mrn=mrn) if isinstance(v, str) else v for k, v in changes.items()}

    response = desk.post(f"/desk/cases/{course.case_id}/treatment/", entry_form(course, performer, **changes))

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert any(message in text for text in errors[field]), errors
    assert f'href="#field-{field}"' in page(response)  # the summary links to the field
    assert not TreatmentEntry.objects.filter(course=course).exists()


def test_an_entry_is_corrected_until_it_is_signed_then_never(desk):
    course = make_course()
    performer = make_performer("dr_lima")
    desk.post(f"/desk/cases/{course.case_id}/treatment/", entry_form(course, performer))
    entry = TreatmentEntry.objects.get(course=course)
    assert 'value="LOT-2026-0142"' in page(desk.get(f"/desk/cases/{course.case_id}/treatment/{entry.pk}/"))
    fixed = entry_form(course, performer, lot="LOT-2026-0143")
    desk.post(f"/desk/cases/{course.case_id}/treatment/{entry.pk}/", fixed)
    (entry,) = TreatmentEntry.objects.filter(course=course)
    assert entry.lot == "LOT-2026-0143"
    sign_treatment(user=performer, entry_id=entry.pk)

    response = desk.get(f"/desk/cases/{course.case_id}/treatment/{entry.pk}/", follow=True)
    assert "This record is signed: it cannot change." in page(response)
    case_page = page(desk.get(f"/desk/cases/{course.case_id}/"))
    assert 'id="course-state">Treated<' in case_page
    assert "Treatment record signed (session 1)" in case_page  # the timeline
    assert "LOT-2026-0143" in case_page and "Dr. Dr_Lima, MD" in case_page
    full = page(desk.get(f"/desk/cases/{course.case_id}/course/"))
    assert "BMAC-7Q4K-0091" in full and "1200000000 total nucleated cells" in full
    assert desk.get(f"/desk/cases/{course.case_id}/treatment/{uuid.uuid4()}/").status_code == 404


def test_cancelling_says_it_cannot_be_undone_and_asks_a_reason(desk):
    course = make_course()
    confirm = page(desk.get(f"/desk/cases/{course.case_id}/course/cancel/"))
    assert "this cannot be undone" in confirm

    refused = desk.post(f"/desk/cases/{course.case_id}/course/cancel/", {"reason": "  "})
    assert refused.status_code == 400 and "Say why the course is cancelled" in page(refused)
    course.refresh_from_db()
    assert course.state == "scheduled"

    done = desk.post(
        f"/desk/cases/{course.case_id}/course/cancel/", {"reason": "Patient chose surgery."}, follow=True
    )
    assert "The treatment course is now cancelled." in page(done)
    assert "Cancelled: Patient chose surgery." in page(done)  # the timeline
    again = desk.get(f"/desk/cases/{course.case_id}/course/cancel/", follow=True)
    assert "it cannot be cancelled now" in page(again)


def test_a_course_is_completed_only_once_treated(desk):
    course = make_course()
    early = desk.get(f"/desk/cases/{course.case_id}/course/complete/", follow=True)
    assert "it cannot be completed now" in page(early)
    make_signed_treatment(course)

    assert "this cannot be undone" in page(desk.get(f"/desk/cases/{course.case_id}/course/complete/"))
    desk.post(f"/desk/cases/{course.case_id}/course/complete/", {"note": "Follow-up done elsewhere."})
    course.refresh_from_db()
    assert course.state == "completed"


def test_a_staff_report_on_an_ind_case_opens_a_clock_shown_on_the_case_board_and_sheet(desk):
    course = make_course(route="intravenous")  # heart failure under hf-msc-ind (sponsor-investigator)
    make_signed_treatment(course)

    response = desk.post(f"/desk/cases/{course.case_id}/adverse-events/new/", ae_form(), follow=True)

    event = AdverseEvent.objects.get(course=course)
    assert response.redirect_chain[-1][0] == f"/desk/adverse-events/{event.pk}/"
    clocks = ReportingClock.objects.filter(adverse_event=event, state="open")
    assert clocks.exists()
    case_page = page(desk.get(f"/desk/cases/{course.case_id}/"))
    assert "Adverse event: reported" in case_page and "grade 3 (severe)" in case_page
    assert "Report to" in case_page and "due in" in case_page
    board = page(desk.get("/desk/"))
    assert "Open reporting clocks" in board and course.case.reference in board.split("g-courses")[0]
    sheet = page(desk.get(f"/desk/adverse-events/{event.pk}/medwatch/"))
    assert course.case.reference in sheet
    export = desk.get(f"/desk/adverse-events/{event.pk}/export.json")
    assert export["Content-Disposition"].startswith('attachment; filename="adverse-event-')
    assert export.json()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"onset": ""}, "onset", "Enter the onset date."),
        ({"onset": "2099-01-01"}, "onset", "future"),
        ({"ctcae_grade": "7"}, "ctcae_grade", "Select a valid choice"),
        ({"serious": ""}, "serious", "Answer yes or no."),
        ({"serious": "yes", "seriousness_criteria": []}, "seriousness_criteria", ""),
        ({"description": ""}, "description", "Describe what happened."),
        ({"description": "x" * 5001}, "description", "the limit is 5,000"),
    ],
)
def test_the_adverse_event_form_says_what_to_fix(desk, changes, field, message):
    course = make_course(route="intravenous")
    response = desk.post(f"/desk/cases/{course.case_id}/adverse-events/new/", ae_form(**changes))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors and any(message in text for text in errors[field]), errors
    assert not AdverseEvent.objects.filter(course=course).exists()


def test_recording_a_submission_closes_its_clock_once(desk):
    course = make_course(route="intravenous")
    desk.post(f"/desk/cases/{course.case_id}/adverse-events/new/", ae_form())
    event = AdverseEvent.objects.get(course=course)
    clock = ReportingClock.objects.filter(adverse_event=event, state="open").first()
    form = {
        "submission_key": str(uuid.uuid4()),
        "clock": str(clock.pk),
        "submitted_on": f"{timezone.localdate():%Y-%m-%d}",
        "recipient": "FDA (MedWatch)",
        "reference": "MW-2026-0001",
    }
    bad = desk.post(
        f"/desk/adverse-events/{event.pk}/", form | {"reference": "", "submission_key": str(uuid.uuid4())}
    )
    assert bad.status_code == 400 and "Enter the reference." in page(bad)
    early = desk.post(f"/desk/adverse-events/{event.pk}/", form | {"submitted_on": "2001-01-01"})
    assert early.status_code == 400
    assert "learned of this adverse event on" in early.context["bound"].errors["submitted_on"][0]

    desk.post(f"/desk/adverse-events/{event.pk}/", form)
    again = desk.post(f"/desk/adverse-events/{event.pk}/", form, follow=True)

    clock.refresh_from_db()
    assert clock.state == "submitted" and clock.submission_reference == "MW-2026-0001"
    assert "This form was sent twice; it was saved once." in page(again)
    other = form | {"clock": str(uuid.uuid4()), "submission_key": str(uuid.uuid4())}
    assert desk.post(f"/desk/adverse-events/{event.pk}/", other).status_code == 404


def test_a_submission_on_the_day_the_event_arrived_is_not_refused_for_the_hour_never_asked(desk):
    course = make_course(route="intravenous")
    desk.post(f"/desk/cases/{course.case_id}/adverse-events/new/", ae_form())
    event = AdverseEvent.objects.get(course=course)
    evening = timezone.localtime().replace(hour=18, minute=30, second=0, microsecond=0) - timedelta(days=1)
    AdverseEvent.objects.filter(pk=event.pk).update(received_at=evening)
    clock = ReportingClock.objects.filter(adverse_event=event, state="open").first()
    form = {"clock": str(clock.pk), "recipient": "FDA", "reference": "MW-1"}
    form["submission_key"] = str(uuid.uuid4())

    desk.post(f"/desk/adverse-events/{event.pk}/", form | {"submitted_on": f"{evening:%Y-%m-%d}"})

    clock.refresh_from_db()
    assert (clock.state, clock.submitted_at) == ("submitted", evening)


def test_sandbox_courses_and_events_never_show_on_the_desk(desk):
    course = make_course(sandbox=True)
    assert course.case.reference not in page(desk.get("/desk/"))
    assert desk.get(f"/desk/adverse-events/{uuid.uuid4()}/").status_code == 404
    assert desk.get("/desk/adverse-events/not-a-uuid/").status_code == 404


JUNK = {
    "submission_key": "x",
    "session": ["1", "2"],
    "performer": "'; drop table",
    "onset": "\x00",
    "clock": "[]",
}


@pytest.mark.parametrize("path", ["course/schedule/", "course/cancel/", "treatment/", "adverse-events/new/"])
def test_no_input_makes_a_server_error(desk, path):
    course = make_course()
    for body in (
        JUNK,
        {name: "\u202e\u200b\U0001f642" * 3 for name in JUNK},
        {"appointment_date": "9" * 500},
    ):
        response = desk.post(f"/desk/cases/{course.case_id}/{path}", body)
        assert response.status_code in (200, 302, 400), response.status_code
    course.refresh_from_db()
    assert (course.state, course.appointment_at) == ("scheduled", None)


def test_an_overdue_clock_says_so_in_words_first_on_the_board(desk):
    course = make_course(route="intravenous")
    desk.post(f"/desk/cases/{course.case_id}/adverse-events/new/", ae_form())
    # Two days and a bit after its deadline (the clock's due time moved back, as time passing would).
    late = ReportingClock.objects.filter(adverse_event__course=course, rule="ind_safety_report_15_day")
    late.update(due_at=timezone.now() - timedelta(days=2, hours=3))

    board = page(desk.get("/desk/"))
    clocks = board.split('id="g-clocks"')[1].split('id="g-courses"')[0]
    assert clocks.index("Overdue by 2 days") < clocks.index("Due in")  # overdue first
    assert "1 overdue: report now, then record the submission." in board
    case_page = page(desk.get(f"/desk/cases/{course.case_id}/"))
    assert '<span class="badge overdue">Overdue</span>' in case_page and "overdue by 2 days" in case_page


@pytest.mark.parametrize(
    ("delta", "words"),
    [
        (timedelta(seconds=20), "1 minute"),
        (timedelta(hours=3, minutes=10), "3 hours"),
        (timedelta(days=1, hours=4), "1 day 4 hours"),
        (timedelta(days=14, hours=23, minutes=59), "15 days"),
    ],
)
def test_due_times_are_said_as_a_person_says_them(delta, words):
    from clinic.web.desk.aftercare_display import due_words, span

    assert span(delta) == words
    now = timezone.now()
    assert due_words(now - delta, now) == (f"overdue by {words}", True)
    assert due_words(now + delta, now) == (f"due in {words}", False)
