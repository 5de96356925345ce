from datetime import date

import pytest

from intake.matching import fold, likely_duplicates, names_similar, phone_key, search_patients
from tests.factories import make_patient

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
