"""The patient's follow-up page at /f/<token>, through Django's test client on the real database:
answers saved page by page (and one by one, as the page's script sends them) and restored when
the link is opened again, what the page says when an answer is missing, the check-your-answers
step, and links refused when used, expired, altered or junk, each with a kind page."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from clinic.aftercare import follow_up
from clinic.aftercare.models import AdverseEvent, ContactOptOut, FormResponse, Invitation, TimePoint
from tests.aftercare.factories import make_course

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.web.patient.urls")]

KOOS = [f"koos_jr_{n}" for n in range(1, 8)]
NOT_VALID = "This link is not valid"


def baseline_link(**course) -> tuple[TimePoint, str]:
    """A knee course's baseline (its protocol asks pain_nrs and koos_jr) and the link's token."""
    course = make_course(**course)
    point = next(p for p in follow_up.schedule_follow_up(course) if p.day == 0)
    _, token = follow_up.issue_invitation(time_point_id=point.pk)
    return point, token


def url(token: str, tail: str = "") -> str:
    return f"/f/{token}{tail}"


def answer_everything(client: Client, token: str, *, pain: str = "7", koos: str = "3") -> None:
    assert client.post(url(token, "?page=1"), {"page": "1", "pain_nrs.pain_nrs": pain}).status_code == 302
    page2 = {"page": "2"} | {f"koos_jr.{link_id}": koos for link_id in KOOS}
    assert client.post(url(token, "?page=2"), page2).status_code == 302


def test_the_link_opens_the_first_page_without_a_name_and_with_the_sites_headers(client, settings):
    settings.CLINIC_NAME = "Riverside Joint Clinic"
    point, token = baseline_link()
    patient = point.case.patient

    response = client.get(url(token), secure=True)

    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="en">' in html
    assert "<title>Your follow-up questions · Riverside Joint Clinic</title>" in html
    assert patient.family_name not in html and patient.given_name not in html
    assert "Page 1 of 3: questions 1 to 1 of 9" in html
    assert "Question 1 of 9" in html
    assert "how much pain have you had in the treated area?" in html
    assert html.count('type="radio" name="pain_nrs.pain_nrs"') == 11  # 0 to 10, each a labelled radio
    assert "<legend>" in html and 'class="visually-hidden">: No pain' in html
    assert "Stop follow-up emails" in html
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "same-origin"  # the token never leaves in a Referer
    assert Invitation.objects.get(time_point=point).opened_at is not None


def test_answers_are_saved_page_by_page_and_restored_when_the_link_is_reopened(client):
    point, token = baseline_link()
    first = client.post(url(token, "?page=1"), {"page": "1", "pain_nrs.pain_nrs": "6"})
    assert first.status_code == 302 and first["Location"].endswith("?page=2&saved=1")

    # Three of KOOS JR's seven answered: those are kept, the page says which are missing.
    partial = {"page": "2", "koos_jr.koos_jr_1": "2", "koos_jr.koos_jr_2": "1", "koos_jr.koos_jr_3": "4"}
    response = client.post(url(token, "?page=2"), partial)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Please check these answers" in html
    assert html.count("Choose an answer to this question.") == 2 * 4  # the summary and each question
    assert '<a href="#q-5">Question 5: Choose an answer to this question.</a>' in html
    saved = {r.instrument: r.answers for r in FormResponse.objects.filter(time_point=point)}
    assert saved == {"pain_nrs": {"pain_nrs": 6}, "koos_jr": {"koos_jr_1": 2, "koos_jr_2": 1, "koos_jr_3": 4}}

    reopened = Client().get(url(token)).content.decode()  # another browser, days later
    assert "Page 2 of 3" in reopened  # where the patient left off
    assert 'name="koos_jr.koos_jr_1" value="2" checked' in reopened
    assert 'name="koos_jr.koos_jr_3" value="4" checked' in reopened
    assert 'name="koos_jr.koos_jr_4" value="1" checked' not in reopened
    page1 = Client().get(url(token, "?page=1")).content.decode()
    assert 'name="pain_nrs.pain_nrs" value="6" checked' in page1


def test_an_answer_the_instrument_does_not_offer_is_refused_and_the_others_kept(client):
    point, token = baseline_link()
    posted = {"page": "2"} | {f"koos_jr.{link_id}": "1" for link_id in KOOS} | {"koos_jr.koos_jr_4": "9"}

    html = client.post(url(token, "?page=2"), posted).content.decode()

    assert "Question 5:" in html  # koos_jr_4 is the fifth question of the form
    answers = FormResponse.objects.get(time_point=point, instrument="koos_jr").answers
    assert answers == {link_id: 1 for link_id in KOOS if link_id != "koos_jr_4"}


def test_each_answer_is_saved_as_it_is_chosen_with_the_csrf_token():
    point, token = baseline_link()
    browser = Client(enforce_csrf_checks=True)
    browser.get(url(token))
    csrf = browser.cookies["csrftoken"].value
    one = {"instrument": "koos_jr", "link_id": "koos_jr_2", "value": "3"}

    assert browser.post(url(token, "/answer"), one).status_code == 403  # no token, no save
    saved = browser.post(url(token, "/answer"), one, headers={"X-CSRFToken": csrf})
    wrong = browser.post(url(token, "/answer"), one | {"value": "7"}, headers={"X-CSRFToken": csrf})
    elsewhere = browser.post(
        url(token, "/answer"), one | {"instrument": "hoos_jr"}, headers={"X-CSRFToken": csrf}
    )

    assert (saved.status_code, saved.json()) == (200, {"saved": True})
    assert wrong.status_code == 400 and wrong.json()["message"]
    assert (
        elsewhere.status_code == 400 and elsewhere.json()["message"] == "That question is not on this form."
    )
    assert FormResponse.objects.get(time_point=point, instrument="koos_jr").answers == {"koos_jr_2": 3}


def test_the_last_page_says_what_is_missing_before_anything_is_sent(client):
    point, token = baseline_link()
    client.post(url(token, "?page=1"), {"page": "1", "pain_nrs.pain_nrs": "5"})

    nothing = client.post(url(token, "/send"), {}).content.decode()
    answer_everything(client, token)
    no_story = client.post(
        url(token, "/send"), {"unexpected": "yes", "unexpected_text": "  "}
    ).content.decode()

    assert "Question 2 is not answered yet." in nothing and "Question 8 is not answered yet." in nothing
    assert f'href="/f/{token}?page=2#q-2"' in nothing
    assert "Question 9: Answer yes or no." in nothing
    assert "Tell us briefly what happened, or answer no." in no_story
    assert "is not answered yet" not in no_story
    assert TimePoint.objects.get(pk=point.pk).state != TimePoint.State.COMPLETED


def test_sending_asks_to_check_the_answers_then_thanks_and_the_link_is_refused_when_reused(client, settings):
    settings.CLINIC_PHONE = "(555) 010-2000"
    point, token = baseline_link()
    answer_everything(client, token, pain="7", koos="3")

    check = client.post(url(token, "/send"), {"unexpected": "no"})
    html = check.content.decode()
    assert "Check your answers before sending" in html
    assert html.count("Severe") == 7 and "Send my answers" in html
    assert TimePoint.objects.get(pk=point.pk).state != TimePoint.State.COMPLETED  # not yet

    sent = client.post(url(token, "/send"), {"unexpected": "no", "confirmed": "1"})
    assert sent.status_code == 302 and sent["Location"] == "/f/thank-you"
    thanks = client.get(sent["Location"])
    assert thanks.status_code == 200 and "your answers have been sent" in thanks.content.decode()
    assert TimePoint.objects.get(pk=point.pk).state == TimePoint.State.COMPLETED
    assert FormResponse.objects.get(time_point=point, instrument="koos_jr").score is not None

    reopened = client.get(url(token))
    again = client.post(url(token, "/send"), {"unexpected": "no", "confirmed": "1"})
    late_answer = client.post(
        url(token, "/answer"), {"instrument": "pain_nrs", "link_id": "pain_nrs", "value": "1"}
    )
    page = reopened.content.decode()
    assert reopened.status_code == 410 and again.status_code == 410
    assert "These answers have already been sent" in page
    assert 'call the clinic at <a class="phone" href="tel:5550102000">(555) 010-2000</a>' in page
    assert late_answer.status_code == 410 and late_answer.json()["refused"] is True
    assert FormResponse.objects.get(time_point=point, instrument="pain_nrs").answers == {"pain_nrs": 7}


def test_yes_to_something_unexpected_becomes_a_report_for_staff(client):
    point, token = baseline_link()
    answer_everything(client, token)
    story = "My knee swelled up and got hot two days ago."

    check = client.post(url(token, "/send"), {"unexpected": "yes", "unexpected_text": story}).content.decode()
    back = client.post(url(token, "/send"), {"unexpected": "yes", "unexpected_text": story, "back": "1"})
    sent = client.post(url(token, "/send"), {"unexpected": "yes", "unexpected_text": story, "confirmed": "1"})

    assert f"Yes: {story}" in check
    assert story in back.content.decode()  # going back keeps what was written
    assert sent["Location"] == "/f/thank-you?reported=1"
    assert "will read it and contact you" in client.get(sent["Location"]).content.decode()
    report = AdverseEvent.objects.get(course=point.course)
    assert report.description == story


def test_an_expired_link_is_refused_kindly(client):
    point, token = baseline_link()
    Invitation.objects.filter(time_point=point).update(expires_at=timezone.now() - timedelta(minutes=1))

    response = client.get(url(token))

    assert response.status_code == 410
    html = response.content.decode()
    assert "This link has expired" in html and "call Regenerative Medicine Clinic." in html
    assert client.post(url(token, "?page=1"), {"page": "1", "pain_nrs.pain_nrs": "2"}).status_code == 410
    assert not FormResponse.objects.filter(time_point=point).exists()


@pytest.mark.parametrize(
    "tail",
    [
        "ALTERED",  # one character of a real token changed
        "A" * 43,  # the right shape, never issued
        "x" * 5000,
        "%C3%A9t%C3%A9-%E2%9C%93-%F0%9F%98%80",
        "abc%00def",
        "%00",
        "..%2F..%2Fetc%2Fpasswd",
        "a/b/c",
        "thank-you/more",
    ],
)
def test_altered_and_junk_tokens_get_the_same_not_valid_page(client, tail):
    point, token = baseline_link()
    if tail == "ALTERED":
        tail = token[:-1] + ("A" if token[-1] != "A" else "B")

    response = client.get(f"/f/{tail}")
    posted = client.post(f"/f/{tail}/answer", {"instrument": "pain_nrs", "link_id": "pain_nrs", "value": "1"})

    assert response.status_code == 404
    html = response.content.decode()
    assert NOT_VALID in html and "expired" not in html and "already been sent" not in html
    assert posted.status_code == 404
    assert not FormResponse.objects.filter(time_point=point).exists()


def test_a_patient_can_stop_follow_up_emails_from_the_link(client):
    point, token = baseline_link()
    patient = point.case.patient
    patient.email = "pat.k@example.org"
    patient.save(update_fields=["email"])

    ask = client.get(url(token, "/stop-emails"))
    assert "Stop follow-up emails?" in ask.content.decode()
    assert not ContactOptOut.objects.exists()  # asking is not doing
    done = client.post(url(token, "/stop-emails"))

    html = done.content.decode()
    assert done.status_code == 200 and "You will not get more follow-up emails" in html
    assert f'href="/f/{token}"' in html  # this time's questions can still be answered
    assert ContactOptOut.objects.filter(patient=patient, reason=ContactOptOut.Reason.OPTED_OUT).count() == 1
    assert client.get(url(token)).status_code == 200


def test_an_altered_token_cannot_be_told_from_one_never_issued(client):
    _, token = baseline_link()
    altered = token[:-1] + ("A" if token[-1] != "A" else "B")

    pages = [client.get(f"/f/{tail}") for tail in (altered, "B" * 43, "junk")]

    assert {page.status_code for page in pages} == {404}
    assert pages[0].content == pages[1].content == pages[2].content


@pytest.mark.parametrize(
    "junk",
    [
        {"page": "9" * 5000, "pain_nrs.pain_nrs": "1"},
        {"page": "1", "pain_nrs.pain_nrs": "nan"},
        {"page": "1", "pain_nrs.pain_nrs": "1e400"},
        {"page": "1", "pain_nrs.pain_nrs": "\x00"},
        {"page": "1", "pain_nrs.pain_nrs": "é" * 3000},
    ],
)
def test_junk_answers_are_refused_in_words(client, junk):
    point, token = baseline_link()

    response = client.post(url(token), junk)

    assert response.status_code in (200, 302)
    assert not FormResponse.objects.filter(time_point=point).exclude(answers={}).exists()


def test_junk_in_the_last_answer_never_breaks_the_page(client):
    point, token = baseline_link()
    answer_everything(client, token)

    response = client.post(
        url(token, "/send"),
        {"unexpected": "yes", "unexpected_text": "swelling\x00 at night", "confirmed": "1"},
    )

    assert response.status_code == 200
    assert "Something in this text cannot be saved; please type it again." in response.content.decode()
    assert TimePoint.objects.get(pk=point.pk).state != TimePoint.State.COMPLETED


@pytest.mark.parametrize(
    "junk",
    [
        {"instrument": "pain_nrs", "link_id": "\x00", "value": "1"},
        {"instrument": "pain_nrs", "link_id": "pain_nrs", "value": "\x00"},
        {"instrument": "\x00", "link_id": "pain_nrs", "value": "1"},
        {"instrument": "pain_nrs", "link_id": "pain_nrs", "value": "é" * 3000},
        {"instrument": "pain_nrs"},
    ],
)
def test_junk_sent_as_one_answer_is_refused_in_words(client, junk):
    point, token = baseline_link()

    response = client.post(url(token, "/answer"), junk)

    assert response.status_code == 400 and response.json()["message"]
    assert not FormResponse.objects.filter(time_point=point).exclude(answers={}).exists()
