"""Rule set v1, rule by rule and flag by flag, plus properties that must always hold."""

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intake.vocabulary.body_sites import BODY_SITES
from intake.vocabulary.codes import normalize_icd10
from intake.vocabulary.conditions import ENTRIES
from recommendations.engine import EngineConfig, Intake, intake_from_snapshot, snapshot_of
from recommendations.engine.v1 import RULES, draft

BASE = Intake(
    condition_code="M17.11",  # osteoarthritis of knee: localized
    affected_sites=("right_knee",),
    active_malignancy=False,
    active_infection=False,
    pregnant=False,
    anticoagulant_therapy=False,
    bleeding_disorder=False,
    immunosuppressed=False,
    consent_obtained=True,
    birth_date=date(1961, 4, 2),
    intake_date=date(2026, 11, 24),
)


def given_intake(**changes) -> Intake:
    return replace(BASE, **changes)


ROUTE_CASES = [
    # (what, changes, route, rules fired in order)
    ("active malignancy stops", dict(active_malignancy=True), "not_recommended", ["HS-MALIGNANCY"]),
    ("active infection stops", dict(active_infection=True), "not_recommended", ["HS-INFECTION"]),
    ("pregnancy stops", dict(pregnant=True), "not_recommended", ["HS-PREGNANCY"]),
    (
        "every hard stop is named",
        dict(active_malignancy=True, active_infection=True, pregnant=True),
        "not_recommended",
        ["HS-MALIGNANCY", "HS-INFECTION", "HS-PREGNANCY"],
    ),
    (
        "hard stops come before an unknown code",
        dict(pregnant=True, condition_code="Z99.89"),
        "not_recommended",
        ["HS-PREGNANCY"],
    ),
    ("unknown valid code", dict(condition_code="Z99.89"), "needs_information", ["COND-UNKNOWN"]),
    ("systemic, no site", dict(condition_code="G35", affected_sites=()), "intravenous", ["COND-SYSTEMIC"]),
    (
        "systemic whatever the sites",
        dict(condition_code="M32.14", affected_sites=("left_knee",)),
        "intravenous",
        ["COND-SYSTEMIC"],
    ),
    ("localized, no site", dict(affected_sites=()), "needs_information", ["LOC-NO-SITE"]),
    ("localized, one site", dict(affected_sites=("left_hip",)), "local_injection", ["LOC-FEW-SITES"]),
    (
        "localized, two sites",
        dict(affected_sites=("left_knee", "right_knee")),
        "local_injection",
        ["LOC-FEW-SITES"],
    ),
    (
        "localized, repeated site counts once",
        dict(affected_sites=("left_knee", "left_knee", "right_knee")),
        "local_injection",
        ["LOC-FEW-SITES"],
    ),
    (
        "localized, three sites is multiple areas",
        dict(affected_sites=("left_knee", "right_knee", "lumbar_spine")),
        "intravenous",
        ["LOC-MULTIPLE-SITES"],
    ),
]


@pytest.mark.parametrize(("what", "changes", "route", "rules"), ROUTE_CASES, ids=[c[0] for c in ROUTE_CASES])
def test_route_rules(what, changes, route, rules):
    result = draft(given_intake(**changes))

    assert result.route == route
    assert [rule.id for rule in result.rules] == rules
    assert result.ruleset_version == "v1"


FLAG_CASES = [
    ("anticoagulants on an injection", dict(anticoagulant_therapy=True), ["bleeding_risk"]),
    ("bleeding disorder on an injection", dict(bleeding_disorder=True), ["bleeding_risk"]),
    (
        "no bleeding flag on an infusion",
        dict(bleeding_disorder=True, condition_code="G35"),
        [],
    ),
    ("immunosuppressed", dict(immunosuppressed=True), ["immunosuppressed"]),
    ("under 18 at intake", dict(birth_date=date(2008, 11, 25)), ["minor"]),
    ("18 on the intake day", dict(birth_date=date(2008, 11, 24)), []),
    ("no consent", dict(consent_obtained=False), ["consent_missing"]),
    (
        "flags in rule order, on a hard stop too",
        dict(pregnant=True, immunosuppressed=True, consent_obtained=False, birth_date=date(2010, 1, 1)),
        ["immunosuppressed", "minor", "consent_missing"],
    ),
]


@pytest.mark.parametrize(("what", "changes", "flags"), FLAG_CASES, ids=[c[0] for c in FLAG_CASES])
def test_flags(what, changes, flags):
    baseline = draft(given_intake(**{k: v for k, v in changes.items() if k == "condition_code"}))

    result = draft(given_intake(**changes))

    assert list(result.flags) == flags
    if "pregnant" not in changes:
        assert result.route == baseline.route  # cautions never change the route


def test_thresholds_are_settings():
    two_sites = given_intake(affected_sites=("left_knee", "right_knee"))
    assert draft(two_sites, EngineConfig(multiple_sites_threshold=2)).route == "intravenous"
    assert draft(given_intake(birth_date=date(2006, 1, 1)), EngineConfig(age_of_majority=21)).flags == (
        "minor",
    )


def test_each_fired_rule_carries_its_sentence_and_source():
    result = draft(given_intake(anticoagulant_therapy=True))
    by_id = {rule.id: rule for rule in RULES}
    for fired in result.rules:
        assert fired.text == by_id[fired.id].text
        assert fired.source == by_id[fired.id].source
    assert "right_knee" in result.rules[0].detail


def test_needs_information_says_what_is_missing():
    unknown = draft(given_intake(condition_code="Z99.89"))
    no_site = draft(given_intake(affected_sites=()))

    assert "Z99.89" in unknown.missing and "not in the clinic's vocabulary" in unknown.missing
    assert "Which body sites" in no_site.missing
    assert draft(BASE).missing == ""


def test_the_notice_comes_from_the_vocabulary():
    assert "remestemcel-L" in draft(given_intake(condition_code="D89.810")).notice
    assert "Investigational" in draft(BASE).notice
    assert "unknown" in draft(given_intake(condition_code="Z99.89")).notice


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("M17.11", "M17.11"),
        ("m17.11", "M17.11"),
        ("M1711", "M17.11"),
        ("  m1711 ", "M17.11"),
        ("G35", "G35"),
        ("g35.", "G35"),
        ("E10.621", "E10.621"),
        ("S83.241A", "S83.241A"),
    ],
)
def test_codes_are_accepted_the_way_partners_send_them(raw, canonical):
    assert normalize_icd10(raw) == canonical


@pytest.mark.parametrize("raw", ["", "knee", "17.11", "M1", "MM17", "M17.11111", "M17..1", "M 17"])
def test_codes_not_of_icd10_form_are_refused(raw):
    assert normalize_icd10(raw) is None


# --- properties ---------------------------------------------------------------------------

codes = st.one_of(
    st.sampled_from([entry.prefix for entry in ENTRIES]),
    st.from_regex(r"[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?", fullmatch=True),
)
intakes = st.builds(
    Intake,
    condition_code=codes,
    affected_sites=st.lists(st.sampled_from(list(BODY_SITES)), max_size=8).map(tuple),
    active_malignancy=st.booleans(),
    active_infection=st.booleans(),
    pregnant=st.booleans(),
    anticoagulant_therapy=st.booleans(),
    bleeding_disorder=st.booleans(),
    immunosuppressed=st.booleans(),
    consent_obtained=st.booleans(),
    birth_date=st.dates(date(1900, 1, 1), date(2026, 1, 1)),
    intake_date=st.dates(date(2026, 1, 1), date(2030, 12, 31)),
)


@given(intakes)
def test_a_hard_stop_always_wins(intake):
    if intake.active_malignancy or intake.active_infection or intake.pregnant:
        assert draft(intake).route == "not_recommended"


@given(intakes)
def test_three_or_more_distinct_sites_never_give_local_injection(intake):
    if len(set(intake.affected_sites)) >= 3:
        assert draft(intake).route != "local_injection"


@given(intakes)
def test_the_same_input_always_gives_the_same_draft(intake):
    assert draft(intake) == draft(replace(intake))


@given(intakes)
def test_every_draft_names_at_least_one_rule_and_explains_needs_information(intake):
    result = draft(intake)
    assert result.rules
    assert (result.route == "needs_information") == bool(result.missing)
    assert result.notice


@given(intakes)
def test_a_stored_snapshot_replays_to_the_same_draft(intake):
    assert draft(intake_from_snapshot(snapshot_of(intake))) == draft(intake)
