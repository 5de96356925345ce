"""What each protocol basis requires, and where a protocol is effective (rule set v3, rule 1)."""

import json
from datetime import date
from pathlib import Path

import pytest

from recommendations import protocol_rules
from recommendations.protocol_rules import basis_problems, effective, ineffective_bases

DEMO = Path(protocol_rules.__file__).parent / "data" / "demo_protocols.json"


def demo() -> list[dict]:
    return json.loads(DEMO.read_text(encoding="utf-8"))["protocols"]


def protocol(**changes) -> dict:
    base = {
        "id": "p",
        "version": 1,
        "title": "EXAMPLE",
        "route": "local_injection",
        "indications": ["M17"],
        "sites": ["left_knee"],
        "age": {"min": 18, "max": None},
        "reference": "",
        "basis_rationale": "",
        "requires": [],
        "limits": {},
        "follow_up": {"instruments": [], "days": []},
        "active": True,
    }
    return base | changes


def test_the_demo_set_has_what_every_basis_requires_and_says_it_is_an_example():
    protocols = demo()
    assert protocols, "the demo set is empty"
    for p in protocols:
        assert basis_problems(p, country="US") == {}, p["id"]
        assert p["title"].startswith("EXAMPLE: "), p["id"]
        assert "EXAMPLE" in (p["reference"] + p["basis_rationale"]), p["id"]


def test_the_demo_set_holds_the_design_knee_protocol_as_written_and_a_sponsor_investigator_ind():
    by_id = {p["id"]: p for p in demo()}
    knee = by_id["knee-oa-bmac"]
    assert knee["basis"] == "same_surgical_procedure"
    assert knee["requires"] == ["kl_grade", "conservative_care_months"]
    assert knee["limits"] == {"kl_grade": {"max": 3}, "conservative_care_months": {"min": 3}}
    assert knee["follow_up"] == {"instruments": ["pain_nrs", "koos_jr"], "days": [0, 42, 91, 182, 365]}
    assert any(p["basis"] == "ind" and p["clinic_role"] == "sponsor_investigator" for p in by_id.values())
    assert {p["route"] for p in by_id.values()} == {"local_injection", "intravenous"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"basis": "approved_product", "route": "intravenous"}, "reference"),
        ({"basis": "ind", "reference": "", "irb_report_days": 5}, "reference"),
        (
            {"basis": "irb_trial", "reference": "", "basis_rationale": "361 HCT/P", "irb_report_days": 5},
            "reference",
        ),
        ({"basis": "minimal_manipulation_homologous"}, "reference"),
        ({"basis": "non_us_authorisation", "active": False}, "reference"),
        ({"basis": "irb_trial", "reference": "NCT01234567", "irb_report_days": 5}, "basis_rationale"),
        ({"basis": "same_surgical_procedure"}, "basis_rationale"),
        (
            {"basis": "irb_trial", "reference": "NCT01234567", "basis_rationale": "1271.15(b)"},
            "irb_report_days",
        ),
        ({"basis": "ind", "reference": "IND 123456"}, "irb_report_days"),
        ({"basis": "ind", "reference": "IND 123456", "irb_report_days": 0}, "irb_report_days"),
        ({"basis": "ind", "reference": "IND 123456", "irb_report_days": True}, "irb_report_days"),
        ({"basis": "ind", "reference": "IND 1", "clinic_role": "owner"}, "clinic_role"),
        ({"basis": "ind", "reference": "NCT01234567", "clinic_role": "sponsor_investigator"}, "reference"),
        ({"basis": "approved_product", "reference": "Prochymal, 2012"}, "reference"),
        ({"basis": "minimal_manipulation_homologous", "reference": "FEI 1", "route": "intravenous"}, "route"),
        ({"basis": "non_us_authorisation", "reference": "PMDA approval 123"}, "active"),
        ({"basis": "exempt"}, "basis"),
        ({}, "basis"),
    ],
)
def test_a_protocol_missing_what_its_basis_requires_is_refused_naming_the_field(changes, field):
    problems = basis_problems(protocol(**changes), country="US")
    assert field in problems, problems
    assert field in problems[field] or field == "active", problems[field]


def test_a_sponsor_investigator_ind_needs_no_irb_report_days_but_an_investigator_ind_does():
    sponsor = protocol(basis="ind", reference="IND 123456", clinic_role="sponsor_investigator")
    assert basis_problems(sponsor, country="US") == {}
    assert "irb_report_days" in basis_problems(sponsor | {"clinic_role": "investigator"}, country="US")
    assert basis_problems(sponsor | {"clinic_role": None, "irb_report_days": 15}, country="US") == {}
    assert protocol_rules.clinic_role(protocol(basis="minimal_manipulation_homologous")) == "manufacturer_361"
    assert protocol_rules.clinic_role(protocol(basis="approved_product")) == "user"


def test_a_non_us_authorisation_can_be_active_outside_the_us_only():
    p = protocol(basis="non_us_authorisation", reference="EMA marketing authorisation EU/1/00/000")
    assert basis_problems(p, country="DE") == {}
    assert "active" in basis_problems(p, country="US")
    assert effective(p, country="US", jurisdiction=None)[0] is False
    assert basis_problems(p | {"active": False}, country="US") == {}


def test_florida_without_a_configured_notice_leaves_only_approved_product_and_ind_effective():
    by_basis = {p["basis"]: p for p in demo()}
    ssp, ind, approved = by_basis["same_surgical_procedure"], by_basis["ind"], by_basis["approved_product"]
    ok, why = effective(ssp, country="US", jurisdiction="FL", configured_notices=())
    assert not ok and "458.3245" in why and "459.0127" in why and "Florida" in why
    assert effective(ind, country="US", jurisdiction="FL", configured_notices=()) == (True, "")
    assert effective(approved, country="US", jurisdiction="Florida", configured_notices=()) == (True, "")
    assert effective(ssp, country="US", jurisdiction="US-FL", configured_notices=["FL"]) == (True, "")
    assert effective(ssp, country="US", jurisdiction="TX", configured_notices=()) == (True, "")
    assert effective(ssp, country="US", jurisdiction=None) == (True, "")
    before = date(2025, 6, 30)
    assert effective(ssp, country="US", jurisdiction="FL", configured_notices=(), on=before) == (True, "")
    assert ineffective_bases(country="US", jurisdiction="FL", configured_notices=()) == {
        "irb_trial",
        "same_surgical_procedure",
        "minimal_manipulation_homologous",
        "non_us_authorisation",
    }
    assert ineffective_bases(country="US", jurisdiction="FL", configured_notices=("US-FL",)) == {
        "non_us_authorisation"
    }


def test_an_inactive_protocol_is_not_effective_and_says_so():
    p = demo()[0] | {"active": False}
    assert effective(p, country="US", jurisdiction=None) == (False, "inactive")
