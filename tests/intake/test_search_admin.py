"""The admin searches as the desk does (issue #24): patients by folded name or reference, cases by a
condition in words, and the pending contact updates listed read-only."""

import pytest

from tests.factories import make_case, make_partner, make_patient, make_referral, make_user


@pytest.fixture
def admin_client(client):
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    return client


@pytest.mark.django_db
def test_the_patient_list_finds_names_accents_aside_and_by_case_reference(admin_client):
    nguyen = make_patient(given_name="Văn", family_name="Nguyễn", mrn="MRN-1")
    case = make_case(patient=make_patient(given_name="Zoë", family_name="Martin", mrn="MRN-2"))

    by_name = admin_client.get("/admin/intake/patient/", {"q": "nguyen"}).content.decode()
    by_reference = admin_client.get("/admin/intake/patient/", {"q": case.reference}).content.decode()

    assert "MRN-1" in by_name and "MRN-2" not in by_name
    assert "MRN-2" in by_reference and "MRN-1" not in by_reference
    assert nguyen.family_name in by_name


@pytest.mark.django_db
def test_the_case_list_finds_a_condition_typed_in_words(admin_client):
    stroke = make_case(
        patient=make_patient(mrn="MRN-STROKE"), condition_code="I63.9", affected_sites=[], findings={}
    )
    make_case(patient=make_patient(mrn="MRN-KNEE"))

    page = admin_client.get("/admin/intake/case/", {"q": "stroke"}).content.decode()

    assert "MRN-STROKE" in page and "MRN-KNEE" not in page
    assert stroke.condition_code == "I63.9"


@pytest.mark.django_db
def test_pending_contact_updates_are_listed_read_only(admin_client):
    make_patient(given_name="Ana", family_name="Silva", phone="", email="")
    partner, _ = make_partner("Lakeside Clinic")
    make_referral(
        partner,
        external_id="LIVE-001",
        patient={
            "given_name": "Ana",
            "family_name": "Silva",
            "birth_date": "1961-04-02",
            "sex": "female",
            "phone": "+15551234567",
        },
    )

    page = admin_client.get("/admin/intake/pendingcontactupdate/")

    assert page.status_code == 200 and "+15551234567" in page.content.decode()
    assert admin_client.get("/admin/intake/pendingcontactupdate/add/").status_code == 403
