"""A partner's contact details for a patient it matched (issue #24, part 3): kept for the desk to
accept or dismiss, never dropped and never applied silently; every step in the case's chain."""

import pytest

from intake.audit import verify_chains
from intake.contacts import accept_contact_update, dismiss_contact_update
from intake.models import PendingContactUpdate
from intake.selectors import pending_contact_updates
from intake.workflow import Actor
from tests.factories import make_partner, make_patient, make_referral, make_user

PERSON = {"given_name": "Ana", "family_name": "Silva", "birth_date": "1961-04-02", "sex": "female"}


def desk_actor() -> Actor:
    return Actor.of_user(make_user(group="Front desk"))


def notes(case) -> list[str]:
    return list(case.events.order_by("chain_seq").values_list("note", flat=True))


def referral(partner, external_id: str, **contact):
    return make_referral(partner, external_id=external_id, patient=PERSON | contact)


@pytest.fixture
def on_file():
    """A patient the desk registered with no phone and no email."""
    return make_patient(given_name="Ana", family_name="Silva", phone="", email="")


@pytest.mark.django_db
def test_a_phone_sent_for_a_matched_patient_is_kept_not_applied(on_file):
    partner, _ = make_partner("Lakeside Clinic")

    case = referral(partner, "LIVE-001", phone="+1 555 123 4567", email="ana@example.org")

    assert case.patient == on_file  # the match is certain
    on_file.refresh_from_db()
    assert (on_file.phone, on_file.email) == ("", "")  # never applied silently
    [update] = pending_contact_updates(on_file.pk)
    assert (update.phone, update.email, update.fields) == (
        "+1 555 123 4567",
        "ana@example.org",
        ["phone", "email"],
    )
    assert (update.case, update.partner, update.is_pending) == (case, partner, True)
    assert "differ from the record (phone and email)" in notes(case)[-1]
    assert "555" not in notes(case)[-1]  # the chain names fields, not values


@pytest.mark.django_db
def test_accepting_puts_the_details_on_the_record_once(on_file):
    partner, _ = make_partner("Lakeside Clinic")
    first = referral(partner, "LIVE-001", phone="+15551234567")
    [update] = pending_contact_updates(on_file.pk)
    actor = desk_actor()

    patient = accept_contact_update(update_id=update.pk, actor=actor)

    assert patient.phone == "+15551234567" and patient.phone_key == "551234567"
    update.refresh_from_db()
    assert (update.outcome, update.resolved_by, update.is_pending) == ("accepted", actor.user, False)
    assert pending_contact_updates(on_file.pk) == []
    assert notes(first)[-2:] == [
        "Patient details changed: phone",
        "Contact update from Lakeside Clinic accepted (phone).",
    ]
    events = first.events.count()
    assert accept_contact_update(update_id=update.pk, actor=desk_actor()).phone == "+15551234567"
    assert dismiss_contact_update(update_id=update.pk, actor=desk_actor()).outcome == "accepted"
    assert first.events.count() == events  # the second accept and the dismissal did nothing
    update.refresh_from_db()
    assert update.resolved_by == actor.user
    assert list(verify_chains()) == []


@pytest.mark.django_db
def test_dismissing_leaves_the_record_and_says_why(on_file):
    partner, _ = make_partner("Lakeside Clinic")
    case = referral(partner, "LIVE-001", email="ana.old@example.org")
    [update] = pending_contact_updates(on_file.pk)

    dismissed = dismiss_contact_update(update_id=update.pk, actor=desk_actor(), reason="  old address ")

    on_file.refresh_from_db()
    assert on_file.email == ""
    assert (dismissed.outcome, dismissed.reason) == ("dismissed", "old address")
    assert notes(case)[-1] == "Contact update from Lakeside Clinic dismissed (email): old address"
    assert accept_contact_update(update_id=update.pk, actor=desk_actor()).email == ""  # too late


@pytest.mark.django_db
def test_nothing_is_kept_when_nothing_is_new(on_file):
    partner, _ = make_partner()
    on_file.phone, on_file.phone_key = "+1 (555) 123-4567", "551234567"
    on_file.save()

    referral(partner, "LIVE-001", phone="5551234567")  # the same number written otherwise
    referral(partner, "LIVE-002")  # none sent

    assert pending_contact_updates(on_file.pk) == []


@pytest.mark.django_db
def test_the_same_update_from_a_second_referral_waits_once(on_file):
    partner, _ = make_partner()
    referral(partner, "LIVE-001", email="ana@example.org")
    referral(partner, "LIVE-002", email="Ana@Example.org")
    referral(partner, "LIVE-003", email="ana@work.example.org")

    assert [update.email for update in pending_contact_updates(on_file.pk)] == [
        "ana@example.org",
        "ana@work.example.org",
    ]


@pytest.mark.django_db
def test_a_contradicting_phone_opens_a_new_patient_for_review_with_nothing_pending():
    existing = make_patient(given_name="Ana", family_name="Silva", phone="+15550000000", email="")
    partner, _ = make_partner()

    case = referral(partner, "LIVE-001", phone="+15551234567")

    assert case.patient != existing and case.patient_needs_review
    assert case.patient.phone == "+15551234567"
    assert pending_contact_updates(existing.pk) == []


@pytest.mark.django_db
def test_an_unknown_update_is_an_error():
    import uuid

    with pytest.raises(PendingContactUpdate.DoesNotExist):
        accept_contact_update(update_id=uuid.uuid4(), actor=desk_actor())
    with pytest.raises(PendingContactUpdate.DoesNotExist):
        dismiss_contact_update(update_id=uuid.uuid4(), actor=desk_actor())
