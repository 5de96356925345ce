"""Words a person reads on the desk (issue #24, part 4): statuses said by who acts next, body sites
and fields by their labels in a specialist's question and on the timeline, one way of saying how
long ago, and an icon for the browser's tab."""

import html
import re
import uuid

import pytest
from django.contrib.staticfiles import finders
from django.test import RequestFactory

from clinic.web.desk.views import favicon
from intake.clinical import Answer, Consent
from intake.models import Case
from intake.services import answer_information
from intake.statuses import STATUS
from intake.workflow import SYSTEM, Actor, record_note
from recommendations import review
from recommendations.services import make_draft
from tests.factories import make_case, make_patient, make_user

# What the draft itself asks when a site lies outside the code's region (recommendations.engine.v3).
DRAFT_QUESTION = (
    "right_knee lies outside the body region of the given codes (M17.12: knee): give a code for that "
    "site, or correct the sites. The codes name the left side but right_knee is on the other: which "
    "side is affected?"
)


@pytest.fixture
def desk(client):
    client.force_login(make_user("desk_words", group="Front desk"))
    return client


def asked(question: str = "Which knee?", **case_fields) -> Case:
    case = make_case(**case_fields)
    make_draft(case_id=case.pk)
    review.request_information(case_id=case.pk, user=make_user(group="Specialists"), question=question)
    return Case.objects.get(pk=case.pk)


def text_of(page: str) -> str:
    """The page's words as a person reads them: no tags, one space between words."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def card_of(page: str, family_name: str) -> str:
    """The words of the board card of the patient with this family name."""
    cards = [card.split("</li>")[0] for card in page.split('<li class="card')[1:]]
    return text_of(next(card for card in cards if f"{family_name}," in card))


@pytest.mark.django_db
def test_a_case_waiting_for_the_desk_says_waiting_for_you_not_waiting_for_a_specialist(desk):
    case = asked()

    page = desk.get(f"/desk/cases/{case.pk}/").content.decode()

    assert 'aria-current="step">Waiting for you<' in page
    assert "Waiting for a specialist" not in page
    assert "Status: Waiting for you: answer the specialist's question" in text_of(page)
    assert "A specialist asks a question: answer it below" in page


@pytest.mark.django_db
def test_a_case_with_the_specialist_says_so_and_the_poll_uses_the_same_words(desk):
    case = make_case()
    make_draft(case_id=case.pk)

    page = desk.get(f"/desk/cases/{case.pk}/").content.decode()

    assert 'aria-current="step">Waiting for a specialist<' in page
    assert desk.get(f"/desk/cases/{case.pk}/status/").json() == {
        "status": "awaiting_review",
        "label": "Waiting for a specialist",
    }


@pytest.mark.django_db
def test_the_board_says_who_acts_next_on_each_card(desk):
    asked(patient=make_patient(family_name="Asked"))
    waiting = make_case(patient=make_patient(family_name="Waiting"))
    make_draft(case_id=waiting.pk)
    make_case(patient=make_patient(family_name="Drafting"))

    page = desk.get("/desk/").content.decode()

    assert "Waiting for you: answer the specialist's question" in card_of(page, "Asked")
    assert "Waiting for a specialist" in card_of(page, "Waiting")
    assert "Being drafted" in card_of(page, "Drafting")
    assert "Needs information" not in page and "Awaiting review" not in page


@pytest.mark.parametrize("status", list(STATUS))
def test_every_status_has_desk_words_and_only_the_desks_own_say_waiting_for_you(status):
    facts = STATUS[status]

    assert facts.desk_label and "_" not in facts.desk_label
    assert facts.desk_label.startswith("Waiting for you") == (
        facts.board_group in {"needs_information", "draft_failed"}
    )
    assert (facts.progress_label == "") == (facts.progress_step is None)


@pytest.mark.django_db
def test_the_question_names_body_sites_by_their_labels(desk):
    case = asked(DRAFT_QUESTION)

    page = desk.get(f"/desk/cases/{case.pk}/").content.decode()
    board = desk.get("/desk/").content.decode()

    question = page.split("<blockquote>")[1].split("</blockquote>")[0]
    assert "Right knee lies outside the body region" in question
    assert "but right knee is on the other" in question
    assert "right_knee" not in text_of(page)  # (it is the checkbox's value in the answer form)
    assert "Asks: Right knee lies outside" in board and "right_knee" not in board


@pytest.mark.django_db
def test_the_timeline_says_what_an_answer_changed_in_labels(desk):
    case = asked(DRAFT_QUESTION, condition_code="M17.12", affected_sites=["right_knee"])

    desk.post(
        f"/desk/cases/{case.pk}/answer/",
        {"answer": "The left knee, sorry", "affected_sites": ["left_knee"], "condition_code": "M17.12"},
    )

    note = Case.objects.get(pk=case.pk).events.order_by("id").last().note
    assert note == "Answer: The left knee, sorry (changed: affected sites now Left knee)"
    page = desk.get(f"/desk/cases/{case.pk}/").content.decode()
    assert "affected sites now Left knee" in page
    assert "affected_sites" not in page and "['left_knee']" not in page


@pytest.mark.django_db
def test_an_answer_that_records_consent_says_so_in_words():
    case = asked("Consent?", consent_obtained=False)
    consent = Answer(
        "Signed today",
        consent=Consent(obtained=True, by="guardian", form_version="v3"),
        findings={"kl_grade": 3},
    )

    answer_information(case=case, actor=Actor(label="desk"), answer=consent)

    note = case.events.order_by("id").last().note
    assert "consent now obtained" in note
    assert "consent given by a parent or guardian" in note
    assert "consent form version now v3" in note
    assert "Kellgren–Lawrence grade now 3" in note
    assert "_" not in note and "True" not in note


@pytest.mark.django_db
def test_a_note_written_before_labels_is_shown_in_labels(desk):
    case = make_case()
    # A timeline note as the services wrote it before (the stored text stays as it was).
    record_note(
        case=case,
        actor=SYSTEM,
        note="Answer: Left (changed: affected_sites now ['left_knee']; consent_obtained now True)",
    )

    page = desk.get(f"/desk/cases/{case.pk}/").content.decode()

    assert "Answer: Left (changed: affected sites now left knee; consent obtained now yes)" in page
    assert "affected_sites" not in page


@pytest.mark.django_db
def test_relative_times_are_said_one_way_on_the_board(desk):
    make_case(patient=make_patient(family_name="First"))
    make_case(patient=make_patient(family_name="Second"))

    page = desk.get("/desk/").content.decode()

    group = page.split('id="g-in_progress"')[1].split("</section>")[0]
    assert " since " not in text_of(group)
    times = re.findall(r"<time datetime=\"[^\"]+\" title=\"[^\"]+\">([^<]+)</time>", group)
    assert len(times) >= 3  # the oldest line and each card
    assert all(t == "just now" or t.endswith(" ago") for t in times)
    assert "Oldest waiting:" in group and "received <time" in group


@pytest.mark.django_db
def test_every_desk_page_names_its_icon_and_the_icon_is_there(desk):
    page = desk.get("/desk/").content.decode()

    assert re.search(r'<link rel="icon" href="/static/desk/favicon\.svg[^"]*" type="image/svg\+xml">', page)
    assert re.search(r'<link rel="icon" href="/static/desk/favicon\.ico[^"]*"', page)
    ico = finders.find("desk/favicon.ico")
    with open(ico, "rb") as file:
        assert file.read(4) == b"\x00\x00\x01\x00"  # an ICO file
    assert "<svg" in open(finders.find("desk/favicon.svg")).read()
    answer = favicon(RequestFactory().get("/favicon.ico"))
    assert answer.status_code == 302 and answer["Location"].startswith("/static/desk/favicon")


@pytest.mark.django_db
def test_an_unknown_case_page_is_not_found_rather_than_an_error(desk):
    assert desk.get(f"/desk/cases/{uuid.uuid4()}/").status_code == 404
