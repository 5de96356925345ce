"""Rule set v2 (DESIGN.md), rule by rule, with properties that must always hold."""

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intake.vocabulary import icd10cm
from intake.vocabulary.body_sites import BODY_SITES
from intake.vocabulary.conditions import vocabulary
from recommendations.engine import Intake, v1
from recommendations.engine.v2 import code_side, draft

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
)


def given_intake(**changes) -> Intake:
    return replace(BASE, **changes)


def ids(result) -> list[str]:
    return [rule.id for rule in result.rules]


# --- hard stops from the code, at the edges of each range ---------------------------------

STOP_CODES = [
    # (code, the stop it must fire, why it is in the list)
    ("C00.0", "HS-MALIGNANCY", "first malignant code"),
    ("C50.911", "HS-MALIGNANCY", "breast cancer, the clinician's example"),
    ("C96.9", "HS-MALIGNANCY", "last malignant category"),
    ("A00.0", "HS-INFECTION", "first infectious code"),
    ("B99.9", "HS-INFECTION", "last infectious code"),
    ("L00", "HS-INFECTION", "first skin infection"),
    ("L08.9", "HS-INFECTION", "last skin infection"),
    ("M00.9", "HS-INFECTION", "pyogenic arthritis"),
    ("M01.X0", "HS-INFECTION", "direct infection of joint"),
    ("M86.9", "HS-INFECTION", "osteomyelitis"),
    ("T84.50XA", "HS-INFECTION", "infected joint prosthesis"),
    ("T84.7XXA", "HS-INFECTION", "infection of another orthopedic device"),
    ("J44.0", "HS-INFECTION", "COPD with lower respiratory infection"),
    ("K50.014", "HS-INFECTION", "Crohn's disease with abscess"),
    ("K51.014", "HS-INFECTION", "ulcerative colitis with abscess"),
    ("O00.90", "HS-PREGNANCY", "first pregnancy code"),
    ("O9A.111", "HS-PREGNANCY", "last pregnancy category"),
    ("Z33.1", "HS-PREGNANCY", "pregnant state, incidental"),
    ("Z34.00", "HS-PREGNANCY", "supervision of normal pregnancy"),
]
NOT_STOPS = [
    ("D05.91", "carcinoma in situ is not C00-C96"),
    ("L10.0", "pemphigus, just after the skin infections"),
    ("M02.9", "reactive arthropathy, just after M00-M01"),
    ("T84.89XA", "other complication of an orthopedic device, not an infection"),
    ("J44.1", "COPD with exacerbation, no infection"),
    ("K50.013", "Crohn's disease with fistula, not abscess"),
    ("Z33.2", "encounter for elective termination"),
]


@pytest.mark.parametrize(("code", "rule", "why"), STOP_CODES)
def test_a_stop_code_stops_although_every_answer_was_no(code, rule, why):
    assert icd10cm.get(code) is not None, f"{code} must be a real code ({why})"

    result = draft(given_intake(condition_code=code, affected_sites=()))

    assert result.route == "not_recommended"
    assert ids(result) == [rule]
    assert f"the code {code} is" in result.rules[0].detail
    assert "although the answer was no" in result.rules[0].detail


@pytest.mark.parametrize(("code", "why"), NOT_STOPS)
def test_codes_just_outside_the_ranges_do_not_stop(code, why):
    assert icd10cm.get(code) is not None, code
    assert draft(given_intake(condition_code=code)).route != "not_recommended", why


def test_the_contradiction_is_spelled_out_as_the_clinician_asked():
    detail = draft(given_intake(condition_code="C50.911", affected_sites=())).rules[0].detail
    assert detail.startswith("the code C50.911 is a malignant neoplasm")
    assert "although the answer was no" in detail


def test_infection_and_pregnancy_read_as_defer_until_resolved():
    for code in ("A41.9", "Z34.00"):
        (rule,) = draft(given_intake(condition_code=code)).rules[:1]
        assert "defer stem cell therapy until" in rule.text


def test_an_answer_still_stops_on_its_own_and_all_stops_are_listed():
    result = draft(given_intake(active_malignancy=True, pregnant=True))
    assert ids(result) == ["HS-MALIGNANCY", "HS-PREGNANCY"]
    assert result.rules[0].detail == "the answer was yes"


def test_answer_and_code_agreeing_say_both():
    detail = draft(given_intake(condition_code="C50.911", active_malignancy=True)).rules[0].detail
    assert detail.startswith("the answer was yes, and the code C50.911 is a malignant neoplasm")


# --- real codes --------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["M17.19", "Z99.99", "M84.1"])
def test_a_code_that_does_not_exist_needs_information_and_says_so(code):
    result = draft(given_intake(condition_code=code))
    assert (result.route, ids(result)) == ("needs_information", ["COND-NOT-A-CODE"])
    assert "not in ICD-10-CM" in result.missing


def test_a_code_that_does_not_exist_with_a_yes_answer_still_stops():
    assert draft(given_intake(condition_code="M17.19", active_infection=True)).route == "not_recommended"


def test_the_draft_carries_the_official_descriptor():
    assert draft(BASE).condition["descriptor"] == "Unilateral primary osteoarthritis, right knee"


# --- vocabulary gaps closed ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "sites", "route"),
    [
        ("E11.9", (), "intravenous"),  # type 2 diabetes is systemic
        ("E11.621", ("right_foot",), "local_injection"),  # its foot ulcer is a wound
        ("E11.622", ("left_lower_leg",), "local_injection"),
        ("E10.622", ("trunk",), "local_injection"),
        ("I69.351", ("right_hip",), "intravenous"),  # chronic stroke
        ("S82.001K", ("right_knee",), "local_injection"),  # nonunion of the right patella
    ],
)
def test_the_gaps_the_clinician_found_are_closed(code, sites, route):
    assert draft(given_intake(condition_code=code, affected_sites=sites)).route == route


# --- the side check -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "sites", "mismatch"),
    [
        ("M17.11", ("left_knee",), True),  # right-knee code, left-knee site
        ("M17.12", ("right_knee",), True),  # and the other way round
        ("M17.11", ("right_knee",), False),
        ("M17.11", ("right_knee", "left_knee"), True),  # one site on the other side is enough
        ("M17.0", ("right_knee", "left_knee"), False),  # bilateral names no one side
        ("M17.11", ("lumbar_spine",), False),  # a site without a side
        ("M17.9", ("left_knee",), False),  # unspecified knee
    ],
)
def test_the_side_of_the_code_and_of_the_sites(code, sites, mismatch):
    result = draft(given_intake(condition_code=code, affected_sites=sites))
    assert (ids(result)[0] == "LOC-SIDE-MISMATCH") is mismatch
    if mismatch:
        assert result.route == "needs_information"
        assert "which side" in result.missing


@pytest.mark.parametrize(
    ("descriptor", "side"),
    [
        ("Unilateral primary osteoarthritis, right knee", "right"),
        ("Pressure ulcer of left heel, stage 2", "left"),
        ("Bilateral primary osteoarthritis of knee", None),
        ("Osteoarthritis of knee, unspecified", None),
        ("Contusion of right and left knee", None),
    ],
)
def test_which_side_a_descriptor_names(descriptor, side):
    assert code_side(descriptor) == side


# --- flags and content --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "route"),
    [
        (dict(), "local_injection"),
        (dict(condition_code="G35"), "intravenous"),
        (dict(affected_sites=()), "needs_information"),
    ],
)
def test_bleeding_risk_is_flagged_on_every_route_but_a_stop(changes, route):
    result = draft(given_intake(anticoagulant_therapy=True, **changes))
    assert result.route == route and "bleeding_risk" in result.flags


def test_no_bleeding_flag_on_a_stop():
    assert "bleeding_risk" not in draft(given_intake(bleeding_disorder=True, pregnant=True)).flags


def test_the_draft_carries_every_answer_the_evidence_and_why_not_the_other_route():
    result = draft(given_intake(condition_code="I21.9", affected_sites=(), immunosuppressed=True))
    answers = {name: answer for name, _label, answer in result.answers}
    assert answers == {
        "active_malignancy": False,
        "active_infection": False,
        "pregnant": False,
        "anticoagulant_therapy": False,
        "bleeding_disorder": False,
        "immunosuppressed": True,
    }
    assert result.condition["trial_route"] == "intracoronary infusion"  # the trials' route, not ours
    assert result.condition["evidence"] and "doi:" in result.condition["source"]
    assert result.other_route.startswith("Local injection was not drafted")


def test_the_notice_is_true_and_cites_its_sources():
    notice = draft(BASE).notice
    assert "Ryoncil" in notice and "Omisirge" in notice and "21 CFR 1271.10(a)" in notice
    assert "consent does not make an unapproved use lawful" in notice
    assert "Sources:" in notice and "fda.gov" in notice
    assert "offered only under the clinic's protocols" not in notice


# --- properties ---------------------------------------------------------------------------

STOP_CODE_LIST = [code for code, _rule, _why in STOP_CODES]
VOCAB_CODES = [e.prefix for e in vocabulary("v2").entries if not e.seventh and icd10cm.get(e.prefix)]
booleans = st.booleans()
intakes = st.builds(
    Intake,
    condition_code=st.sampled_from(VOCAB_CODES + STOP_CODE_LIST + ["M17.19", "Z99.89"]),
    affected_sites=st.lists(st.sampled_from(list(BODY_SITES)), max_size=4).map(tuple),
    active_malignancy=booleans,
    active_infection=booleans,
    pregnant=booleans,
    anticoagulant_therapy=booleans,
    bleeding_disorder=booleans,
    immunosuppressed=booleans,
    consent_obtained=booleans,
    birth_date=st.dates(min_value=date(1920, 1, 1), max_value=date(2026, 1, 1)),
    intake_date=st.just(date(2026, 11, 25)),
)


@settings(max_examples=300)
@given(intakes)
def test_a_draft_never_routes_to_a_treatment_when_a_stop_fires(intake):
    result = draft(intake)
    stopped = any(rule.id.startswith("HS-") for rule in result.rules)
    assert stopped == (result.route == "not_recommended")
    if intake.condition_code in STOP_CODE_LIST or intake.active_malignancy or intake.pregnant:
        assert result.route == "not_recommended"


@settings(max_examples=300)
@given(intakes)
def test_every_draft_explains_itself(intake):
    result = draft(intake)
    assert result.rules and result.ruleset_version == "v2"
    assert len(result.answers) == 6 and result.other_route
    assert (result.route == "needs_information") == bool(result.missing)


@settings(max_examples=200)
@given(intakes)
def test_v1_output_is_unchanged_by_v2(intake):
    # v1 as it shipped: its own vocabulary and its own flags, whatever v2 does.
    result = v1.draft(intake).as_dict()
    assert result["ruleset_version"] == "v1"
    assert "answers" not in result and "other_route" not in result
    if result["route"] != "local_injection":
        assert "bleeding_risk" not in result["flags"]
