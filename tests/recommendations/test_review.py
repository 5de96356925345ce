from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from intake.clinical import Answer, Consent
from intake.models import Case, CaseStatus, PartnerNotification
from intake.services import answer_information
from intake.workflow import Actor
from recommendations import review
from recommendations.models import Addendum, Decision, Recommendation
from recommendations.selectors import current_draft
from recommendations.services import make_draft
from tests.factories import KNEE_INFUSION_AS_DECIDED, make_case, make_partner, make_user
from tests.support import at_once, committed_db


@pytest.fixture(autouse=True)
def _infusion_covered(knee_infusion_protocol):
    """Specialists here amend knee drafts to an infusion, which rule set v3 takes under a protocol."""


def specialist(name: str | None = None):
    return make_user(name, group="Specialists", is_staff=True)


def awaiting_review(**case_fields) -> Case:
    case = make_case(**case_fields)
    make_draft(case_id=case.pk)
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_REVIEW
    return case


@pytest.mark.django_db
def test_approve_records_the_drafted_route_and_closes_the_case():
    case, doctor = awaiting_review(), specialist()

    decision = review.approve_draft(case_id=case.pk, user=doctor)

    case.refresh_from_db()
    assert (decision.outcome, decision.route, decision.reason) == ("approved", "local_injection", "")
    assert decision.recommendation == current_draft(case)
    assert case.status == CaseStatus.DECIDED
    assert case.events.last().actor_label == doctor.username


@pytest.mark.django_db
def test_amend_needs_a_reason_and_another_route():
    case, doctor = awaiting_review(), specialist()

    with pytest.raises(ValidationError) as no_reason:
        review.amend_draft(case_id=case.pk, user=doctor, route="intravenous", reason="  ")
    with pytest.raises(ValidationError) as same_route:
        review.amend_draft(case_id=case.pk, user=doctor, route="local_injection", reason="why not")
    with pytest.raises(ValidationError) as bad_route:
        review.amend_draft(case_id=case.pk, user=doctor, route="needs_information", reason="x")
    decision = review.amend_draft(
        case_id=case.pk, user=doctor, route="intravenous", reason="both knees and hip"
    )

    assert "reason" in no_reason.value.message_dict
    assert "approve the draft instead" in same_route.value.message_dict["route"][0]
    assert "route" in bad_route.value.message_dict
    assert (decision.outcome, decision.route, decision.reason) == (
        "amended",
        "intravenous",
        "both knees and hip",
    )


@pytest.mark.django_db
def test_decline_needs_a_reason_and_means_not_recommended():
    case, doctor = awaiting_review(), specialist()

    with pytest.raises(ValidationError):
        review.decline_case(case_id=case.pk, user=doctor, reason="")
    decision = review.decline_case(case_id=case.pk, user=doctor, reason="Uncontrolled diabetes")

    assert (decision.outcome, decision.route) == ("declined", "not_recommended")


@pytest.mark.django_db
def test_a_needs_information_draft_cannot_be_approved_as_it_stands():
    case, doctor = awaiting_review(affected_sites=[]), specialist()
    assert current_draft(case).route == "needs_information"

    with pytest.raises(review.ReviewError, match="cannot be approved"):
        review.approve_draft(case_id=case.pk, user=doctor)

    assert review.amend_draft(case_id=case.pk, user=doctor, route="intravenous", reason="spoke to GP").route


@pytest.mark.django_db
def test_asking_for_information_then_answering_redrafts_the_case():
    # Given a localized condition with no site: the draft needs information
    case, doctor = awaiting_review(affected_sites=[]), specialist()

    # When the specialist asks and the front desk answers with the site
    review.request_information(case_id=case.pk, user=doctor, question="Which knee?")
    case.refresh_from_db()
    assert (case.status, case.open_question) == (CaseStatus.NEEDS_INFORMATION, "Which knee?")
    answer_information(
        case=case, actor=Actor(label="desk"), answer=Answer("The right one", affected_sites=["right_knee"])
    )
    make_draft(case_id=case.pk)  # what the queued task does

    # Then a second draft answers the question and the case is back in the queue
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_REVIEW
    assert case.open_question == ""
    assert list(Recommendation.objects.filter(case=case).values_list("sequence", "route")) == [
        (2, "local_injection"),
        (1, "needs_information"),
    ]
    notes = list(case.events.values_list("note", flat=True))
    assert "Question: Which knee?" in notes
    assert "Answer: The right one (changed: affected sites now Right knee)" in notes


@pytest.mark.django_db
def test_asking_needs_a_question():
    case = awaiting_review()
    with pytest.raises(ValidationError) as raised:
        review.request_information(case_id=case.pk, user=specialist(), question="")
    assert "question" in raised.value.message_dict


@pytest.mark.django_db
@pytest.mark.parametrize(
    "act",
    [
        lambda case, user: review.approve_draft(case_id=case.pk, user=user),
        lambda case, user: review.amend_draft(case_id=case.pk, user=user, route="intravenous", reason="r"),
        lambda case, user: review.decline_case(case_id=case.pk, user=user, reason="r"),
        lambda case, user: review.request_information(case_id=case.pk, user=user, question="q"),
        lambda case, user: review.claim_case(case_id=case.pk, user=user),
    ],
)
def test_the_front_desk_cannot_review(act):
    case = awaiting_review()
    with pytest.raises(PermissionDenied):
        act(case, make_user(group="Front desk"))
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_REVIEW and case.claimed_by is None


@pytest.mark.django_db
def test_acting_on_a_case_not_awaiting_review_is_refused_with_what_happened():
    case, first, second = awaiting_review(), specialist("dr_first"), specialist()
    review.decline_case(case_id=case.pk, user=first, reason="contraindicated")

    with pytest.raises(review.ReviewError, match="already decided by Dr. Dr_First, MD"):
        review.approve_draft(case_id=case.pk, user=second)
    drafting = make_case()
    with pytest.raises(review.ReviewError, match="is received now"):
        review.approve_draft(case_id=drafting.pk, user=second)

    assert Decision.objects.filter(case=case).count() == 1


@pytest.mark.django_db
def test_claims_show_who_reviews_and_are_not_taken_silently():
    case, first, second = awaiting_review(), specialist("dr_a"), specialist("dr_b")

    review.claim_case(case_id=case.pk, user=first)
    with pytest.raises(review.ReviewError, match="Dr. Dr_A claimed this case"):
        review.claim_case(case_id=case.pk, user=second)
    with pytest.raises(review.ReviewError, match="only they can release it"):
        review.release_claim(case_id=case.pk, user=second)  # an active claim is its holder's
    review.release_claim(case_id=case.pk, user=first)
    review.claim_case(case_id=case.pk, user=second)

    case.refresh_from_db()
    assert case.claimed_by == second
    review.approve_draft(case_id=case.pk, user=second)
    case.refresh_from_db()
    assert case.claimed_by is None  # a decided case is nobody's to review


@pytest.mark.django_db
def test_addenda_append_to_a_decision_that_itself_never_changes():
    case, doctor = awaiting_review(), specialist()
    decision = review.approve_draft(case_id=case.pk, user=doctor)

    with pytest.raises(ValidationError):
        review.add_addendum(decision_id=decision.pk, user=doctor, reason="")
    review.add_addendum(decision_id=decision.pk, user=doctor, reason="Dose note: see plan v2")

    (addendum,) = Addendum.objects.filter(decision=decision)
    assert (addendum.author, addendum.reason) == (doctor, "Dose note: see plan v2")
    assert Decision.objects.get(pk=decision.pk).reason == ""
    assert case.events.filter(note="Addendum: Dose note: see plan v2").exists()


@pytest.mark.django_db
def test_deciding_a_partner_case_records_the_partner_notification_in_the_same_transaction():
    partner, _ = make_partner(webhook_url="http://127.0.0.1:9/hook")  # an address: there is no DNS here
    case, doctor = awaiting_review(partner=partner, external_id="RF-9"), specialist()

    review.amend_draft(case_id=case.pk, user=doctor, route="intravenous", reason="three sites")

    (note,) = PartnerNotification.objects.filter(case=case)
    assert note.event_type == "referral.decided"
    assert note.state == "pending"
    assert note.payload["data"]["decision"] == {
        "route": "intravenous",
        "outcome": "amended",
        "reason": "three sites",
        "decided_at": note.payload["data"]["decision"]["decided_at"],
        "protocol": KNEE_INFUSION_AS_DECIDED,  # the infusion is taken under the protocol covering it
    }
    assert "draft" not in str(note.payload).lower()


@pytest.mark.django_db
def test_a_desk_case_records_no_partner_notification():
    case = awaiting_review()
    review.approve_draft(case_id=case.pk, user=specialist())
    assert not PartnerNotification.objects.exists()


@committed_db
def test_two_specialists_deciding_at_once_make_exactly_one_decision():
    assert connection.vendor == "postgresql"
    case = awaiting_review()
    doctors = [specialist(f"dr_{i}") for i in range(6)]

    def decide(index: int, user):
        if index % 2:
            return lambda: review.approve_draft(case_id=case.pk, user=user)
        return lambda: review.amend_draft(
            case_id=case.pk, user=user, route="intravenous", reason=f"dr {index}"
        )

    raced = at_once(*[decide(i, u) for i, u in enumerate(doctors)])
    assert all(isinstance(r, (Decision, review.ReviewError)) for r in raced), raced
    results = ["decided" if isinstance(r, Decision) else str(r) for r in raced]

    assert results.count("decided") == 1
    assert all("already decided by" in r for r in results if r != "decided")
    assert Decision.objects.filter(case=case).count() == 1
    assert Case.objects.get(pk=case.pk).events.filter(to_status="decided").count() == 1


@pytest.mark.django_db
def test_a_case_without_consent_is_declined_or_asked_about_and_consent_given_later_lets_it_through():
    # Given a drafted case with no consent recorded
    case = make_case(consent_obtained=False)
    make_draft(case_id=case.pk)
    doctor = specialist()

    # Approving or amending is refused, with what to do instead
    with pytest.raises(review.ReviewError, match="ask for information"):
        review.approve_draft(case_id=case.pk, user=doctor)
    with pytest.raises(review.ReviewError, match="No consent is recorded"):
        review.amend_draft(case_id=case.pk, user=doctor, route="intravenous", reason="x")
    assert not Decision.objects.exists()

    # When the specialist asks, the desk records the consent with its answer, and the case is re-drafted
    review.request_information(case_id=case.pk, user=doctor, question="Has the patient signed the consent?")
    answer_information(
        case=Case.objects.get(pk=case.pk),
        actor=Actor(label="desk"),
        answer=Answer("Signed today", consent=Consent(obtained=True, form_version="2026-03")),
    )
    make_draft(case_id=case.pk)

    # Then the draft no longer flags it, and it can be approved
    assert "consent_missing" not in current_draft(Case.objects.get(pk=case.pk)).flags
    assert review.approve_draft(case_id=case.pk, user=doctor).outcome == "approved"


@pytest.mark.django_db
def test_deciding_a_case_another_specialist_holds_is_refused_with_their_name_and_the_claims_age(settings):
    case, holder, other = awaiting_review(), specialist("dr_holder"), specialist("dr_other")
    review.claim_case(case_id=case.pk, user=holder)

    with pytest.raises(review.ReviewError, match=r"Dr. Dr_Holder claimed this case 0\xa0minutes ago"):
        review.approve_draft(case_id=case.pk, user=other)
    with pytest.raises(review.ReviewError, match="Dr. Dr_Holder claimed this case"):
        review.request_information(case_id=case.pk, user=other, question="?")
    assert not Decision.objects.exists()

    # Once the claim has lapsed, another specialist may decide (and the case is theirs first)
    Case.objects.filter(pk=case.pk).update(claimed_at=timezone.now() - timedelta(minutes=61))
    review.approve_draft(case_id=case.pk, user=other)
    notes = list(Case.objects.get(pk=case.pk).events.order_by("id").values_list("actor_label", "note"))
    assert ("dr_other", "Claimed for review") in notes


@pytest.mark.django_db
def test_deciding_an_unclaimed_case_claims_it_in_the_same_transaction():
    case, doctor = awaiting_review(), specialist("dr_quick")

    review.approve_draft(case_id=case.pk, user=doctor)

    events = Case.objects.get(pk=case.pk).events.order_by("id")
    notes = list(events.values_list("note", flat=True))
    assert notes[-2:] == [
        "Claimed for review",
        "Approved as drafted: Local injection, under protocol knee-oa-bmac v1.",
    ]


@pytest.mark.django_db
def test_a_specialist_without_a_full_name_and_credentials_cannot_decide():
    case = awaiting_review()
    unsigned = make_user("dr_new", group="Specialists", signs=False)

    with pytest.raises(review.ReviewError, match="signed with your full name and credentials"):
        review.approve_draft(case_id=case.pk, user=unsigned)
    # Asking claims the case for a moment and speaks for the clinic: it is signed too.
    with pytest.raises(review.ReviewError, match="signed with your full name and credentials"):
        review.request_information(case_id=case.pk, user=unsigned, question="Which knee?")
    assert not Decision.objects.exists()
    assert Case.objects.get(pk=case.pk).status == CaseStatus.AWAITING_REVIEW
