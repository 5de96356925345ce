"""The desk's follow-up: the time points on the case page in words (never the patient's link), the
baseline and a later day recorded at the desk or by phone with their scores, change and responder
status and the chart, bad answers refused on their questions, a double send recorded once, the
follow-up call list in order of what is due with why each patient is on it, and "unreachable"."""

import re
import uuid
from datetime import timedelta

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.utils import timezone

from clinic.aftercare import follow_up
from clinic.aftercare.models import ContactOptOut, FollowUpEvent, FormResponse, Invitation, TimePoint
from tests.aftercare.factories import make_course, make_signed_treatment
from tests.factories import make_patient, make_user
from tests.support import at_once, committed_db

pytestmark = pytest.mark.django_db
KOOS = [f"koos_jr_{n}" for n in range(1, 8)]


def page(response) -> str:
    return response.content.decode()


def text(response) -> str:
    """The page's words, tags dropped and white space folded, as a person reads them."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page(response)))


def knee_course(**patient):
    """A knee course (pain_nrs and koos_jr on days 0, 42, 91, 182, 365); the patient has a phone and,
    unless told, no email address, so the baseline went straight to the call list."""
    return make_course(patient=make_patient(phone="+1 555 0100", **patient))


def point(course, day: int) -> TimePoint:
    return TimePoint.objects.get(course=course, day=day)


def answers(pain: int, koos: int, *, source: str = "desk", **changes) -> dict:
    form = {"submission_key": str(uuid.uuid4()), "source": source, "pain_nrs__pain_nrs": str(pain)}
    form |= {f"koos_jr__{link_id}": str(koos) for link_id in KOOS}
    return form | changes


def answer_url(course, day: int) -> str:
    return f"/desk/cases/{course.case_id}/follow-up/{day}/answers/"


def treated(course, *, due_in_days: int = 0) -> None:
    """The first session signed; day 42 made due `due_in_days` from today."""
    make_signed_treatment(course)
    TimePoint.objects.filter(course=course, day=42).update(
        due_on=timezone.localdate() + timedelta(due_in_days)
    )


def test_the_case_page_says_each_time_point_in_words_and_never_shows_the_link(desk):
    course = knee_course(email="ana@example.org")
    invitation = Invitation.objects.get(time_point=point(course, 0))
    token = follow_up.token_for(invitation)

    response = desk.get(f"/desk/cases/{course.case_id}/")
    words = text(response)
    assert "Follow-up" in words and 'id="follow-up"' in page(response)
    assert "Baseline · before treatment · due " in words
    assert "the email is waiting to be sent" in words
    assert "Day 42 · 6 weeks after treatment · due dated once the treatment is recorded" in words
    assert "Day 365 · 1 year after treatment" in words and "Not due yet" in words
    assert token not in page(response) and "/f/" not in page(response)
    # The follow-up's steps are in the case's timeline.
    assert "Follow-up: link sent" in words and "Follow-up scheduled" in words

    other = knee_course()
    words = text(desk.get(f"/desk/cases/{other.case_id}/"))
    assert "On the call list since" in words and "No email address on file" in words


def test_the_desk_records_the_baseline_then_a_phone_answer_shows_responder_and_chart(desk):
    course = knee_course()
    response = desk.get(answer_url(course, 0))
    assert response.status_code == 200
    words = text(response)
    # The published wording, its instruction and its answers; the pain scale's anchors.
    assert "How severe is your knee stiffness after first wakening in the morning?" in words
    assert "Stiffness is a sensation of restriction" in words
    for label in ("None", "Mild", "Moderate", "Severe", "Extreme", "0 (No pain)", "10 (Worst possible pain)"):
        assert label in words

    response = desk.post(answer_url(course, 0), answers(7, 3), follow=True)
    assert "Baseline recorded (at the desk). KOOS, JR. (knee): 34.174; Pain rating, 0 to 10: 7." in text(
        response
    )
    assert point(course, 0).state == TimePoint.State.COMPLETED
    assert set(FormResponse.objects.filter(time_point=point(course, 0)).values_list("source", flat=True)) == {
        "desk"
    }

    treated(course)
    response = desk.post(answer_url(course, 42), answers(3, 1, source="phone"), follow=True)
    words = text(response)
    assert "Day 42 recorded (by phone)." in words
    assert "Pain rating, 0 to 10: 3 (4 points better than the baseline, responder)" in words
    assert "KOOS, JR. (knee): 68.284 (34.1 points better than the baseline, responder)" in words
    # The case page: the day in words, each score with its change and responder status, the chart.
    assert "Answered " in words and " by phone" in words
    assert "Pain rating, 0 to 10 : 3 (0 to 10) · 4 points better than the baseline · Responder" in words
    assert "KOOS, JR. (knee) : 68.284 (0 to 100) · 34.1 points better than the baseline · Responder" in words
    html = page(response)
    assert html.count('<svg class="chart"') == 2
    assert '<title id="chart-pain_nrs-title">Pain rating, 0 to 10: score by day</title>' in html
    assert "Day 42: 3, 4 points better than the baseline, responder." in html  # the chart's desc
    assert "responder at 5 or less" in html and "baseline 7" in html
    assert '<g class="point is-responder">' in html
    assert '<th scope="row">Day 42</th><td>68.284</td>' in html  # the table beside the chart


def test_no_mcid_no_baseline_and_worsening_are_said_in_words(desk):
    course = knee_course()
    TimePoint.objects.filter(course=course).update(instruments=["pain_nrs", "sane"])
    desk.post(
        answer_url(course, 0),
        {"submission_key": str(uuid.uuid4()), "source": "desk"}
        | {"pain_nrs__pain_nrs": "2", "sane__sane": "50"},
    )
    treated(course)
    TimePoint.objects.filter(course=course, day=42).update(instruments=["pain_nrs", "sane", "koos_jr"])
    desk.post(answer_url(course, 42), answers(5, 0) | {"sane__sane": "60"})
    words = text(desk.get(f"/desk/cases/{course.case_id}/"))
    assert "Pain rating, 0 to 10 : 5 (0 to 10) · 3 points worse than the baseline · Worsened" in words
    sane = "Single assessment numeric evaluation (SANE) : 60 (0 to 100) · 10 points better than the baseline"
    assert f"{sane} · No MCID for this instrument" in words
    assert "KOOS, JR. (knee) : 100 (0 to 100) · No baseline to compare with" in words
    assert "no MCID for this instrument" in words  # the SANE chart's caption


def test_bad_answers_get_messages_on_their_questions_and_record_nothing(desk):
    course = knee_course()
    missing = {
        key: value for key, value in answers(7, 3).items() if key not in ("source", "koos_jr__koos_jr_4")
    }
    response = desk.post(answer_url(course, 0), missing | {"koos_jr__koos_jr_2": "9"})
    assert response.status_code == 400
    html = page(response)
    assert "Say whether the patient answered at the desk or by phone." in html
    assert re.search(r'id="field-koos_jr__koos_jr_4".*?Choose an answer to this question\.', html, re.S)
    assert re.search(r'id="field-koos_jr__koos_jr_2".*?Choose one of the answers offered\.', html, re.S)
    assert "answers need your attention" in html

    # A long scale (SANE, 0-100) is a number box, checked by the follow-up's own rule.
    TimePoint.objects.filter(pk=point(course, 0).pk).update(instruments=["sane"])
    response = desk.post(
        answer_url(course, 0), {"submission_key": str(uuid.uuid4()), "source": "desk", "sane__sane": "140"}
    )
    assert response.status_code == 400
    assert re.search(r'id="field-sane__sane".*?Give a whole number from 0 to 100\.', page(response), re.S)
    assert point(course, 0).state == TimePoint.State.CALL
    assert not FormResponse.objects.filter(time_point__course=course).exists()


def test_a_double_send_records_once(desk):
    course = knee_course()
    form = answers(6, 2)
    first = desk.post(answer_url(course, 0), form, follow=True)
    again = desk.post(answer_url(course, 0), form, follow=True)
    assert "Baseline recorded" in text(first)
    assert "This form was sent twice; it was saved once." in text(again)
    # Another tab's form (its own key): refused, nothing recorded twice.
    other_tab = desk.post(answer_url(course, 0), answers(1, 1), follow=True)
    assert "The baseline is already answered; nothing was changed." in text(other_tab)
    answered = FollowUpEvent.objects.filter(time_point=point(course, 0), kind=FollowUpEvent.Kind.ANSWERED)
    assert answered.count() == 2  # one per instrument
    assert FormResponse.objects.get(time_point=point(course, 0), instrument="pain_nrs").score == 6


def test_the_call_list_puts_the_longest_due_first_and_says_why(desk):
    no_email = knee_course(given_name="Nora", family_name="Noemail")
    opted = knee_course(given_name="Otto", family_name="Optout", email="otto@example.org")
    ContactOptOut.objects.create(patient=opted.case.patient, email="otto@example.org", reason="opted_out")
    follow_up.to_call_list(
        time_point_id=point(opted, 0).pk, note="Not emailed: the patient's address opted out"
    )
    Invitation.objects.filter(time_point=point(opted, 0)).update(delivery=Invitation.Delivery.OPTED_OUT)
    silent = knee_course(given_name="Sam", family_name="Silent", email="sam@example.org")
    Invitation.objects.filter(time_point=point(silent, 0)).update(
        delivery=Invitation.Delivery.SENT, sent_at=timezone.now() - timedelta(days=10), reminders_sent=2
    )
    follow_up.to_call_list(
        time_point_id=point(silent, 0).pk,
        note="No answer 10 days after the link for the baseline and 2 reminders",
    )
    today = timezone.localdate()
    for course, days_ago in ((no_email, 1), (opted, 5), (silent, 3)):
        TimePoint.objects.filter(pk=point(course, 0).pk).update(due_on=today - timedelta(days=days_ago))

    response = desk.get("/desk/follow-up/calls/")
    words = text(response)
    assert words.index("Optout, Otto") < words.index("Silent, Sam") < words.index("Noemail, Nora")
    assert "The patient opted out of email" in words
    assert "No answer after the link and 2 reminders" in words
    assert "No email address on file" in words
    assert "+1 555 0100" in words and "Overdue" in words and "5 days ago" in words
    assert "Follow-up calls: 3" in words  # the nav
    assert f'href="/desk/cases/{opted.case_id}/follow-up/0/answers/?back=calls"' in page(response)
    assert "Follow-up calls: 3" in text(desk.get("/desk/"))

    # Recorded from the list, the page goes back to it and the patient leaves it.
    response = desk.post(answer_url(opted, 0), answers(5, 2, source="phone", back="calls"), follow=True)
    assert response.redirect_chain[-1][0] == "/desk/follow-up/calls/"
    assert "Optout, Otto" not in text(response) and "Follow-up calls: 2" in text(response)


def test_unreachable_says_what_follows_needs_a_note_and_records_it(desk):
    course = knee_course()
    url = f"/desk/cases/{course.case_id}/follow-up/0/unreachable/?back=calls"
    words = text(desk.get(url))
    assert "Record that the patient could not be reached?" in words
    assert "Without a baseline, later answers are scored but cannot be compared" in words

    response = desk.post(url, {"submission_key": str(uuid.uuid4()), "note": "  ", "back": "calls"})
    assert response.status_code == 400
    assert "Say what was tried" in page(response)
    assert point(course, 0).state == TimePoint.State.CALL

    note = "Called 3 times on different days; voicemail full."
    response = desk.post(
        url, {"submission_key": str(uuid.uuid4()), "note": note, "back": "calls"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/desk/follow-up/calls/"
    assert "Baseline recorded as unreachable." in text(response)
    assert point(course, 0).state == TimePoint.State.UNREACHABLE
    words = text(desk.get(f"/desk/cases/{course.case_id}/"))
    assert f"Unreachable (desk_ana, {timezone.localdate():%Y-%m-%d}): {note}" in words
    assert "Follow-up: unreachable by phone" in words


def test_a_later_day_says_the_follow_up_goes_on(desk):
    course = knee_course()
    treated(course)
    words = text(desk.get(f"/desk/cases/{course.case_id}/follow-up/42/unreachable/"))
    assert "The follow-up goes on: day 91, day 182, day 365 still to come." in words


def test_what_cannot_be_recorded_is_said_not_offered(desk):
    course = knee_course()
    response = desk.get(answer_url(course, 42), follow=True)
    assert "Day 42 counts from the treatment, which is not recorded yet." in text(response)
    assert desk.get(answer_url(course, 43)).status_code == 404
    assert desk.get(f"/desk/cases/{uuid.uuid4()}/follow-up/0/answers/").status_code == 404
    treated(course, due_in_days=10)
    words = text(desk.get(f"/desk/cases/{course.case_id}/"))
    # Day 42 is not due: no buttons for it; the treated course closed the unanswered baseline.
    assert "Record the answers for day 42" not in words
    assert "Closed unanswered" in words and "Treated before the baseline was answered" in words
    response = desk.get(answer_url(course, 0), follow=True)
    assert "Baseline is already closed unanswered: nothing to record." in text(response)


def test_a_protocol_without_follow_up_says_so(desk):
    course = make_course(route="intravenous")  # hf-msc-ind names days but no instrument installed
    words = text(desk.get(f"/desk/cases/{course.case_id}/"))
    assert "The protocol of this course names no follow-up." in words
    assert desk.get(answer_url(course, 0)).status_code == 404


def test_the_board_block_counts_the_calls():
    # desk/_board.html includes it: the count and the way to the list.
    html = render_to_string("desk/follow_up_board.html", {"follow_up_calls": 2})
    assert 'href="/desk/follow-up/calls/">Follow-up calls: 2</a>' in html
    assert "Nobody to call." in render_to_string("desk/follow_up_board.html", {"follow_up_calls": 0})


@committed_db
def test_sends_at_once_record_once():
    """A double click arriving together (one key) and two people at once (their own keys): the
    time point is answered once; every other send goes back with a message, never a 500."""
    course = knee_course()
    same = answers(6, 2)
    forms = [same, same, answers(5, 1), answers(4, 1)]
    clients = []
    for number in range(len(forms)):
        client = Client()
        client.force_login(make_user(f"desk_race{number}", group="Front desk"))
        clients.append(client)

    results = at_once(
        *[lambda c=c, f=f: c.post(answer_url(course, 0), f) for c, f in zip(clients, forms, strict=True)]
    )

    assert [response.status_code for response in results] == [302] * 4
    answered = FollowUpEvent.objects.filter(time_point=point(course, 0), kind=FollowUpEvent.Kind.ANSWERED)
    assert answered.count() == 2  # one per instrument, once
    assert FormResponse.objects.filter(time_point=point(course, 0), submitted_at__isnull=False).count() == 2
