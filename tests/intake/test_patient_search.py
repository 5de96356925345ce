"""Finding the right patient (issue #24, part 3): names in any script, case and accents aside,
partners' and the clinic's references, MRNs and the dates a desk types."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from intake.matching import name_key, search_date, search_patients
from intake.models import Case, CaseStatus
from intake.selectors import open_cases_of
from intake.services import amend_patient, withdraw_case
from intake.workflow import SYSTEM, Actor
from tests.factories import make_case, make_partner, make_patient, make_referral

BORN = date(1961, 4, 2)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("given_name", "family_name", "typed"),
    [
        ("Văn", "Nguyễn", "Nguyen"),
        ("Văn", "Nguyễn", "nguyễn van"),
        ("Zoë", "Martin", "Zoe"),
        ("Zoë", "Martin", "ZOË martin"),
        ("Иван", "Петров", "иван"),
        ("Иван", "Петров", "ПЕТРОВ Иван"),
        ("Γιώργος", "Παπαδόπουλος", "γιωργος"),
        ("Γιώργος", "Παπαδόπουλος", "ΠΑΠΑΔΟΠΟΥΛΟΣ"),
        ("José", "O'Brien", "obrien jose"),
        ("Ana", "Lima-Costa", "costa"),
    ],
)
def test_names_are_found_case_accents_and_script_aside(given_name, family_name, typed):
    patient = make_patient(given_name=given_name, family_name=family_name)
    make_patient(given_name="Rui", family_name="Pereira")

    assert search_patients(typed) == [patient]


@pytest.mark.django_db
def test_each_word_must_begin_a_word_of_the_name():
    nguyen = make_patient(given_name="Van", family_name="Nguyen")
    make_patient(given_name="Ana", family_name="Silva")

    assert search_patients("ngu") == [nguyen]
    assert search_patients("guyen") == []
    assert search_patients("nguyen silva") == []


@pytest.mark.django_db
def test_a_renamed_patient_is_found_by_the_new_name():
    patient = make_patient(given_name="Ana", family_name="Silva")

    amend_patient(patient_id=patient.pk, actor=SYSTEM, changes={"family_name": "Şahin"})

    assert search_patients("sahin") == [patient]
    assert search_patients("silva") == []
    patient.refresh_from_db()
    assert patient.name_key == name_key("Ana", "Şahin") == "ana sahin"
    assert name_key("José", "O’Brien") == "jose o brien obrien"


@pytest.mark.django_db
def test_a_partners_reference_finds_the_patient_of_that_referral():
    partner, _ = make_partner()
    case = make_referral(partner, external_id="LIVE-001")
    make_patient(given_name="Liv", family_name="Everly")  # a name that begins like the reference

    assert search_patients("LIVE-001") == [case.patient]
    assert search_patients("live-001") == [case.patient]


@pytest.mark.django_db
def test_a_sandbox_partners_reference_finds_nobody():
    sandbox, _ = make_partner(sandbox=True)
    make_referral(sandbox, external_id="TEST-9")

    assert search_patients("TEST-9") == []


@pytest.mark.django_db
def test_a_case_reference_finds_the_patient_of_that_case():
    case = make_case(patient=make_patient(given_name="Ana", family_name="Silva"))
    make_patient(given_name="Carla", family_name="Costa")  # a "c" name is no match for "C-2026-..."
    number = case.reference.rsplit("-", 1)[1].lstrip("0")

    assert search_patients(case.reference) == [case.patient]
    assert search_patients(case.reference.lower()) == [case.patient]
    assert search_patients(f"{case.reference[:7]}{number}") == [case.patient]  # zeros left out


@pytest.mark.django_db
def test_an_mrn_finds_its_patient():
    patient = make_patient(mrn="MRN-77")
    make_patient(given_name="Mrna", family_name="Other")

    assert search_patients("mrn-77") == [patient]


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("1961-04-02", BORN),
        ("04/02/1961", BORN),  # US style, month first
        ("4/2/1961", BORN),
        ("02.04.1961", BORN),  # day first, with dots
        ("2.4.1961", BORN),
        ("02/04/1961", date(1961, 2, 4)),  # month first: the 4th of February
        ("13/01/1961", None),  # no 13th month
        ("1961-02-31", None),
        ("1961", None),
        ("Silva", None),
    ],
)
def test_the_dates_a_desk_types(typed, meant):
    assert search_date(typed) == meant


@pytest.mark.django_db
def test_a_birth_date_in_any_of_those_forms_finds_the_patient_alone_or_with_a_name():
    ana = make_patient(given_name="Ana", family_name="Silva", birth_date=BORN)
    make_patient(given_name="Ana", family_name="Silva", birth_date=date(1961, 2, 4))
    make_patient(given_name="Rui", family_name="Pereira", birth_date=BORN)

    assert search_patients("silva 1961-04-02") == [ana]
    assert search_patients("04/02/1961 silva") == [ana]
    assert search_patients("Silva 02.04.1961") == [ana]
    assert len(search_patients("04/02/1961")) == 2
    assert search_patients("13/01/1961") == []


@pytest.mark.django_db
def test_nothing_typed_finds_nobody():
    make_patient()
    assert search_patients("") == search_patients("   ") == search_patients("-- ..") == []


@pytest.mark.django_db
def test_open_cases_of_patients_newest_first_in_one_query():
    ana, rui, eva = make_patient(), make_patient(), make_patient()
    first, second = make_case(patient=ana), make_case(patient=ana)
    withdrawn = make_case(patient=rui)
    withdraw_case(case=withdrawn, actor=Actor(label="desk"), reason="moved away")

    with CaptureQueriesContext(connection) as queries:
        found = open_cases_of([ana.pk, rui.pk, eva.pk])

    assert len(queries) == 1
    assert found == {ana.pk: [second, first]}
    assert found[ana.pk][0].status == CaseStatus.RECEIVED
    assert open_cases_of([]) == {}
    assert Case.objects.get(pk=withdrawn.pk).status == CaseStatus.WITHDRAWN
