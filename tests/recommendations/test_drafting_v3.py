"""Live drafting with rule set v3: the clinic's protocols gate the route, and the draft records them."""

import pytest

from intake.audit import verify_chains
from intake.models import Case, CaseStatus
from recommendations.models import Recommendation
from recommendations.sandbox import decide_sandbox_case
from recommendations.services import make_draft
from tests.factories import make_case, make_demo_protocols, make_partner, make_referral
from tests.faults.conftest import own_broker  # noqa: F401 - a redis-server of its own, as a fixture
from tests.support import WorkerProcess, committed_db, wait_for

KNEE = {"kl_grade": 2, "conservative_care_months": 6}


@pytest.fixture
def v3(settings):
    settings.RULESET_LIVE = "v3"
    return settings


def drafted(**changes) -> Recommendation:
    case = make_case(condition_code="M17.11", affected_sites=["right_knee"], **changes)
    return make_draft(case_id=case.pk)


def rule_ids(draft: Recommendation) -> list[str]:
    return [rule["id"] for rule in draft.rules]


@pytest.mark.django_db
def test_a_knee_case_with_its_findings_is_drafted_under_the_knee_protocol_and_says_so(v3):
    make_demo_protocols()

    draft = drafted(findings=KNEE)

    assert (draft.route, draft.ruleset_version) == ("local_injection", "v3")
    assert (draft.protocol_id, draft.protocol_version) == ("knee-oa-bmac", 1)
    assert "PROTOCOL-COVERS" in rule_ids(draft)
    assert not draft.needs["findings"]
    # The notice is the one for the protocol's basis (same surgical procedure), with its sources.
    assert "1271.15(b)" in draft.notice_text and draft.notice_sources
    assert Case.objects.get(pk=draft.case_id).status == CaseStatus.AWAITING_REVIEW


@pytest.mark.django_db
def test_a_knee_case_without_the_findings_its_protocol_requires_asks_for_them(v3):
    make_demo_protocols()

    draft = drafted(findings={})

    assert draft.route == "needs_information"
    assert "PROTOCOL-DATA" in rule_ids(draft)
    assert draft.needs["findings"] == ["kl_grade", "conservative_care_months"]
    assert "Kellgren–Lawrence grade, months of conservative care tried" in draft.missing
    assert draft.protocol_id == "knee-oa-bmac"  # the protocol that asks


@pytest.mark.django_db
def test_without_a_protocol_the_draft_is_not_recommended_and_names_what_is_missing(v3, no_demo_protocols):
    draft = drafted(findings=KNEE)

    assert draft.route == "not_recommended"
    assert rule_ids(draft) == ["COND-LOCALIZED", "NO-PROTOCOL"]
    assert "outside a protocol this use is investigational" in draft.rules[-1]["text"]
    assert (draft.protocol_id, draft.protocol_version) == ("", None)
    assert "list of FDA-licensed stem-cell-based products" in draft.notice_text  # the general notice


@pytest.mark.django_db
def test_in_florida_without_a_configured_notice_the_knee_protocol_does_not_cover(v3):
    make_demo_protocols()
    v3.CLINIC_JURISDICTION = "FL"
    v3.CLINIC_STATE_NOTICE_VERSION = ""

    draft = drafted(findings=KNEE)

    assert draft.route == "not_recommended" and "NO-PROTOCOL" in rule_ids(draft)


@pytest.mark.django_db
def test_drafts_of_both_rule_sets_keep_the_audit_chain_verifying(v3):
    make_demo_protocols()
    drafted(findings=KNEE)  # v3: protocol and needs in its hash
    v3.RULESET_LIVE = "v2"
    old = drafted()  # v2: the added fields empty, left out of its hash

    assert old.ruleset_version == "v2" and old.needs == {}
    assert list(verify_chains()) == []


@pytest.mark.django_db
def test_the_sandbox_drafts_with_v3_and_the_demo_protocols_and_asks_what_the_draft_needs(
    settings, no_demo_protocols
):
    settings.RULESET_LIVE = "v2"  # whatever the live rollout, and with no protocol in the database
    partner, _ = make_partner(sandbox=True)
    case = make_referral(partner, external_id="approve-1", findings={})  # the draft asks for them
    draft = make_draft(case_id=case.pk)

    assert (draft.ruleset_version, draft.route) == ("v3", "needs_information")
    assert decide_sandbox_case(case_id=case.pk) == "ask"  # asked, never amended
    case.refresh_from_db()
    assert case.status == CaseStatus.NEEDS_INFORMATION
    assert case.open_question == f"Sandbox: {draft.missing}"


@pytest.mark.worker
@committed_db
def test_a_real_worker_drafts_a_v3_case_end_to_end(own_broker):  # noqa: F811
    # Given the demo protocols and a worker whose live rule set is v3
    make_demo_protocols()
    worker = WorkerProcess(broker_url=own_broker.url, name="v3-drafting", env={"RULESET_LIVE": "v3"}).start()
    try:
        # When a knee case with its findings is committed
        case = make_case(condition_code="M17.11", affected_sites=["right_knee"], findings=KNEE)

        # Then the worker drafts it under the knee protocol, recorded on the draft
        assert wait_for(
            lambda: Case.objects.filter(pk=case.pk, status=CaseStatus.AWAITING_REVIEW).exists(), timeout=30
        ), f"case still {Case.objects.get(pk=case.pk).status}; see {worker.log_path}"
        (draft,) = Recommendation.objects.filter(case=case)
        assert (draft.ruleset_version, draft.route) == ("v3", "local_injection")
        assert (draft.protocol_id, draft.protocol_version) == ("knee-oa-bmac", 1)
    finally:
        worker.stop()
