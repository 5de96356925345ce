"""Names and identifiers refuse every invisible or filler character (Unicode's
Default_Ignorable_Code_Point, format, control and separator characters, blank look-alikes),
naming it, and refuse emoji as emoji; names in every script pass."""

import copy
import sys
import unicodedata
from datetime import date

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from clinic.web.api import throttle
from intake import text
from intake.models import Case, Patient
from intake.services import create_patient
from tests.factories import make_partner, make_user, referral_body
from tests.web.desk.test_pages import patient_form

# Each was accepted in a name before: none is Cf, Cc, Zl or Zp.
FILLERS = {
    "\u034f": "U+034F COMBINING GRAPHEME JOINER",
    "\u3164": "U+3164 HANGUL FILLER",
    "\u115f": "U+115F HANGUL CHOSEONG FILLER",
    "\uffa0": "U+FFA0 HALFWIDTH HANGUL FILLER",
    "\u17b4": "U+17B4 KHMER VOWEL INHERENT AQ",
    "\u2800": "U+2800 BRAILLE PATTERN BLANK",
    "\ufe0f": "U+FE0F VARIATION SELECTOR-16",
    "\U000e0100": "U+E0100 VARIATION SELECTOR-17",
    "\u2065": "U+2065 unassigned character",
}
EMOJI = [
    "\U0001f468\u200d\U0001f469\u200d\U0001f467",
    "\U0001f44d\U0001f3fd",
    "\U0001f1f5\U0001f1f9",
    "1\ufe0f\u20e3",
]
NAMES_IN_EVERY_SCRIPT = [
    ("Иван", "Петров"),
    ("Γιώργος", "Παπαδόπουλος"),
    ("محمد", "العلي"),
    ("娜", "李"),
    ("Thị Hồng", "Nguyễn"),
    ("Seán", "O'Brien-Núñez"),
    ("संजय", "शर्मा"),
]


@pytest.fixture(autouse=True)
def fresh_throttle():
    throttle.store(settings.CACHE_URL).reset()


def post_referral(*, given: str = "Ana", family: str = "Silva", external_id: str = "RF-1001"):
    body = copy.deepcopy(referral_body(external_id=external_id))
    body["patient"] |= {"given_name": given, "family_name": family}
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {make_partner()[1]}")
    return client.post("/api/v1/referrals/", body, format="json")


def errors_of(response) -> dict[str, str]:
    assert response.status_code == 400, response.content
    return {error["field"]: error["detail"] for error in response.json()["errors"]}


@pytest.mark.django_db
@pytest.mark.parametrize(("char", "named"), FILLERS.items())
def test_a_partner_name_or_id_with_a_filler_character_is_refused_naming_it(char, named):
    errors = errors_of(post_referral(family=f"Sil{char}va", external_id=f"RF-{char}1001"))

    assert named in errors["patient.family_name"] and "invisible" in errors["patient.family_name"]
    assert named in errors["external_id"]
    assert not Case.objects.exists()


@pytest.mark.django_db
def test_a_name_that_is_only_a_filler_is_refused_not_taken_as_written():
    errors = errors_of(post_referral(given="\u3164"))

    assert "U+3164 HANGUL FILLER" in errors["patient.given_name"]


@pytest.mark.django_db
@pytest.mark.parametrize("emoji", EMOJI)
def test_an_emoji_in_a_name_is_refused_as_an_emoji_not_as_an_invisible_character(emoji):
    errors = errors_of(post_referral(given=f"Ana {emoji}"))

    message = errors["patient.given_name"]
    assert "cannot contain emoji" in message and emoji in message
    assert "invisible" not in message and "U+200D" not in message


@pytest.mark.django_db
def test_a_joiner_outside_an_emoji_is_still_an_invisible_character():
    errors = errors_of(post_referral(given="Ana\u200d\U0001f44d", family="Sil\u200dva"))

    assert "cannot contain emoji" in errors["patient.given_name"]
    assert "U+200D ZERO WIDTH JOINER" in errors["patient.family_name"]


@pytest.mark.django_db
@pytest.mark.parametrize(("given", "family"), NAMES_IN_EVERY_SCRIPT)
def test_names_in_every_script_are_accepted(given, family):
    response = post_referral(given=given, family=family)

    assert response.status_code == 201, response.content
    assert Patient.objects.get().family_name == family


@pytest.mark.django_db
def test_the_desk_refuses_a_filler_and_an_emoji_naming_each(client):
    client.force_login(make_user(group="Front desk"))

    page = client.post(
        "/desk/patients/new/", patient_form(given_name="Ana \U0001f600", family_name="\u3164", mrn="M\u034f1")
    ).content.decode()

    assert "cannot contain emoji (\U0001f600)" in page
    assert "U+3164 HANGUL FILLER" in page and "U+034F COMBINING GRAPHEME JOINER" in page
    assert not Patient.objects.exists()


@pytest.mark.django_db
def test_the_service_refuses_them_whichever_door_calls_it():
    with pytest.raises(ValidationError) as refused:
        create_patient(
            given_name="Ana", family_name="Sil\u2800va", birth_date=date(1961, 4, 2), sex="female", mrn=""
        )

    assert "U+2800 BRAILLE PATTERN BLANK" in str(refused.value.message_dict["family_name"])


def test_the_default_ignorable_table_holds_unicodes_4174_code_points():
    # DerivedCoreProperties.txt (Unicode 14 to 16) counts 4,174 Default_Ignorable_Code_Point.
    assert sum(end - start + 1 for start, end in text.DEFAULT_IGNORABLE) == 4174
    assert all(a[1] < b[0] for a, b in zip(text.DEFAULT_IGNORABLE, text.DEFAULT_IGNORABLE[1:], strict=False))


def test_every_format_character_python_knows_is_refused():

    refused = [
        chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) in {"Cf", "Cc", "Zl", "Zp"}
    ]
    assert all(text.is_refused_invisible(char) for char in refused)


def test_every_printable_ascii_character_passes_and_every_ascii_control_character_is_refused():
    printable = [chr(code) for code in range(0x20, 0x7F)]
    controls = [chr(code) for code in [*range(0x00, 0x20), 0x7F]]

    assert [c for c in printable if text.invisible_characters_message(f"Ana{c}Silva") is not None] == []
    assert [c for c in controls if text.invisible_characters_message(f"Ana{c}Silva") is None] == []
