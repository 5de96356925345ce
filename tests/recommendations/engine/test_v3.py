"""Rule set v3 (DESIGN.md), in the order of "Order and edges (v3)", with the clinicians' cases."""

from dataclasses import replace
from datetime import date

from hypothesis import given as hypothesis_given
from hypothesis import settings
from hypothesis import strategies as st

from intake.vocabulary.body_sites import BODY_SITES
from recommendations.engine import (
    CURRENT,
    RULES_BY_VERSION,
    RULESETS,
    EngineConfig,
    intake_from_snapshot,
    snapshot_of,
    v2,
)
from recommendations.engine.protocols import covering
from recommendations.engine.v3 import draft
from tests.recommendations.engine.v3_support import BASE, given, ids, protocol, run, systemic

KNEES_AND_HIPS = protocol(
    id="knee-hip-oa", indications=["M16", "M17"], sites=["left_knee", "right_knee", "left_hip", "right_hip"]
)


def test_v3_is_the_newest_rule_set():
    assert CURRENT == "v3"
    assert RULESETS["v3"] is draft
    assert "NO-PROTOCOL" in RULES_BY_VERSION["v3"]


def test_a_covered_local_draft_records_its_protocol():
    result = run()

    assert result.route == "local_injection"
    assert result.protocol == {"id": "knee-oa-bmac", "version": 1}
    assert ids(result) == ["COND-LOCALIZED", "PROTOCOL-COVERS"]
    assert result.as_dict()["protocol"] == {"id": "knee-oa-bmac", "version": 1}


# --- the clinicians' cases ------------------------------------------------------------------------


def test_cerebral_palsy_at_five_has_no_protocol_and_is_not_recommended():
    result = run(condition_code="G80.9", affected_sites=(), birth_date=date(2021, 6, 1), findings={})

    assert result.route == "not_recommended"
    assert "NO-PROTOCOL" in ids(result)
    detail = next(rule.detail for rule in result.rules if rule.id == "NO-PROTOCOL")
    assert "intravenous cells in G80.9 Cerebral palsy, unspecified" in detail
    assert "https://clinicaltrials.gov/search?cond=Cerebral+palsy%2C+unspecified" in detail
    assert "not FDA review or approval" in detail
    assert "minor" in result.flags


def test_acute_stroke_is_deferred_until_stable():
    result = run(condition_code="I63.9", affected_sites=())

    assert result.route == "not_recommended"
    assert ids(result) == ["HS-ACUTE"]
    assert "defer until stable" in result.rules[0].text


def test_a_hip_listed_on_a_knee_code_asks_for_its_code_and_never_goes_intravenous():
    result = run(condition_code="M17.0", affected_sites=("left_knee", "right_knee", "left_hip"))

    assert result.route == "needs_information"
    assert "LOC-SITE-MISMATCH" in ids(result)
    assert result.needs["sites_without_condition"] == ["left_hip"]


def test_three_joints_with_their_codes_stay_local_injection_staged_by_session():
    result = run(
        KNEES_AND_HIPS,
        condition_code="M17.0",
        additional_conditions=("M16.0",),
        affected_sites=("left_knee", "right_knee", "left_hip"),
    )

    assert result.route == "local_injection"
    assert "multi_site" in result.flags
    multi = next(rule for rule in result.rules if rule.id == "FLAG-MULTI-SITE")
    assert "2 session(s)" in multi.detail
    assert "Fischer" in result.other_route and "lungs" in result.other_route


def test_sites_beyond_the_protocols_sessions_are_staged_even_below_the_multi_site_threshold():
    one_per_session = protocol(
        id="hip-oa", indications=["M16"], sites=["left_hip", "right_hip"], max_sites_per_session=1
    )

    result = run(one_per_session, condition_code="M16.0", affected_sites=("left_hip", "right_hip"))
    within = run(condition_code="M17.0", affected_sites=("left_knee", "right_knee"))  # 2 per session

    assert result.route == "local_injection" and "multi_site" not in result.flags
    covers = next(rule for rule in result.rules if rule.id == "PROTOCOL-COVERS")
    assert "2 sessions" in covers.detail and "at most 1 site(s) per session" in covers.detail
    assert "session" not in next(rule for rule in within.rules if rule.id == "PROTOCOL-COVERS").detail


def test_a_protocol_that_covers_all_but_a_listed_site_is_named_with_that_site_not_the_condition():
    result = run(
        condition_code="M17.11", additional_conditions=("M16.11",), affected_sites=("right_knee", "right_hip")
    )

    assert result.route == "not_recommended"
    detail = next(rule.detail for rule in result.rules if rule.id == "NO-PROTOCOL")
    assert "protocol knee-oa-bmac for M17.11 does not cover the site(s) Right hip" in detail
    assert "no protocol for local injection of cells in M17.11" not in detail


def test_a_site_on_the_other_side_fails_only_when_every_code_holding_it_names_the_other_side():
    wrong = run(affected_sites=("left_knee",))
    both = run(
        KNEES_AND_HIPS,
        condition_code="M17.11",
        additional_conditions=("M17.0",),  # bilateral knee: holds the left knee without a side
        affected_sites=("left_knee", "right_knee"),
    )

    assert wrong.route == "needs_information" and ids(wrong)[-1] == "LOC-SIDE-MISMATCH"
    assert wrong.needs["sites_on_wrong_side"] == ["left_knee"]
    # The question a person reads names the site by its label; `needs` keeps the contract's code.
    assert "but left knee is on the other" in wrong.missing and "left_knee" not in wrong.missing
    assert both.route == "local_injection"


def test_a_localized_code_without_a_site_asks_for_it():
    result = run(affected_sites=())

    assert result.route == "needs_information"
    assert result.needs["sites"] is True


def test_nonunion_with_7th_characters_k_m_n_is_localized_pelvis_included():
    nonunion = protocol(
        id="nonunion", indications=["S32-S92", "M84.3"], sites=list(BODY_SITES), requires=[], limits={}
    )
    for code, site in [("S52.501M", "right_forearm"), ("S82.001N", "right_knee"), ("S32.401K", "trunk")]:
        result = run(nonunion, condition_code=code, affected_sites=(site,), findings={})
        assert ids(result)[0] == "COND-LOCALIZED", code
        assert result.route == "local_injection", code


# --- protocols: routes for uncategorised codes, data, limits -----------------------------------


def test_an_uncategorised_code_takes_the_route_of_the_protocols_that_list_it():
    autism_iv = systemic(id="asd-iv", indications=["F84.0"], age={"min": 4}, basis="ind")
    autism_local = protocol(id="asd-local", indications=["F84.0"], sites=["lumbar_spine"])

    one = run(autism_iv, condition_code="F84.0", affected_sites=(), findings={}, consent_by="guardian")
    both = run(autism_iv, autism_local, condition_code="F84.0", affected_sites=(), findings={})
    none = run(condition_code="F84.0", affected_sites=(), findings={})

    assert one.route == "intravenous" and ids(one)[0] == "COND-PROTOCOL-ROUTE"
    assert both.route == "needs_information" and ids(both)[0] == "PROTOCOL-AMBIGUOUS"
    assert both.needs["protocols"] == ["asd-iv", "asd-local"]
    assert none.route == "not_recommended" and ids(none)[0] == "NO-PROTOCOL"


def test_missing_findings_are_asked_by_label_and_exactly():
    result = run(findings={"kl_grade": 2})

    assert result.route == "needs_information"
    assert result.needs["findings"] == ["conservative_care_months"]
    assert "months of conservative care tried" in result.missing


def test_a_limit_excludes_before_missing_findings_are_asked():
    result = run(findings={"kl_grade": 4})

    assert result.route == "not_recommended"
    assert ids(result)[-1] == "PROTOCOL-EXCLUDES"
    assert result.needs["findings"] == []
    assert "at most 3" in result.rules[-1].detail


def test_a_limit_applies_only_to_a_value_given():
    lenient = protocol(requires=[], limits={"kl_grade": {"max": 3}})

    assert run(lenient, findings={}).route == "local_injection"


# --- lifting a stop -------------------------------------------------------------------------------


def aml(basis: str, **changes):
    data = {"id": "aml", "indications": ["C92.0"], "basis": basis, "age": {"min": 18}}
    return systemic(**(data | changes))


def test_an_ind_protocol_listing_the_main_malignancy_lifts_its_stop_and_the_answer_with_it():
    result = run(aml("ind"), condition_code="C92.00", affected_sites=(), findings={}, active_malignancy=True)

    assert result.route == "intravenous"
    assert ids(result)[:2] == ["HS-MALIGNANCY", "PROTOCOL-LIFTS-STOP"]
    assert "IND 000000" in result.rules[1].detail


def test_a_stop_is_not_lifted_by_another_basis_another_code_or_an_infection():
    kwargs = {"condition_code": "C92.00", "affected_sites": (), "findings": {}}

    same_surgery = run(aml("same_surgical_procedure", basis_rationale="x"), **kwargs)
    also_pregnant = run(aml("ind"), pregnant=True, **kwargs)
    additional = run(aml("ind"), **(kwargs | {"condition_code": "G35", "additional_conditions": ("C92.00",)}))

    assert same_surgery.route == also_pregnant.route == additional.route == "not_recommended"
    assert "PROTOCOL-LIFTS-STOP" not in ids(same_surgery) + ids(also_pregnant) + ids(additional)


# --- flags ----------------------------------------------------------------------------------------


def test_a_minor_needs_a_guardian_and_under_an_ind_protocol_assent():
    ms = systemic(age={"min": 12})
    kwargs = {"condition_code": "G35", "affected_sites": (), "findings": {}, "birth_date": date(2012, 1, 1)}

    by_patient = run(ms, **kwargs)
    by_guardian = run(ms, consent_by="guardian", **kwargs)
    with_assent = run(ms, consent_by="guardian", assent=True, **kwargs)
    waived = run(systemic(age={"min": 12}, assent_waived=True), consent_by="guardian", **kwargs)

    assert by_patient.route == "intravenous"  # consent never changes the route
    assert by_patient.needs["consent_by"] == ["guardian", "legal_representative"]
    assert "consent_missing" in by_patient.flags
    assert by_guardian.needs["consent_by"] is None and by_guardian.needs["assent"] is True
    assert "consent_missing" in by_guardian.flags
    assert "consent_missing" not in with_assent.flags and "consent_missing" not in waived.flags


def test_the_age_of_majority_comes_from_the_config():
    nineteen = replace(BASE, birth_date=date(2008, 1, 1), consent_by="patient")
    config = EngineConfig(protocols=(protocol(age={"min": 18}),), age_of_majority=19)

    result = draft(nineteen, config)

    assert "minor" in result.flags and result.needs["consent_by"]


def test_thromboembolism_risk_only_on_an_intravenous_candidate():
    ms = systemic()
    iv = run(ms, condition_code="G35", affected_sites=(), findings={}, additional_conditions=("Z86.718",))
    local = run(additional_conditions=("D68.51",))

    assert "thromboembolism_risk" in iv.flags
    assert "thromboembolism_risk" not in local.flags


def test_bleeding_risk_on_every_draft_that_is_not_not_recommended():
    assert "bleeding_risk" in run(anticoagulant_therapy=True).flags
    assert "bleeding_risk" not in run(anticoagulant_therapy=True, condition_code="I63.9").flags


# --- the draft's JSON and snapshots --------------------------------------------------------------


def test_v3_json_carries_protocol_needs_and_breastfeeding_not_asked():
    data = run(breastfeeding=None).as_dict()

    assert set(data["needs"]) == {
        "findings", "consent_by", "assent", "sites_without_condition", "sites_on_wrong_side",
        "sites", "histology", "protocols", "cancer_treatment_ended",
    }  # fmt: skip
    assert {"name": "breastfeeding", "label": "Breastfeeding", "answer": None, "shown": "not asked"} in data[
        "answers"
    ]


def test_v2_json_and_snapshots_stay_as_they_were():
    old = replace(BASE, findings={}, breastfeeding=None)
    v2_dict = v2.draft(old).as_dict()
    snapshot = snapshot_of(old)

    assert "protocol" not in v2_dict and "needs" not in v2_dict
    assert set(snapshot) == {
        "condition_code", "affected_sites", "active_malignancy", "active_infection", "pregnant",
        "anticoagulant_therapy", "bleeding_disorder", "immunosuppressed", "consent_obtained",
        "birth_date", "intake_date",
    }  # fmt: skip
    assert intake_from_snapshot(snapshot) == old
    assert intake_from_snapshot(snapshot_of(BASE)) == BASE


# --- the property: no route without a covering active protocol ------------------------------------

CODES = [
    "M17.11",
    "M17.0",
    "M16.11",
    "G35",
    "G80.9",
    "F84.0",
    "C92.00",
    "I63.9",
    "E11.621",
    "S82.001N",
    "Z85.3",
]
PROTOCOLS = [
    protocol(),
    KNEES_AND_HIPS,
    protocol(id="off", active=False, indications=["M16"]),
    systemic(),
    systemic(id="asd", indications=["F84.0"], age={"min": 2}),
    systemic(id="aml", indications=["C92.0"], basis="ind"),
    protocol(id="foot", indications=["E11.621"], sites=["left_foot", "right_foot"], requires=[]),
]


@settings(max_examples=300, deadline=None)
@hypothesis_given(
    code=st.sampled_from(CODES),
    sites=st.lists(st.sampled_from(sorted(BODY_SITES)), max_size=4, unique=True),
    chosen=st.lists(st.sampled_from(PROTOCOLS), max_size=4),
    age=st.integers(min_value=0, max_value=90),
    kl_grade=st.integers(min_value=0, max_value=4),
    answers=st.fixed_dictionaries({name: st.booleans() for name in ("active_malignancy", "pregnant")}),
)
def test_no_draft_is_a_route_without_a_covering_active_protocol(code, sites, chosen, age, kl_grade, answers):
    intake = given(
        condition_code=code,
        affected_sites=tuple(sites),
        birth_date=date(2026 - age, 1, 1),
        findings={"kl_grade": kl_grade, "conservative_care_months": 6},
        **answers,
    )

    result = draft(intake, EngineConfig(protocols=tuple(chosen)))

    if result.route in ("local_injection", "intravenous"):
        used = next(p for p in chosen if p.ref == result.protocol and p.active)
        assert used.route == result.route
        assert covering(
            [p for p in chosen if p.id == used.id],
            code=code,
            route=result.route,
            birth_date=intake.birth_date,
            intake_date=intake.intake_date,
            sites=tuple(sorted(set(sites))),
            age_of_majority=18,
        )
