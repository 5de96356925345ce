"""Shared intakes and protocols for the rule set v3 tests (not a test module)."""

from dataclasses import replace
from datetime import date

from recommendations.engine import EngineConfig, Intake
from recommendations.engine.protocols import Protocol
from recommendations.engine.v3 import draft

BASE = Intake(
    condition_code="M17.11",  # unilateral primary osteoarthritis, right knee: localized
    affected_sites=("right_knee",),
    active_malignancy=False,
    active_infection=False,
    pregnant=False,
    anticoagulant_therapy=False,
    bleeding_disorder=False,
    immunosuppressed=False,
    consent_obtained=True,
    birth_date=date(1961, 4, 2),
    intake_date=date(2026, 11, 25),
    findings={"kl_grade": 2, "conservative_care_months": 6},
    breastfeeding=False,
)

# DESIGN.md's example knee protocol, as written.
KNEE = {
    "id": "knee-oa-bmac",
    "version": 1,
    "route": "local_injection",
    "title": "EXAMPLE: autologous bone marrow concentrate, intra-articular, knee osteoarthritis",
    "indications": ["M17"],
    "sites": ["left_knee", "right_knee"],
    "max_sites_per_session": 2,
    "age": {"min": 18, "max": None},
    "basis": "same_surgical_procedure",
    "reference": "",
    "basis_rationale": "EXAMPLE ONLY: the clinic documents why the concentrate implanted is such HCT/P",
    "requires": ["kl_grade", "conservative_care_months"],
    "limits": {"kl_grade": {"max": 3}, "conservative_care_months": {"min": 3}},
    "follow_up": {"instruments": ["pain_nrs", "koos_jr"], "days": [0, 42, 91, 182, 365]},
    "active": True,
}


def protocol(**changes) -> Protocol:
    return Protocol.from_dict(KNEE | changes)


def systemic(**changes) -> Protocol:
    data = {
        "id": "ms-ind",
        "version": 1,
        "route": "intravenous",
        "title": "EXAMPLE: MSC infusion under an IND, multiple sclerosis",
        "indications": ["G35"],
        "basis": "ind",
        "reference": "IND 000000 (example)",
        "clinic_role": "sponsor_investigator",
        "irb_report_days": 15,
        "age": {"min": 18, "max": 65},
    }
    return Protocol.from_dict(data | changes)


def given(**changes) -> Intake:
    return replace(BASE, **changes)


def run(*protocols: Protocol, **changes):
    config = EngineConfig(protocols=protocols or (protocol(),))
    return draft(given(**changes), config)


def ids(result) -> list[str]:
    return [rule.id for rule in result.rules]
