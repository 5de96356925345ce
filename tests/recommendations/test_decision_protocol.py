"""A decision records the protocol it is made under (DESIGN.md, "Domain": Decision), its sites and the
notice signed: approvals take the draft's, amendments to a treatment route name a covering protocol or
are refused, and not recommended or declined are made under none."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from intake import chain
from intake.audit import verify_chains
from intake.models import Case, CaseStatus
from intake.workflow import Actor, transition
from recommendations import review
from recommendations.models import Decision, Outcome, Protocol
from recommendations.protocols import create_protocol
from recommendations.sandbox import decide_sandbox_case
from recommendations.selectors import current_draft
from recommendations.services import make_draft
from tests.factories import (
    make_case,
    make_demo_protocols,
    make_partner,
    make_patient,
    make_referral,
    make_user,
)
from tests.recommendations.confirming import sign_on_page

KNEE = {"kl_grade": 2, "conservative_care_months": 6}
REVIEW = "/admin/recommendations/reviewcase/{}/change/"
KNEE_IND = {
    "id": "knee-oa-ind",
    "title": "Knee osteoarthritis, MSC study (test)",
    "route": "local_injection",
    "indications": ["M17"],
    "sites": ["left_knee", "right_knee"],
    "age": {"min": 18, "max": None},
    "basis": "ind",
    "reference": "IND 123456, NCT01234567",
    "clinic_role": "investigator",
    "irb_report_days": 10,
}


@pytest.fixture
def v3(settings):
    settings.RULESET_LIVE = "v3"
    make_demo_protocols()
    return settings


def doctor():
    return make_user(group="Specialists", is_staff=True)


def aged(years: int):
    today = timezone.localdate()
    return make_patient(birth_date=date(today.year - years, 1, 1))


def awaiting(**fields) -> Case:
    case = make_case(**fields)
    make_draft(case_id=case.pk)
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_REVIEW
    return case


def knee_protocol(decision: Decision) -> None:
    assert decision.protocol["id"] == "knee-oa-bmac" and decision.protocol["version"] == 1
    assert decision.protocol["basis"] == "same_surgical_procedure"
    assert set(decision.protocol) == {"id", "version", "title", "basis", "reference"}


@pytest.mark.django_db
def test_an_approval_records_the_drafts_protocol_sites_and_notice(v3):
    case = awaiting(findings=KNEE)

    decision = review.approve_draft(case_id=case.pk, user=doctor())

    knee_protocol(decision)
    held = Protocol.objects.get(protocol_id="knee-oa-bmac", version=1)
    assert (decision.protocol["title"], decision.protocol["reference"]) == (held.title, held.reference)
    assert decision.sites == ["right_knee"]
    assert decision.notice == current_draft(case).notice and "1271.15(b)" in decision.notice_text
    assert "under protocol knee-oa-bmac v1" in case.events.last().note
    assert list(verify_chains()) == []


@pytest.mark.django_db
def test_an_amendment_to_a_route_one_protocol_covers_is_made_under_it(v3):
    # The heart failure draft asks for the findings its protocol needs; the specialist has them in
    # the letter and amends to the infusion the protocol covers.
    case = awaiting(condition_code="I50.22", affected_sites=[], patient=aged(54))
    assert current_draft(case).route == "needs_information"

    decision = review.amend_draft(
        case_id=case.pk, user=doctor(), route="intravenous", reason="LVEF 30 % and NYHA III in the letter"
    )

    assert (decision.outcome, decision.route) == ("amended", "intravenous")
    assert (decision.protocol["id"], decision.protocol["basis"]) == ("hf-msc-ind", "ind")
    assert "IND 000000" in decision.protocol["reference"]
    assert "IND 000000" in decision.notice_text and decision.notice_sources


@pytest.mark.django_db
def test_an_amendment_no_protocol_covers_is_refused_saying_what_is_not_covered(v3):
    case = awaiting(condition_code="G35", affected_sites=[], patient=aged(54))

    with pytest.raises(ValidationError) as refused:
        review.amend_draft(case_id=case.pk, user=doctor(), route="intravenous", reason="Relapsing")

    message = refused.value.message_dict["route"][0]
    assert message.startswith(
        "No active protocol covers intravenous cells for G35 Multiple sclerosis at age 54: "
        "choose a protocol, decline, or ask for information. Not covered because "
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_REVIEW and not Decision.objects.filter(case=case).exists()


@pytest.mark.django_db
def test_an_amendment_for_sites_the_protocol_does_not_allow_names_them(v3):
    case = awaiting(affected_sites=["right_knee", "left_shoulder"], findings=KNEE)
    assert current_draft(case).route != "local_injection"

    with pytest.raises(ValidationError) as refused:
        review.amend_draft(case_id=case.pk, user=doctor(), route="local_injection", reason="both")

    message = refused.value.message_dict["route"][0]
    assert "local injection of cells into" in message and "left_shoulder" in message
    assert not Decision.objects.filter(case=case).exists()


@pytest.mark.django_db
def test_when_several_protocols_cover_the_specialist_chooses_and_the_engine_chooses_by_default(v3):
    create_protocol(data=KNEE_IND)
    # No findings: they ask.
    chosen_case, default_case, other = awaiting(findings={}), awaiting(findings={}), awaiting(findings={})
    assert current_draft(chosen_case).protocol_id == "knee-oa-bmac"

    chosen = review.amend_draft(
        case_id=chosen_case.pk,
        user=doctor(),
        route="local_injection",
        reason="KL 2",
        protocol="knee-oa-ind:1",
    )
    default = review.amend_draft(
        case_id=default_case.pk, user=doctor(), route="local_injection", reason="KL 2"
    )
    with pytest.raises(ValidationError) as wrong:
        review.amend_draft(
            case_id=other.pk, user=doctor(), route="local_injection", reason="x", protocol="hf-msc-ind:1"
        )

    assert chosen.protocol["id"] == "knee-oa-ind" and chosen.protocol["basis"] == "ind"
    # Signed under another protocol than the draft's: that protocol's notice, not the draft's.
    assert "IND 123456" in chosen.notice_text and chosen.notice != current_draft(chosen_case).notice
    knee_protocol(default)
    assert default.notice == current_draft(default_case).notice
    assert "choose knee-oa-bmac v1, knee-oa-ind v1" in wrong.value.message_dict["protocol"][0]
    assert not Decision.objects.filter(case=other).exists()


@pytest.mark.django_db
def test_not_recommended_and_declined_are_made_under_no_protocol(v3):
    amended_case, declined_case = awaiting(findings=KNEE), awaiting(findings=KNEE)

    amended = review.amend_draft(
        case_id=amended_case.pk, user=doctor(), route="not_recommended", reason="Skin infection over the knee"
    )
    declined = review.decline_case(case_id=declined_case.pk, user=doctor(), reason="Patient withdrew")

    assert (amended.route, amended.protocol) == ("not_recommended", None)
    assert (declined.outcome, declined.protocol) == (Outcome.DECLINED, None)
    assert amended.notice == current_draft(amended_case).notice  # the notice the page showed


@pytest.mark.django_db
def test_a_v2_draft_is_approved_and_amended_as_before_under_no_protocol(settings):
    settings.RULESET_LIVE = "v2"
    approved_case, amended_case = awaiting(), awaiting()

    approved = review.approve_draft(case_id=approved_case.pk, user=doctor())
    amended = review.amend_draft(case_id=amended_case.pk, user=doctor(), route="intravenous", reason="r")

    assert (approved.protocol, amended.protocol) == (None, None)
    assert approved.notice == current_draft(approved_case).notice and approved.sites == ["right_knee"]


def _raw(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.django_db
def test_the_audit_chain_verifies_new_decisions_and_one_signed_before_the_new_fields(v3):
    review.approve_draft(case_id=awaiting(findings=KNEE).pk, user=doctor())
    review.decline_case(case_id=awaiting(findings=KNEE).pk, user=doctor(), reason="No")
    # A decision as signed before protocol, sites and notice existed: its hash covers none of them.
    old_case, signer = awaiting(findings=KNEE), doctor()
    old = chain.append(
        Decision(
            case=old_case,
            recommendation=current_draft(old_case),
            route="local_injection",
            outcome="approved",
            decided_by=signer,
        )
    )
    transition(case=old_case, to_status=CaseStatus.DECIDED, actor=Actor.of_user(signer), note="Approved")

    assert not {"protocol", "sites", "notice"} & set(old.chain_content())
    assert list(verify_chains()) == []

    # The snapshot is in the hash: rewriting it behind the models' back is caught.
    tampered = Decision.objects.filter(outcome="approved", protocol__isnull=False).get()
    _raw(
        "UPDATE recommendations_decision SET protocol = jsonb_set(protocol, '{version}', '2') WHERE id = %s",
        [tampered.pk],
    )
    problems = list(verify_chains())
    assert [problem.case_id for problem in problems] == [tampered.case_id]


@pytest.mark.django_db
def test_the_sandbox_amends_only_under_a_demo_protocol_and_asks_when_the_draft_needs_information():
    partner, _ = make_partner(sandbox=True)
    # Grade 4 is beyond the knee protocol's limit: not recommended, and local injection is covered.
    beyond = make_referral(
        partner, external_id="amend-1", findings={"kl_grade": 4, "conservative_care_months": 6}
    )
    asks = make_referral(partner, external_id="amend-2", findings={})  # no findings: the draft asks
    for case in (beyond, asks):
        make_draft(case_id=case.pk)

    assert decide_sandbox_case(case_id=beyond.pk) == "amend"
    assert decide_sandbox_case(case_id=asks.pk) == "ask"

    decision = Decision.objects.get(case=beyond)
    assert (decision.outcome, decision.route) == ("amended", "local_injection")
    knee_protocol(decision)
    assert "under demo protocol knee-oa-bmac v1" in decision.reason
    assert Case.objects.get(pk=asks.pk).status == CaseStatus.NEEDS_INFORMATION


@pytest.mark.django_db
def test_the_review_page_offers_the_covering_protocols_and_shows_the_decision_as_signed(v3, client):
    create_protocol(data=KNEE_IND)
    case = awaiting(findings={})  # it asks for findings, so amending to local injection is possible
    client.force_login(doctor())

    page = client.get(REVIEW.format(case.pk)).content.decode()

    assert '<option value="knee-oa-bmac:1">' in page and '<option value="knee-oa-ind:1">' in page
    assert "knee-oa-bmac v1: EXAMPLE: autologous bone marrow" in page and "(the engine's choice)" in page
    assert "No active protocol covers intravenous cells for M17.11" in page
    assert "Amending to intravenous infusion is not possible." in page
    assert '<option value="intravenous" disabled>' in page

    refused = client.post(
        REVIEW.format(case.pk), {"action": "amend", "route": "intravenous", "reason": "why not"}
    ).content.decode()
    assert "No active protocol covers intravenous cells" in refused
    assert not Decision.objects.filter(case=case).exists()

    sign_on_page(
        client,
        REVIEW.format(case.pk),
        {
            "action": "amend",
            "route": "local_injection",
            "protocol": "knee-oa-ind:1",
            "reason": "KL 2 on film",
        },
    )
    decided = client.get(REVIEW.format(case.pk)).content.decode()
    assert "knee-oa-ind version 1: Knee osteoarthritis, MSC study (test)" in decided
    assert "Regulatory notice as signed:" in decided and "IND 123456" in decided
    assert "Right knee" in decided


@pytest.mark.django_db
def test_the_printed_decision_names_its_protocol_and_the_notice_as_signed(v3, client):
    case = awaiting(findings=KNEE)
    review.approve_draft(case_id=case.pk, user=doctor())
    client.force_login(make_user(group="Front desk"))

    printed = client.get(f"/desk/cases/{case.pk}/print/").content.decode()

    assert "(knee-oa-bmac version 1)" in printed
    assert 'id="notice"' in printed and "1271.15(b)" in printed
