from datetime import date

import pytest

from intake.matching import (
    OTHER_SCRIPT,
    SAME_NAME,
    fold,
    likely_duplicates,
    names_similar,
    phone_key,
    search_patients,
)
from tests.factories import make_partner, make_patient, make_referral

BORN = date(1961, 4, 2)


def reasons_for(patient, **person) -> list[str]:
    fields = dict(given_name="x", family_name="x", birth_date=date(1900, 1, 1)) | person
    return [r for m in likely_duplicates(**fields) if m.patient == patient for r in m.reasons]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("existing", "typed", "reason"),
    [
        (
            dict(given_name="Ana", family_name="Silva"),
            dict(given_name="Ana", family_name="Silva"),
            "same birth date and a similar name",
        ),
        (
            dict(given_name="Ana", family_name="Silva"),
            dict(given_name="Anna", family_name="Sylva"),
            "same birth date and a similar name",
        ),
        (
            dict(given_name="Ana", family_name="Silva"),
            dict(given_name="Silva", family_name="Ana"),
            "same birth date and a similar name",
        ),
        (
            dict(given_name="José", family_name="Gonçalves"),
            dict(given_name="jose", family_name="GONCALVES"),
            "same birth date and a similar name",
        ),
    ],
)
def test_same_birth_date_and_a_similar_name(existing, typed, reason):
    patient = make_patient(birth_date=BORN, **existing)
    assert reasons_for(patient, birth_date=BORN, **typed) == [reason]


@pytest.mark.django_db
def test_same_phone_or_email_whatever_the_name():
    patient = make_patient(
        given_name="Maria", family_name="Costa", phone="+351 912 345 678", email="Maria@Example.org"
    )

    assert reasons_for(patient, phone="912345678") == ["same phone number"]
    assert reasons_for(patient, email="maria@example.ORG".lower()) == ["same email address"]


@pytest.mark.django_db
def test_different_people_are_not_matched():
    patient = make_patient(given_name="Ana", family_name="Silva", birth_date=BORN)
    assert reasons_for(patient, given_name="Bruno", family_name="Marques", birth_date=BORN) == []
    assert reasons_for(patient, given_name="Ana", family_name="Silva", birth_date=date(1961, 4, 3)) == []


PAIRS = [
    (("Ana", "Silva"), ("Anna", "Silva")),
    (("Jonathan", "Smith"), ("Jon", "Smith")),
    (("Maria", "Costa"), ("Marta", "Coste")),
    (("Li", "Wei"), ("Wei", "Li")),
    (("Alexandra", "Oliveira"), ("Alex", "Oliveira")),
    (("Мария", "Смирнова"), ("Мария", "Смирнов")),
    (("Иван", "Петров"), ("Ivan", "Petrov")),
    (("娜", "李"), ("李", "娜")),
]


@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_name_similarity_is_symmetric(a, b):
    assert names_similar(*a, *b) == names_similar(*b, *a)


@pytest.mark.django_db
@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_the_warning_is_symmetric_in_both_directions(a, b):
    first = make_patient(given_name=a[0], family_name=a[1], birth_date=BORN)
    forward = reasons_for(first, given_name=b[0], family_name=b[1], birth_date=BORN)
    first.delete()
    second = make_patient(given_name=b[0], family_name=b[1], birth_date=BORN)
    backward = reasons_for(second, given_name=a[0], family_name=a[1], birth_date=BORN)
    assert forward == backward


def test_folding_and_phone_keys():
    assert fold("  Jo-Ão  Sílva ") == "jo ao silva"
    assert phone_key("+1 (555) 123-4567") == phone_key("5551234567") == "551234567"
    assert phone_key("12") == ""


@pytest.mark.django_db
def test_search_by_name_birth_date_or_mrn():
    ana = make_patient(given_name="Ana", family_name="Silva", birth_date=BORN, mrn="MRN-77")
    make_patient(given_name="Rui", family_name="Pereira", birth_date=date(1980, 1, 1))

    assert search_patients("silva ana") == [ana]
    assert search_patients("1961-04-02") == [ana]
    assert search_patients("mrn-77") == [ana]
    assert search_patients("1961-02-31") == []
    assert search_patients("") == []


# --- names in every script --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "folded"),
    [
        ("Иван Петров", "иван петров"),
        ("ΓΙΏΡΓΟΣ Παπαδόπουλος", "γιωργοσ παπαδοπουλοσ"),  # accents and final sigma folded
        ("مُحَمَّد عليّ", "محمد علي"),  # vowel marks left out, as names are usually written
        ("李 娜", "李 娜"),
        ("김민준", "김민준"),
        ("Đặng Thị Ánh", "dang thi anh"),  # the Vietnamese đ is kept as its base letter
        ("ｊｏｓé", "jose"),  # full-width letters
    ],
)
def test_folding_keeps_the_letters_of_every_script(written, folded):
    assert fold(written) == folded


ISSUE_PAIRS = [
    (("Иван", "Петров"), ("Мария", "Смирнова")),
    (("Иван", "Петров"), ("娜", "李")),
    (("Иван", "Петров"), ("Γιώργος", "Παπαδόπουλος")),
    (("محمد", "علي"), ("أحمد", "حسن")),
    (("伟", "王"), ("娜", "李")),
    (("Иван", "Smith"), ("Пётр", "Smith")),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("a", "b"), ISSUE_PAIRS)
def test_different_names_in_other_scripts_are_no_likely_duplicates(a, b):
    first = make_patient(given_name=a[0], family_name=a[1], birth_date=BORN)
    second = make_patient(given_name=b[0], family_name=b[1], birth_date=BORN)

    assert reasons_for(first, given_name=b[0], family_name=b[1], birth_date=BORN) == []
    assert reasons_for(second, given_name=a[0], family_name=a[1], birth_date=BORN) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("existing", "variant", "someone_else"),
    [
        (("Γιώργος", "Παπαδόπουλος"), ("ΓΙΩΡΓΟΣ", "ΠΑΠΑΔΟΠΟΥΛΟΣ"), ("Νίκος", "Οικονόμου")),
        (("مُحَمَّد", "علي"), ("محمد", "على"), ("خالد", "حسن")),
        (("Иван", "Петров"), ("ИВАН", "ПЕТРОВ"), ("Мария", "Смирнова")),
        (("Nguyễn", "Văn Minh"), ("Nguyen", "Van Minh"), ("Trần", "Thị Lan")),
    ],
)
def test_the_desk_is_warned_of_case_and_accent_variants_in_every_script(existing, variant, someone_else):
    patient = make_patient(given_name=existing[0], family_name=existing[1], birth_date=BORN)

    typed = dict(given_name=variant[0], family_name=variant[1], birth_date=BORN)
    assert reasons_for(patient, **typed) == [SAME_NAME]
    other = dict(given_name=someone_else[0], family_name=someone_else[1], birth_date=BORN)
    assert reasons_for(patient, **other) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("native", "latin"),
    [
        (("Иван", "Петров"), ("Ivan", "Petrov")),
        (("娜", "李"), ("Na", "Li")),
        (("Иван", "Smith"), ("Ivan", "Smith")),
    ],
)
def test_a_name_in_another_script_is_a_hint_for_the_desk_both_ways(native, latin):
    first = make_patient(given_name=native[0], family_name=native[1], birth_date=BORN)
    forward = reasons_for(first, given_name=latin[0], family_name=latin[1], birth_date=BORN)
    first.delete()
    second = make_patient(given_name=latin[0], family_name=latin[1], birth_date=BORN)
    backward = reasons_for(second, given_name=native[0], family_name=native[1], birth_date=BORN)

    assert forward == backward == [OTHER_SCRIPT]


@pytest.mark.django_db
@pytest.mark.parametrize(("given", "family"), [("-", "."), ("–", "’"), ("A", "·")])
def test_a_name_without_enough_letters_never_matches_by_name(given, family):
    patient = make_patient(given_name=given, family_name=family, birth_date=BORN, phone="+351 912 345 678")

    assert reasons_for(patient, given_name=given, family_name=family, birth_date=BORN) == []
    # Other evidence still counts.
    assert reasons_for(patient, given_name=given, family_name=family, phone="912345678") == [
        "same phone number"
    ]


# --- one partner's referrals ------------------------------------------------------------------


def person(given: str, family: str) -> dict:
    """A patient named so, born on BORN, with no contact detail: only the name can match."""
    return {
        "given_name": given,
        "family_name": family,
        "birth_date": BORN.isoformat(),
        "sex": "unknown",
        "phone": "",
        "email": "",
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "other", "similar"),
    [
        (("Иван", "Петров"), ("Мария", "Смирнова"), False),
        (("Γιώργος", "Παπαδόπουλος"), ("Νίκος", "Οικονόμου"), False),
        (("محمد", "علي"), ("أحمد", "حسن"), False),
        (("娜", "李"), ("伟", "王"), False),
        (("Иван", "Smith"), ("Пётр", "Smith"), False),
        # Đan and An are two given names; the old folding dropped the đ and merged them.
        (("Đan", "Nguyễn"), ("An", "Nguyễn"), True),
    ],
)
def test_one_partner_gets_the_same_patient_for_the_same_name_and_a_new_one_for_another(name, other, similar):
    partner, _ = make_partner()

    first = make_referral(partner, external_id="R-1", patient=person(*name))
    second = make_referral(partner, external_id="R-2", patient=person(*name))
    third = make_referral(partner, external_id="R-3", patient=person(*other))

    assert second.patient == first.patient and not second.patient_needs_review
    assert third.patient != first.patient
    # A similar name is for the desk to review; a different one is simply another patient.
    assert third.patient_needs_review == similar
    assert (third.patient.given_name, third.patient.family_name) == other


@pytest.mark.django_db
def test_a_name_spelt_otherwise_is_a_new_patient_for_the_desk_to_review():
    partner, _ = make_partner()

    first = make_referral(partner, external_id="R-1", patient=person("Γιώργος", "Παπαδόπουλος"))
    second = make_referral(partner, external_id="R-2", patient=person("ΓΙΩΡΓΟΣ", "ΠΑΠΑΔΟΠΟΥΛΟΣ"))

    assert second.patient != first.patient and second.patient_needs_review
    assert (second.patient.given_name, second.patient.family_name) == ("ΓΙΩΡΓΟΣ", "ΠΑΠΑΔΟΠΟΥΛΟΣ")


@pytest.mark.django_db
def test_names_without_letters_are_never_merged():
    partner, _ = make_partner()

    first = make_referral(partner, external_id="R-1", patient=person("-", "."))
    second = make_referral(partner, external_id="R-2", patient=person("-", "."))

    assert second.patient != first.patient
