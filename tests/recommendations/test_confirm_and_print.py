"""Signing takes a confirmation that shows exactly what will be signed, and a cancelled one writes
nothing; a decided case prints as a letter with the notice, the signature and every addendum's
signer (issue #24)."""

import re

import pytest
from django.utils.html import escape

from intake.models import Case, CaseEvent, CaseStatus, PartnerNotification, Priority
from recommendations import review
from recommendations.models import Addendum, Decision
from recommendations.services import make_draft
from tests.factories import make_case, make_partner, make_patient, make_referral, make_user


@pytest.fixture(autouse=True)
def _infusion_covered(knee_infusion_protocol):
    """Specialists here amend knee drafts to an infusion, which rule set v3 takes under a protocol."""


QUEUE = "/admin/recommendations/reviewcase/"


def queued(**fields) -> Case:
    case = make_case(**fields)
    make_draft(case_id=case.pk)
    return Case.objects.get(pk=case.pk)


def review_url(case: Case) -> str:
    return f"{QUEUE}{case.pk}/change/"


def specialist(client, username="dr_signs"):
    user = make_user(username, group="Specialists", is_staff=True)
    client.force_login(user)
    return user


def fingerprint(page: str) -> str:
    return re.search(r'name="fingerprint" value="([0-9a-f]{64})"', page).group(1)


def confirmed(page: str, fields: dict, go: str = "stay") -> dict:
    """The confirmation page's answer: what was posted, the record shown, and where to go next."""
    return {**fields, "confirm": go, "fingerprint": fingerprint(page)}


def written(case: Case) -> tuple:
    """Everything a signature could have written for the case."""
    case.refresh_from_db()
    return (
        Decision.objects.filter(case=case).count(),
        CaseEvent.objects.filter(case=case).count(),
        case.status,
        case.claimed_by_id,
        case.audit_length,
        PartnerNotification.objects.count(),
    )


@pytest.mark.django_db
def test_approving_shows_what_will_be_signed_and_writes_nothing_until_confirmed(
    client, django_capture_on_commit_callbacks, receiver
):
    specialist(client, "dr_careful")
    partner, _ = make_partner("Porto Ortho", webhook_url=receiver().url)
    case = make_referral(partner, external_id="RF-31")
    make_draft(case_id=case.pk)
    before = written(case)

    with django_capture_on_commit_callbacks() as queued_after_commit:
        page = client.post(review_url(case), {"action": "approve"}).content.decode()

    assert "Approve the draft: what you are about to sign" in page
    for shown in (
        "Local injection",  # the route
        "Approved as drafted",  # the outcome
        "knee-oa-bmac version 1",  # the protocol
        "Dr. Dr_Careful, MD",  # the signature
        "Regulatory notice you sign under",
        "none (approved as drafted)",  # the reason
    ):
        assert shown in page, shown
    assert escape(Case.objects.get(pk=case.pk).recommendations.get().notice_text.split("\n")[0]) in page
    # Nothing was written, nothing is owed to the partner, and the case is not even claimed.
    assert written(case) == before
    assert queued_after_commit == []
    # Cancelling is a link back to the case: a GET, which signs nothing.
    assert f'href="{review_url(case)}" id="cancel"' in page

    with django_capture_on_commit_callbacks() as queued_after_commit:
        done = client.post(
            review_url(case), {"action": "approve", "confirm": "stay", "fingerprint": fingerprint(page)}
        )

    assert done["Location"] == review_url(case)
    decision = Decision.objects.get(case=case)
    assert (decision.outcome, decision.signature) == ("approved", "Dr. Dr_Careful, MD")
    assert escape(decision.notice_text.split("\n")[0]) in page  # the notice signed is the one shown
    assert PartnerNotification.objects.count() == before[-1] + 1 and queued_after_commit


@pytest.mark.django_db
def test_amending_shows_the_reason_and_the_protocol_chosen(client):
    specialist(client)
    case = queued()
    amend = {"action": "amend", "route": "intravenous", "reason": "Three sites;\nbleeding risk"}

    page = client.post(review_url(case), amend).content.decode()

    assert "Amend to another route: what you are about to sign" in page
    assert "Intravenous infusion" in page and "Amended" in page
    assert "knee-oa-msc-ind version 1" in page.split('id="signing-protocol"')[1]
    assert "Three sites;<br>bleeding risk" in page
    assert not Decision.objects.exists()

    client.post(review_url(case), {**amend, "confirm": "stay", "fingerprint": fingerprint(page)})

    decision = Decision.objects.get(case=case)
    assert (decision.route, decision.reason) == ("intravenous", "Three sites;\nbleeding risk")
    assert decision.protocol is not None


@pytest.mark.django_db
def test_declining_shows_no_treatment_and_what_is_refused_is_said_before_any_confirmation(client):
    specialist(client)
    case = queued()

    missing = client.post(review_url(case), {"action": "decline", "reason": "  "}).content.decode()
    assert "Say why the case is declined." in missing and "what you are about to sign" not in missing

    page = client.post(review_url(case), {"action": "decline", "reason": "Not a candidate"}).content.decode()
    assert "None (no treatment)" in page and "Not recommended" in page
    assert not Decision.objects.exists()


@pytest.mark.django_db
def test_a_confirmation_of_something_else_than_what_would_be_signed_writes_nothing(client):
    specialist(client)
    case = queued()
    page = client.post(review_url(case), {"action": "decline", "reason": "Shown reason"}).content.decode()

    # The reason sent with the confirmation is not the one that was shown.
    again = client.post(
        review_url(case), confirmed(page, {"action": "decline", "reason": "Another reason"})
    ).content.decode()

    assert "What you would sign is no longer what you checked" in again
    assert "Another reason" in again.split('id="signing-reason"')[1]
    assert not Decision.objects.exists()


@pytest.mark.django_db
def test_a_confirmation_that_is_not_a_fingerprint_signs_nothing_and_shows_the_record_again(client):
    doctor = specialist(client, "dr_forged")
    case, decided = queued(), queued()
    review.approve_draft(case_id=decided.pk, user=doctor)
    addendum = {"addendum": "1", "reason": "Left knee, not right"}

    # Non-ASCII, or digits by Unicode's count but not by ASCII's: never a fingerprint the page shows.
    for forged in ("🦵", "²", "３" * 64, "é" * 64):
        approving = client.post(
            review_url(case), {"action": "approve", "confirm": "stay", "fingerprint": forged}
        )
        correcting = client.post(review_url(decided), {**addendum, "confirm": "stay", "fingerprint": forged})
        for response in (approving, correcting):
            assert response.status_code == 200, forged
            assert "What you would sign is no longer what you checked" in response.content.decode(), forged
    assert Decision.objects.count() == 1 and not Addendum.objects.exists()
    assert Case.objects.get(pk=case.pk).status != CaseStatus.DECIDED


@pytest.mark.django_db
def test_going_back_from_the_confirmation_keeps_what_was_typed(client):
    specialist(client)
    case = queued()

    page = client.post(
        review_url(case), {"action": "amend", "route": "intravenous", "reason": "Typed once", "edit": "1"}
    ).content.decode()

    assert 'id="amend-reason"' in page and ">Typed once</textarea>" in page
    assert not Decision.objects.exists()


@pytest.mark.django_db
def test_sign_and_open_the_next_case(client):
    specialist(client)
    case = queued(priority=Priority.URGENT)
    following = queued()
    page = client.post(review_url(case), {"action": "approve"}).content.decode()

    response = client.post(review_url(case), confirmed(page, {"action": "approve"}, go="next"), follow=True)

    assert response.redirect_chain[-1][0] == review_url(following)
    assert f"Signed case {case.reference}: Approved as drafted, Local injection." in response.content.decode()
    assert Case.objects.get(pk=case.pk).status == CaseStatus.DECIDED


@pytest.mark.django_db
def test_an_addendum_is_confirmed_before_it_is_written(client):
    doctor = specialist(client, "dr_amends")
    case = queued()
    review.approve_draft(case_id=case.pk, user=doctor)

    page = client.post(review_url(case), {"addendum": "1", "reason": "Left knee, not right"}).content.decode()

    assert "Add an addendum: what you are about to sign" in page
    assert "Approved as drafted: Local injection, signed by Dr. Dr_Amends, MD" in page
    assert not Addendum.objects.exists()
    answer = confirmed(page, {"addendum": "1", "reason": "Left knee, not right"})
    client.post(review_url(case), answer)
    assert Addendum.objects.get().reason == "Left knee, not right"

    # The same confirmation posted again (a double click, Back and resubmit) signs nothing more.
    again = client.post(review_url(case), answer)
    assert Addendum.objects.count() == 1
    assert "Add an addendum: what you are about to sign" in again.content.decode()


@pytest.mark.django_db
def test_a_colleagues_claim_is_refused_before_any_confirmation(client):
    colleague = make_user("dr_holds", group="Specialists", is_staff=True)
    case = queued()
    review.claim_case(case_id=case.pk, user=colleague)
    specialist(client)

    page = client.post(review_url(case), {"action": "approve"}, follow=True).content.decode()

    assert "Dr. Dr_Holds claimed this case" in page and "what you are about to sign" not in page
    assert Case.objects.get(pk=case.pk).claimed_by == colleague


# --- the printed letter ------------------------------------------------------------------------


def print_url(case: Case) -> str:
    return f"{QUEUE}{case.pk}/print/"


@pytest.mark.django_db
def test_the_letter_carries_the_notice_the_signature_and_each_addendum_with_its_signer(client):
    doctor = specialist(client, "dr_prints")
    colleague = make_user("dr_second", group="Specialists", is_staff=True)
    case = queued(patient=make_patient(given_name="Rita", family_name="Letter"))
    decision = review.amend_draft(case_id=case.pk, user=doctor, route="intravenous", reason="Both knees")
    review.add_addendum(decision_id=decision.pk, user=colleague, reason="Checked the imaging again")

    letter = client.get(print_url(case)).content.decode()

    assert "Rita Letter" in letter and case.reference in letter
    assert 'id="notice"' in letter and escape(decision.notice_text.split("\n")[0]) in letter
    assert 'id="signature">Dr. Dr_Prints, MD<' in letter
    addendum = letter[letter.index('id="addendum-1"') :]
    assert "Checked the imaging again" in addendum
    assert 'Signed electronically by <strong class="name">Dr. Dr_Second, MD</strong>' in addendum
    assert f'href="{review_url(case)}"' in letter  # back to the review page, not the desk


@pytest.mark.django_db
def test_the_review_page_and_the_decision_record_link_the_letter(client):
    doctor = specialist(client)
    case = queued()
    decision = review.approve_draft(case_id=case.pk, user=doctor)

    review_page = client.get(review_url(case)).content.decode()
    record = client.get(f"/admin/recommendations/decision/{decision.pk}/change/").content.decode()

    for page in (review_page, record):
        assert f'href="{print_url(case)}"' in page


@pytest.mark.django_db
def test_the_desk_letter_names_the_addendums_signer_too(client):
    doctor = make_user("dr_desk_letter", group="Specialists", is_staff=True)
    case = queued()
    decision = review.approve_draft(case_id=case.pk, user=doctor)
    review.add_addendum(decision_id=decision.pk, user=doctor, reason="Typo in the reason")
    client.force_login(make_user(group="Front desk"))

    letter = client.get(f"/desk/cases/{case.pk}/print/").content.decode()

    assert "Dr. Dr_Desk_Letter, MD</strong>" in letter.split('id="addendum-1"')[1]
    assert f'href="/desk/cases/{case.pk}/"' in letter


@pytest.mark.django_db
def test_only_a_decided_real_case_prints_and_only_for_specialists(client):
    specialist(client)
    undecided = queued()
    response = client.get(print_url(undecided), follow=True)
    assert response.redirect_chain[-1][0] == review_url(undecided)
    assert "There is no decision to print yet." in response.content.decode()
    assert client.get(f"{QUEUE}00000000-0000-0000-0000-000000000000/print/").status_code == 404

    client.force_login(make_user(is_staff=True))
    assert client.get(print_url(undecided)).status_code == 403
    client.force_login(make_user(group="Front desk"))
    assert "/admin/login/" in client.get(print_url(undecided))["Location"]
