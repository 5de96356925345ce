"""Shadow drafts (RULESET_SHADOW): the draft a second rule set would have made is stored beside the
live one, in the case's audit chain, and is never current, never in the queue, the review page,
`needs`, a partner's read or the sandbox.

The case used throughout lacks the months of conservative care the knee protocol requires: rule set
v3 (live) asks for them (needs information), rule set v2 (shadow) drafts a local injection, so a
read that picked the shadow would show."""

import logging

import pytest
from django.db import connection
from rest_framework.test import APIClient

from intake.audit import verify_chains
from intake.clinical import Answer
from intake.models import Case
from intake.services import answer_information
from intake.workflow import Actor
from recommendations import review
from recommendations.models import Decision, Recommendation
from recommendations.sandbox import decide_sandbox_case
from recommendations.selectors import current_draft, review_page, review_queue, with_current_draft
from recommendations.services import make_draft
from tests.factories import make_case, make_partner, make_referral, make_user

ASKS = {"kl_grade": 2}  # no conservative_care_months
QUEUE = "/admin/recommendations/reviewcase/"


@pytest.fixture(autouse=True)
def _v3_live_v2_shadow(settings):
    settings.RULESET_LIVE = "v3"
    settings.RULESET_SHADOW = "v2"


def drafted(**fields) -> Case:
    case = make_case(findings=ASKS, **fields)
    make_draft(case_id=case.pk)
    return Case.objects.get(pk=case.pk)


def drafts_of(case: Case) -> dict[bool, Recommendation]:
    return {draft.shadow: draft for draft in Recommendation.objects.filter(case=case)}


@pytest.mark.django_db
def test_the_shadow_draft_is_stored_beside_the_live_one_and_is_never_current():
    case = drafted()

    drafts = drafts_of(case)

    live, shadow = drafts[False], drafts[True]
    assert (live.ruleset_version, live.route, live.sequence) == ("v3", "needs_information", 1)
    assert (shadow.ruleset_version, shadow.route, shadow.sequence) == ("v2", "local_injection", 1)
    assert current_draft(case) == live
    assert Recommendation.objects.current_of(case) == live
    assert case.status == "awaiting_review"


@pytest.mark.django_db
def test_shadow_drafts_are_chained_records_and_their_flag_is_sealed_in():
    case = drafted()
    shadow = drafts_of(case)[True]

    assert list(verify_chains()) == []
    # The flag joins the hash only when set: live drafts hashed before it existed keep their hashes.
    assert "shadow" not in drafts_of(case)[False].chain_content()
    assert shadow.chain_content()["shadow"] is True

    # A live draft hidden as a shadow behind the services' back (rows are append-only: by SQL) would
    # leave the queue and the partner's needs; the chain says so.
    live = drafts_of(case)[False]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE recommendations_recommendation SET shadow = true WHERE id = %s", [live.pk])
    (problem,) = verify_chains()
    assert problem.case_id == case.pk


@pytest.mark.django_db
def test_the_queue_and_its_route_filter_read_the_live_draft(client):
    case = drafted()
    client.force_login(make_user("dr_shadow", group="Specialists", is_staff=True))

    (queued,) = review_queue(Case.objects.all())
    (annotated,) = with_current_draft(Case.objects.filter(pk=case.pk))

    assert queued.draft_route == annotated.draft_route == "needs_information"
    surname = case.patient.family_name
    assert surname in client.get(QUEUE, {"route": "needs_information"}).content.decode()
    assert surname not in client.get(QUEUE, {"route": "local_injection"}).content.decode()


@pytest.mark.django_db
def test_the_review_page_shows_only_live_drafts(client):
    case = drafted()
    client.force_login(make_user("dr_page", group="Specialists", is_staff=True))

    page = client.get(f"{QUEUE}{case.pk}/change/").content.decode()

    assert [d.shadow for d in review_page(case).drafts] == [False]
    assert "Earlier drafts" not in page  # the shadow would have been listed as one
    assert "rule set v2" not in page.lower()


@pytest.mark.django_db
def test_a_partner_is_asked_what_the_live_draft_needs_and_never_sees_the_shadow():
    partner, key = make_partner()
    case = make_referral(partner, findings=ASKS)
    make_draft(case_id=case.pk)
    review.request_information(case_id=case.pk, user=make_user(group="Specialists"), question="Months?")

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    body = api.get(f"/api/v1/referrals/{case.pk}/").json()

    # The v2 shadow asks for nothing: a read that took it would send empty needs.
    assert body["needs"]["findings"] == ["conservative_care_months"]
    assert "shadow" not in str(body) and "v2" not in str(body)


@pytest.mark.django_db
def test_a_redraft_after_the_answer_gets_its_own_shadow_and_the_decision_answers_the_live_draft():
    case = drafted()
    doctor = make_user(group="Specialists")
    review.request_information(case_id=case.pk, user=doctor, question="How many months of care?")
    answer_information(
        case=Case.objects.get(pk=case.pk),
        actor=Actor(label="desk"),
        answer=Answer("Six months of physiotherapy", findings={"conservative_care_months": 6}),
    )
    make_draft(case_id=case.pk)

    rows = sorted(Recommendation.objects.filter(case=case).values_list("sequence", "shadow", "route"))
    decision = review.approve_draft(case_id=case.pk, user=doctor)

    assert rows == [
        (1, False, "needs_information"),
        (1, True, "local_injection"),
        (2, False, "local_injection"),
        (2, True, "local_injection"),
    ]
    assert (decision.recommendation.sequence, decision.recommendation.shadow) == (2, False)
    assert list(verify_chains()) == []


@pytest.mark.django_db
def test_the_sandbox_never_stores_a_shadow_and_decides_on_the_live_draft():
    partner, _ = make_partner(sandbox=True)
    case = make_referral(partner, external_id="approve-shadow-1")
    make_draft(case_id=case.pk)

    decide_sandbox_case(case_id=case.pk)

    assert not Recommendation.objects.filter(case=case, shadow=True).exists()
    assert Decision.objects.get(case=case).recommendation.shadow is False


@pytest.mark.django_db
def test_no_shadow_without_the_setting_nor_when_it_names_the_live_rule_set(settings):
    settings.RULESET_SHADOW = None
    none_named = drafted()
    settings.RULESET_SHADOW = "v3"
    live_named = drafted()

    assert not Recommendation.objects.filter(case__in=[none_named, live_named], shadow=True).exists()
    assert Recommendation.objects.filter(case__in=[none_named, live_named]).count() == 2


@pytest.mark.django_db
def test_a_typo_in_the_setting_never_stops_the_live_draft(settings, caplog):
    settings.RULESET_SHADOW = "v9"

    with caplog.at_level(logging.ERROR, logger="recommendations.services"):
        case = drafted()

    assert [d.shadow for d in Recommendation.objects.filter(case=case)] == [False]
    assert case.status == "awaiting_review"
    assert "RULESET_SHADOW is 'v9'" in caplog.text
