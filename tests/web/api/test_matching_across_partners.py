"""Two partners refer patients through the real API: a partner only ever sees the patient's
name as it wrote it itself, whoever else referred someone with the same birth date."""

import copy

import pytest
from rest_framework.test import APIClient

from clinic.web import webhooks
from intake.models import Case, Partner, PartnerNotification, Patient
from recommendations import review
from recommendations.services import make_draft
from tests.factories import make_partner, make_patient, make_user, referral_body

URL = "/api/v1/referrals/"
BORN = "1961-04-02"


def client_for(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def refer(client: APIClient, external_id: str, given: str, family: str, **contact) -> Case:
    body = copy.deepcopy(referral_body(external_id=external_id))
    body["patient"] |= {
        "given_name": given,
        "family_name": family,
        "birth_date": BORN,
        "phone": "",
        "email": "",
    }
    body["patient"] |= contact
    response = client.post(URL, body, format="json")
    assert response.status_code == 201, response.content
    return Case.objects.select_related("patient").get(pk=response.json()["id"])


def shown_name(client: APIClient, case: Case) -> set[str]:
    """Every patient name the partner's FHIR view of the referral carries."""
    response = client.get(f"{URL}{case.pk}/fhir")
    assert response.status_code == 200
    resources = [entry["resource"] for entry in response.json()["entry"]]
    by_type = {resource["resourceType"]: resource for resource in resources}
    return {by_type["ServiceRequest"]["subject"]["display"], by_type["Task"]["for"]["display"]}


@pytest.fixture
def two_partners() -> tuple[APIClient, APIClient]:
    _, key_a = make_partner("Partner A")
    _, key_b = make_partner("Partner B", webhook_format="fhir")
    return client_for(key_a), client_for(key_b)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("a_name", "b_name", "similar"),
    [
        (("Иван", "Петров"), ("Мария", "Смирнова"), False),
        (("Иван", "Петров"), ("娜", "李"), False),
        (("Иван", "Петров"), ("Γιώργος", "Παπαδόπουλος"), False),
        (("محمد", "علي"), ("أحمد", "حسن"), False),
        (("Иван", "Smith"), ("Пётр", "Smith"), False),
        (("Đan", "Nguyễn"), ("An", "Nguyễn"), True),
    ],
)
def test_different_people_of_two_partners_are_two_patients(two_partners, a_name, b_name, similar):
    client_a, client_b = two_partners

    case_a = refer(client_a, "A-1", *a_name)
    case_b = refer(client_b, "B-1", *b_name)

    assert case_a.patient != case_b.patient and case_b.patient_needs_review == similar
    assert shown_name(client_b, case_b) == {" ".join(b_name)}
    assert shown_name(client_a, case_a) == {" ".join(a_name)}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("a_name", "b_name"),
    [
        (("Ana", "Silva"), ("ANA", "SILVA")),
        (("José", "Gonçalves"), ("Jose", "Goncalves")),
        (("Γιώργος", "Παπαδόπουλος"), ("ΓΙΩΡΓΟΣ", "ΠΑΠΑΔΟΠΟΥΛΟΣ")),
        (("Иван", "Петров"), ("иван", "петров")),
    ],
)
def test_another_partners_patient_is_reused_only_when_the_name_is_written_the_same(
    two_partners, a_name, b_name
):
    client_a, client_b = two_partners
    case_a = refer(client_a, "A-1", *a_name, phone="+15551234567")

    same = refer(client_b, "B-1", *a_name, phone="+15551234567")
    spelt_otherwise = refer(client_b, "B-2", *b_name, phone="+15551234567")

    # Written the same, with nothing that contradicts: one patient, as before.
    assert same.patient == case_a.patient and not same.patient_needs_review
    # Written otherwise: a new patient, and the desk is asked to review it.
    assert spelt_otherwise.patient != case_a.patient and spelt_otherwise.patient_needs_review
    assert shown_name(client_b, spelt_otherwise) == {" ".join(b_name)}
    assert shown_name(client_a, case_a) == {" ".join(a_name)}


@pytest.mark.django_db
def test_a_spelling_is_never_shown_to_anyone_who_wrote_the_name_otherwise(two_partners):
    client_a, client_b = two_partners

    first = refer(client_a, "A-1", "José", "Silva")
    again = refer(client_a, "A-2", "JOSE", "SILVA")
    from_b = refer(client_b, "B-1", "JOSE", "SILVA")

    # Folded alike, so the desk is asked; written otherwise, so never one record.
    assert again.patient != first.patient and again.patient_needs_review
    assert from_b.patient not in (first.patient, again.patient) and from_b.patient_needs_review
    assert shown_name(client_a, again) == {"JOSE SILVA"}
    assert shown_name(client_b, from_b) == {"JOSE SILVA"}


@pytest.mark.django_db
def test_a_desk_patient_is_reused_by_a_partner_only_when_written_the_same():
    make_patient(given_name="José", family_name="Silva", birth_date=BORN, phone="+15551234567")
    _, key = make_partner()
    client = client_for(key)

    same = refer(client, "P-1", "José", "Silva", phone="+15551234567")
    otherwise = refer(client, "P-2", "Jose", "Silva", phone="+15551234567")

    assert Patient.objects.filter(given_name="José").count() == 1 and not same.patient_needs_review
    assert otherwise.patient != same.patient and otherwise.patient_needs_review
    assert shown_name(client, otherwise) == {"Jose Silva"}


@pytest.mark.django_db
def test_partner_b_never_sees_a_name_partner_a_sent_in_any_read_or_webhook(two_partners):
    client_a, client_b = two_partners
    refer(client_a, "A-1", "Иван", "Петров")
    refer(client_a, "A-2", "Ana", "Silva", phone="+15551234567")
    b_cases = [
        refer(client_b, "B-1", "Мария", "Смирнова"),
        refer(client_b, "B-2", "ANA", "SILVA", phone="+15551234567"),
    ]
    for case in b_cases:
        make_draft(case_id=case.pk)
        review.approve_draft(case_id=case.pk, user=make_user(group="Specialists"))

    partner_b = Partner.objects.get(name="Partner B")
    seen_by_b = [client_b.get(URL).content.decode()]
    for case in b_cases:
        seen_by_b.append(client_b.get(f"{URL}{case.pk}/").content.decode())
        seen_by_b.append(client_b.get(f"{URL}{case.pk}/fhir").content.decode())
        notification = PartnerNotification.objects.get(partner=partner_b, case=case)
        webhook_body = webhooks.payload_as_sent(notification)
        display = webhook_body["data"]["entry"][0]["resource"]["subject"]["display"]
        assert display in ("Мария Смирнова", "ANA SILVA")
        seen_by_b.append(str(webhook_body))

    for text in seen_by_b:
        assert "Иван" not in text and "Петров" not in text
        assert "Ana" not in text and "Silva" not in text
