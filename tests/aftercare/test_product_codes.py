"""The distinct identification code check (21 CFR 1271.290(c)): a code that is or contains the
patient's name, medical record number or birth date is refused, and the reason says which kind of
data it found without repeating it. Pure: no database."""

from datetime import date

import pytest

from clinic.aftercare.product_codes import phi_in_code

PATIENT = dict(given_name="José", family_name="da Silva", mrn="MRN00012345", birth_date=date(1961, 4, 2))


def found(code: str, **patient) -> str | None:
    return phi_in_code(code, **(PATIENT | patient))


@pytest.mark.parametrize(
    "code",
    ["BMAC-7Q4K-0091", "W1234 26 123456", "LOT-2026-0142", "DA-0001", "SANDBOX-000000017", "ISBT-A9999"],
)
def test_ordinary_product_codes_pass(code):
    assert found(code) is None


@pytest.mark.parametrize("code", ["SILVA-0091", "silva0091", "0091-Silva-X", "DASILVA1", "S-SILVA"])
def test_the_family_name_is_refused_in_any_case(code):
    assert found(code) == "the patient's family name"


@pytest.mark.parametrize("code", ["JOSE-01", "jose01", "José-01", "JOSÉ77"])
def test_the_given_name_is_refused_with_or_without_its_accents(code):
    assert found(code) == "the patient's given name"


def test_an_accented_name_is_found_in_a_plain_code_and_the_reverse():
    assert found("XSILVAX", family_name="Sílva") == "the patient's family name"
    assert found("ZOE-12", given_name="Zoë") == "the patient's given name"


@pytest.mark.parametrize(
    ("code", "family_name"),
    [("ONEIL-2026-01", "O'Neil"), ("BMAC-MARYJANE", "Mary-Jane"), ("DASILVA-7", "da Silva")],
)
def test_a_name_written_with_punctuation_is_found_written_without_it(code, family_name):
    assert found(code, family_name=family_name) == "the patient's family name"


@pytest.mark.parametrize(
    ("code", "names"),
    [
        ("ИВАНОВА-001", dict(family_name="Иванова")),
        ("иванова001", dict(family_name="Иванова")),
        ("BM-ΠΑΠΑΔΟΠΟΥΛΟΣ-4", dict(family_name="Παπαδόπουλος")),
        ("ÖZTÜRK-12", dict(family_name="Öztürk")),
        ("SØREN-3", dict(given_name="Søren")),
    ],
)
def test_names_outside_a_to_z_are_compared_letter_for_letter(code, names):
    kind = "family" if "family_name" in names else "given"
    assert found(code, **names) == f"the patient's {kind} name"
    assert found("BMAC-7Q4K-0091", **names) is None


def test_a_short_name_counts_only_as_a_word_of_its_own_and_two_letters_never():
    ana = dict(given_name="Ana", family_name="Li")
    assert found("ANA-0042", **ana) == "the patient's given name"
    assert found("BANANA-0042", **ana) is None  # "ana" inside another word is not the name
    assert found("LI-0042", **ana) is None  # names shorter than 3 letters are not checked


@pytest.mark.parametrize("code", ["MRN00012345", "X-mrn-00012345-Y", "00012345-BMAC"])
def test_the_medical_record_number_or_its_number_is_refused(code):
    assert "medical record number (MRN)" in found(code)


@pytest.mark.parametrize(
    "code",
    [
        "19610402",
        "BMAC-1961-04-02",
        "04/02/1961",
        "02.04.1961",
        "040261-A",
        "A-020461",
        "610402",
        "4/2/61",
        "2-4-1961",
        "02APR1961",
        "2APR1961",
        "BM-APR021961",
        "1961_04_02",
        "BMAC-APRIL-2-1961",
        "April 2, 1961",
        "2 april 61",
        "1961-APR-02",
    ],
)
def test_the_birth_date_is_refused_in_its_common_spellings(code):
    assert found(code) == "the patient's birth date"


def test_another_date_is_not_the_birth_date():
    assert found("1961-04-03") is None
    assert found("BMAC-2026-04-02") is None
    assert found("12APR1961") is None and found("APRIL-21-1961") is None
    assert found("SEPT-2-1961") is None
    assert found("SEPT-2-1961", birth_date=date(1961, 9, 2)) == "the patient's birth date"
    assert found("2-SEPTEMBER-1961", birth_date=date(1961, 9, 2)) == "the patient's birth date"


def test_a_number_written_like_a_social_security_number_is_refused():
    assert "Social Security number" in found("123-45-6789")
    assert found("123-45-67890") is None  # a longer number is not one


def test_the_reason_never_repeats_the_patients_data():
    for code in ("SILVA-1", "JOSE-1", "MRN00012345", "19610402"):
        reason = found(code)
        for secret in ("Silva", "SILVA", "José", "JOSE", "00012345", "1961"):
            assert secret not in reason
