"""What a busy front-desk day meets in the forms (issue #24, part 4): a code box that takes a whole
search, limits a person sees and that never cut text, required markers where a field is or becomes
required, and an emoji in a name called an emoji."""

import html
import re
import uuid

import pytest

from intake.models import Case, Patient
from recommendations import review
from recommendations.services import make_draft
from tests.factories import make_case, make_patient, make_user
from tests.web.desk.test_pages import intake_form, patient_form


@pytest.fixture
def desk(client):
    client.force_login(make_user("desk_limits", group="Front desk"))
    return client


def field_block(page: str, name: str) -> str:
    return html.unescape(page.split(f'id="field-{name}"')[1].split('<div class="field')[0])


def input_tag(page: str, name: str) -> str:
    return re.search(rf'<(?:input|textarea)[^>]*name="{name}"[^>]*>', page).group(0)


@pytest.mark.django_db
def test_the_code_boxes_take_a_search_of_any_length(desk):
    page = desk.get(f"/desk/patients/{make_patient().pk}/intake/").content.decode()

    for name in ["condition_code", *(f"condition_{n}_code" for n in range(1, 6))]:
        tag = input_tag(page, name)
        assert "maxlength" not in tag and "data-code-search" in tag
        assert f'id="id_{name}_options" role="listbox"' in page
    assert 'id="condition-match"' in page and 'id="condition-match-3"' in page


@pytest.mark.django_db
def test_a_search_sent_instead_of_a_code_is_answered_with_the_codes_it_matches(desk):
    patient = make_patient()

    page = desk.post(
        f"/desk/patients/{patient.pk}/intake/", intake_form(condition_code="osteoarthritis of right knee")
    ).content.decode()

    error = field_block(page, "condition_code")
    assert "“osteoarthritis of right knee” is not an ICD-10 code but a search" in error
    assert "M17.11 (Unilateral primary osteoarthritis, right knee)" in error
    assert 'value="osteoarthritis of right knee"' in page  # kept whole, to correct
    assert not Case.objects.exists()


@pytest.mark.django_db
def test_the_code_search_reads_the_whole_phrase(desk):
    codes = [r["code"] for r in desk.get("/desk/codes/", {"q": "osteoarthritis of right knee"}).json()]

    assert "M17.11" in codes[:5]


@pytest.mark.django_db
def test_a_code_picked_from_the_search_is_stored_as_the_code(desk):
    patient = make_patient()

    desk.post(f"/desk/patients/{patient.pk}/intake/", intake_form(condition_code=" m17.11 "))

    assert Case.objects.get().condition_code == "M17.11"


@pytest.mark.django_db
def test_long_texts_show_their_limit_and_have_no_cutting_maxlength(desk):
    page = desk.get(f"/desk/patients/{make_patient().pk}/intake/").content.decode()

    for name, limit in [("notes", "5,000"), ("goals", "2,000"), ("condition_text", "500")]:
        tag = input_tag(page, name)
        assert "maxlength" not in tag
        assert f'data-limit="{limit.replace(",", "")}"' in tag
        block = field_block(page, name)
        assert f"Up to {limit} characters." in block
        assert f'id="id_{name}_counter" data-counter-for="id_{name}"' in block


@pytest.mark.django_db
def test_a_note_of_exactly_the_limit_is_kept_whole_with_its_line_breaks_and_emoji(desk):
    patient = make_patient()
    # 5,000 characters as the person counts them: 125 emoji (two UTF-16 units each, which a
    # browser's maxlength counted twice) and 100 line breaks (sent as CR LF).
    lines = ["\U0001f9b5" * 5 + "x" * 44 for _ in range(25)] + ["y" * 49 for _ in range(75)]
    note = "\n".join(lines)
    note += "z" * (5000 - len(note))
    assert len(note) == 5000

    desk.post(f"/desk/patients/{patient.pk}/intake/", intake_form(notes=note.replace("\n", "\r\n")))

    assert Case.objects.get().notes == note


@pytest.mark.django_db
def test_a_note_over_the_limit_is_refused_by_how_much_and_kept_whole_to_shorten(desk):
    patient = make_patient()
    note = "n" * 5003

    page = desk.post(f"/desk/patients/{patient.pk}/intake/", intake_form(notes=note)).content.decode()

    message = "This is 5,003 characters; the limit is 5,000. Shorten it by 3 characters: nothing was cut."
    assert message in field_block(page, "notes")
    assert note in page
    assert not Case.objects.exists()


@pytest.mark.django_db
def test_an_answer_and_a_withdrawal_reason_have_visible_limits_too(desk):
    case = make_case()

    page = desk.get(f"/desk/cases/{case.pk}/").content.decode()
    refused = desk.post(f"/desk/cases/{case.pk}/withdraw/", {"reason": "r" * 2001}).content.decode()

    assert 'data-limit="2000"' in input_tag(page, "reason") and "Up to 2,000 characters." in page
    assert "This is 2,001 characters; the limit is 2,000." in refused
    assert Case.objects.get(pk=case.pk).status == "received"


@pytest.mark.django_db
def test_required_fields_are_marked_and_so_are_those_consent_makes_required(desk):
    page = desk.get(f"/desk/patients/{make_patient().pk}/intake/").content.decode()

    assert "Fields marked" in page and "are required." in page
    code = field_block(page, "condition_code")
    assert '<span class="req" aria-hidden="true">*</span>' in code
    version = field_block(page, "consent_form_version")
    assert "(required if consent was obtained)" in version
    assert 'data-required-when="consent_obtained=yes" hidden>*</span>' in version
    assert "(required if consent was obtained)" in field_block(page, "consent_by")
    assert "(required" not in field_block(page, "goals")


@pytest.mark.django_db
def test_the_answer_form_marks_what_recording_consent_makes_required(desk):
    case = make_case()
    make_draft(case_id=case.pk)
    review.request_information(case_id=case.pk, user=make_user(group="Specialists"), question="Consent?")

    page = desk.get(f"/desk/cases/{case.pk}/").content.decode()

    version = field_block(page, "consent_form_version")
    assert "(required if you record consent now)" in version
    assert 'data-required-when="consent_obtained=on"' in version
    assert '<span class="req" aria-hidden="true">*</span>' in field_block(page, "answer")


def new_patient(desk, **fields):
    return desk.post("/desk/patients/new/", patient_form(**fields)).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "emoji",
    [
        "\U0001f44d\U0001f3fd",  # a thumbs up with a skin tone
        "\u2764\ufe0f",  # a heart with its emoji variation selector
        "\U0001f469\u200d\U0001f4bb",  # a woman technologist: a ZWJ sequence
        "\u200d\U0001f44d",  # what is left of a ZWJ sequence whose first part was deleted
    ],
)
def test_an_emoji_in_a_name_is_called_an_emoji_with_what_to_do(desk, emoji):
    page = new_patient(desk, given_name=f"Ana {emoji}")

    block = field_block(page, "given_name")
    assert f"cannot contain emoji ({emoji})" in block
    assert "Delete the emoji and type the rest as written on the patient's ID" in block
    assert "invisible" not in block and "U+200D" not in block and "U+FE0F" not in block
    assert not Patient.objects.exists()


@pytest.mark.django_db
def test_a_joiner_alone_is_still_an_invisible_character_and_says_what_to_do(desk):
    page = new_patient(desk, family_name="Sil\u200dva")

    block = field_block(page, "family_name")
    assert "U+200D ZERO WIDTH JOINER" in block and "type it again without" in block
    assert "emoji" not in block


@pytest.mark.django_db
def test_the_search_box_is_not_a_500_for_any_input(desk):
    for query in ["x" * 500, "\x00", "C-2026-", "31/31/2020", "\U0001f600"]:
        assert desk.get("/desk/patients/", {"q": query}).status_code in (200, 302)
    assert desk.get("/desk/codes/", {"q": "y" * 10_000}).status_code == 200
    assert desk.post(f"/desk/cases/{uuid.uuid4()}/withdraw/", {"reason": "x"}).status_code == 404
