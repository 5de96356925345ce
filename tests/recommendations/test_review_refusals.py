"""What a specialist is refused: sandbox test cases (decided automatically, never by a person), and
every review action without a complete signing profile (issue 21, defects 3 and 5)."""

import pytest

from intake.models import Case, CaseStatus
from recommendations import review
from recommendations.models import Addendum, Decision, FinalRoute, Outcome, SpecialistProfile
from recommendations.sandbox import decide_sandbox_case
from recommendations.services import make_draft
from tests.factories import make_case, make_partner, make_referral, make_user


@pytest.fixture(autouse=True)
def _infusion_covered(knee_infusion_protocol):
    """Specialists here amend knee drafts to an infusion, which rule set v3 takes under a protocol."""


QUEUE = "/admin/recommendations/reviewcase/"

ACTIONS = {
    "claim": lambda case, user: review.claim_case(case_id=case.pk, user=user),
    "release": lambda case, user: review.release_claim(case_id=case.pk, user=user),
    "approve": lambda case, user: review.approve_draft(case_id=case.pk, user=user),
    "amend": lambda case, user: review.amend_draft(
        case_id=case.pk, user=user, route="intravenous", reason="three sites"
    ),
    "decline": lambda case, user: review.decline_case(case_id=case.pk, user=user, reason="not for a test"),
    "ask": lambda case, user: review.request_information(case_id=case.pk, user=user, question="Which knee?"),
}


def specialist(name: str | None = None, *, signs: bool = True):
    return make_user(name, group="Specialists", is_staff=True, signs=signs)


def sandbox_case(external_id: str = "decline-1") -> Case:
    partner, _ = make_partner(sandbox=True)
    case = make_referral(partner, external_id=external_id)
    make_draft(case_id=case.pk)
    case.refresh_from_db()
    assert case.sandbox and case.status == CaseStatus.AWAITING_REVIEW
    return case


def live_case() -> Case:
    case = make_case()
    make_draft(case_id=case.pk)
    return Case.objects.get(pk=case.pk)


def timeline(case: Case) -> list[str]:
    return list(case.events.order_by("id").values_list("note", flat=True))


# --- sandbox cases are never in a specialist's hands ---------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("action", list(ACTIONS))
def test_no_review_action_touches_a_sandbox_case(action):
    case, doctor = sandbox_case(), specialist()
    before = timeline(case)

    with pytest.raises(review.ReviewError, match="sandbox partner's test case"):
        ACTIONS[action](case, doctor)

    case.refresh_from_db()
    assert (case.status, case.claimed_by, case.open_question) == (CaseStatus.AWAITING_REVIEW, None, "")
    assert timeline(case) == before
    assert not Decision.objects.exists()


@pytest.mark.django_db
def test_a_sandbox_case_a_robot_claim_left_behind_is_not_released_by_a_specialist():
    case, doctor = sandbox_case(), specialist()
    robot_claim = make_user("someone")
    Case.objects.filter(pk=case.pk).update(claimed_by=robot_claim, claimed_at=case.created_at)

    with pytest.raises(review.ReviewError, match="sandbox"):
        review.release_claim(case_id=case.pk, user=doctor)

    assert Case.objects.get(pk=case.pk).claimed_by == robot_claim


@pytest.mark.django_db
def test_no_addendum_on_a_sandbox_decision_and_the_sandbox_still_decides_on_its_own():
    case, doctor = sandbox_case("decline-7"), specialist()

    assert decide_sandbox_case(case_id=case.pk) == "decline"
    decision = Decision.objects.get(case=case)
    assert decision.signed_credentials == "not a clinical decision"
    with pytest.raises(review.ReviewError, match="sandbox partner's test case"):
        review.add_addendum(decision_id=decision.pk, user=doctor, reason="Approved after all")

    assert not Addendum.objects.exists()
    assert not any(note.startswith("Addendum") for note in timeline(case))


@pytest.mark.django_db
def test_a_person_who_can_sign_in_never_decides_a_sandbox_case_even_through_decide_locked():
    # The sandbox's signer is an inactive user; an active one is a person, whatever their profile.
    case, doctor = sandbox_case("approve-1"), specialist()
    locked = Case.objects.get(pk=case.pk)

    with pytest.raises(review.ReviewError, match="sandbox"):
        review.decide_locked(
            locked, doctor, route=FinalRoute.NOT_RECOMMENDED, outcome=Outcome.DECLINED, reason="x"
        )

    assert not Decision.objects.exists()


@pytest.mark.django_db
def test_the_review_page_of_a_sandbox_case_is_not_found_before_and_after_its_decision(client):
    case = sandbox_case("approve-3")
    client.force_login(specialist("dr_curious"))
    url = f"{QUEUE}{case.pk}/change/"

    assert client.get(url).status_code == 404
    assert client.post(url, {"action": "approve"}).status_code == 404
    assert client.post(url, {"action": "decline", "reason": "test"}).status_code == 404
    assert not Decision.objects.exists()

    decide_sandbox_case(case_id=case.pk)
    assert client.get(url).status_code == 404
    assert client.post(url, {"addendum": "1", "reason": "Corrected"}).status_code == 404
    assert not Addendum.objects.exists()
    assert client.get(f"{QUEUE}{live_case().pk}/change/").status_code == 200  # a live case opens as before


# --- only a specialist with a complete signing profile acts --------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("profile", [None, ("Dr. New", ""), ("  ", "MD")])
def test_a_specialist_without_a_complete_signature_cannot_claim_and_lock_others_out(profile):
    case, unsigned, colleague = live_case(), specialist("dr_new", signs=False), specialist("dr_signed")
    if profile:
        SpecialistProfile.objects.create(user=unsigned, full_name=profile[0], credentials=profile[1])

    with pytest.raises(review.ReviewError, match="signed with your full name and credentials"):
        review.claim_case(case_id=case.pk, user=unsigned)

    assert Case.objects.get(pk=case.pk).claimed_by is None
    assert "Claimed for review" not in timeline(case)
    # Nobody is locked out: a signing colleague decides at once.
    assert review.approve_draft(case_id=case.pk, user=colleague).signed_name == "Dr. Dr_Signed"


@pytest.mark.django_db
def test_a_specialist_without_a_signature_cannot_ask_for_information():
    case, unsigned = live_case(), specialist("dr_new", signs=False)

    with pytest.raises(review.ReviewError, match="signed with your full name and credentials"):
        review.request_information(case_id=case.pk, user=unsigned, question="Which knee?")

    case.refresh_from_db()
    assert (case.status, case.open_question, case.claimed_by) == (CaseStatus.AWAITING_REVIEW, "", None)


@pytest.mark.django_db
def test_a_specialist_without_a_signature_cannot_add_an_addendum_to_a_colleagues_decision():
    case, signer, unsigned = live_case(), specialist("dr_signer"), specialist("dr_new", signs=False)
    decision = review.approve_draft(case_id=case.pk, user=signer)

    with pytest.raises(review.ReviewError, match="signed with your full name and credentials"):
        review.add_addendum(decision_id=decision.pk, user=unsigned, reason="Actually declined")

    assert not Addendum.objects.exists()
    review.set_signature(user=unsigned, full_name="Dr. Nova", credentials="MD")
    assert review.add_addendum(decision_id=decision.pk, user=unsigned, reason="Dose note").author == unsigned


@pytest.mark.django_db
def test_on_the_review_page_an_unsigned_specialist_gets_a_message_not_an_error_page(client):
    case, signer = live_case(), specialist("dr_signer")
    client.force_login(specialist("dr_new", signs=False))
    url = f"{QUEUE}{case.pk}/change/"

    claimed = client.post(url, {"action": "claim"}, follow=True)
    assert claimed.status_code == 200
    assert "Ask an administrator to complete it" in claimed.content.decode()
    assert Case.objects.get(pk=case.pk).claimed_by is None

    review.approve_draft(case_id=case.pk, user=signer)
    addendum = client.post(url, {"addendum": "1", "reason": "Actually declined"}, follow=True)
    assert addendum.status_code == 200
    assert "Ask an administrator to complete it" in addendum.content.decode()
    assert not Addendum.objects.exists()
