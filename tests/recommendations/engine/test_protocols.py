"""Rule set v3, rule 1: the protocol file's format and which protocol covers a draft."""

from datetime import date

import pytest

from recommendations.engine.protocols import Protocol, ProtocolError, covering, load_protocols
from tests.recommendations.engine.v3_support import KNEE, ids, protocol, run, systemic


def test_the_design_example_reads_and_writes_back_unchanged():
    parsed = Protocol.from_dict(KNEE)

    assert parsed.as_dict() == KNEE | {"max_sites_per_session": 2}
    assert Protocol.from_dict(parsed.as_dict()) == parsed


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"route": "oral"}, "route"),
        ({"basis": "trust_me"}, "basis"),
        ({"version": 0}, "version"),
        ({"version": "1"}, "version"),
        ({"indications": []}, "indications"),
        ({"indications": ["M17", ""]}, "indications/1"),
        ({"age": {"min": 18, "max": 10}}, "age/max"),
        ({"age": {"min_months": -1}}, "age/min_months"),
        ({"age": {"from": 3}}, "age/from"),
        ({"limits": {"kl_grade": {"max": "3"}}}, "limits/kl_grade/max"),
        ({"limits": {"kl_grade": 3}}, "limits/kl_grade"),
        ({"follow_up": {"instruments": ["pain_nrs"], "days": [-1]}}, "follow_up/days"),
        ({"follow_up": {"instruments": "pain_nrs"}}, "follow_up/instruments"),
        ({"active": "yes"}, "active"),
        ({"id": "knee oa!"}, "id"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_a_malformed_protocol_is_refused_naming_the_field(change, field):
    with pytest.raises(ProtocolError) as error:
        Protocol.from_dict(KNEE | change)

    assert error.value.field == field


def test_a_protocol_file_names_the_protocol_in_error():
    with pytest.raises(ProtocolError) as error:
        load_protocols({"protocols": [KNEE, KNEE | {"title": None}]})

    assert error.value.field == "protocols/1/title"
    assert load_protocols({"protocols": [KNEE]})[0].id == "knee-oa-bmac"


# --- gates ---------------------------------------------------------------------------------------


def test_age_minimum_defaults_to_the_age_of_majority():
    no_min = protocol(age={"max": None})
    seventeen = run(no_min, birth_date=date(2008, 11, 26), consent_by="guardian")
    eighteen = run(no_min, birth_date=date(2008, 11, 25))

    assert seventeen.route == "not_recommended" and "NO-PROTOCOL" in ids(seventeen)
    assert "aged 17" in next(r.detail for r in seventeen.rules if r.id == "NO-PROTOCOL")
    assert eighteen.route == "local_injection"


def test_age_maximum_is_inclusive_in_whole_years():
    capped = protocol(age={"min": 18, "max": 65})

    assert run(capped, birth_date=date(1960, 11, 26)).route == "local_injection"  # 65 at intake
    assert run(capped, birth_date=date(1960, 11, 25)).route == "not_recommended"  # 66 that day


def test_min_months_alone_sets_min_to_zero_and_counts_whole_months():
    infant = systemic(id="gvhd", indications=["G35"], age={"min_months": 2, "max": None})
    config_kwargs = {"condition_code": "G35", "affected_sites": (), "findings": {}, "consent_by": "guardian"}

    two_months = run(infant, birth_date=date(2026, 9, 25), **config_kwargs)
    a_day_short = run(infant, birth_date=date(2026, 9, 26), **config_kwargs)

    assert two_months.protocol == {"id": "gvhd", "version": 1}
    assert a_day_short.protocol is None and "NO-PROTOCOL" in ids(a_day_short)


def test_min_months_and_min_must_both_hold():
    both = systemic(age={"min": 1, "min_months": 18})
    kwargs = {"condition_code": "G35", "affected_sites": (), "findings": {}, "consent_by": "guardian"}

    assert run(both, birth_date=date(2025, 5, 25), **kwargs).protocol is not None  # 18 months, 1 year
    assert run(both, birth_date=date(2025, 6, 1), **kwargs).protocol is None  # 1 year, 17 months


def test_a_protocol_for_the_other_route_never_changes_the_candidate():
    iv_knee = protocol(id="knee-iv", route="intravenous", sites=[])

    result = run(iv_knee)

    assert result.route == "not_recommended"
    assert "NO-PROTOCOL" in ids(result)


def test_every_listed_site_must_be_allowed_and_no_protocol_names_the_site():
    right_only = protocol(sites=["right_knee"])

    result = run(right_only, condition_code="M17.0", affected_sites=("left_knee", "right_knee"))

    assert result.route == "not_recommended"
    detail = next(r.detail for r in result.rules if r.id == "NO-PROTOCOL")
    assert "left_knee" in detail


def test_an_inactive_protocol_covers_nothing():
    assert run(protocol(active=False)).route == "not_recommended"


def test_the_highest_active_version_is_the_one_recorded():
    old, new = protocol(version=1, active=False), protocol(version=2)

    assert run(old, new).protocol == {"id": "knee-oa-bmac", "version": 2}
    assert run(protocol(version=1), protocol(version=3)).protocol == {"id": "knee-oa-bmac", "version": 3}


def test_the_most_specific_indication_wins_and_ties_go_to_the_first_id_in_byte_order():
    by_range = protocol(id="a-range", indications=["M15-M19"])
    by_category = protocol(id="z-category", indications=["M17"])
    by_code = protocol(id="y-code", indications=["M17.11"])
    twin = protocol(id="B-upper", indications=["M17"])  # "B" sorts before "z" in byte order

    assert run(by_range, by_category, by_code).protocol["id"] == "y-code"
    assert run(by_range, by_category).protocol["id"] == "z-category"
    assert run(by_category, twin).protocol["id"] == "B-upper"
    assert run(by_range).protocol["id"] == "a-range"


def test_coverage_alone_chooses_then_limits_apply_without_falling_back():
    strict = protocol(id="a-strict", indications=["M17.11"], limits={"kl_grade": {"max": 1}})
    lenient = protocol(id="b-lenient", indications=["M17"])

    result = run(strict, lenient)

    assert result.route == "not_recommended"
    assert "PROTOCOL-EXCLUDES" in ids(result)
    assert result.protocol == {"id": "a-strict", "version": 1}


def test_ranges_hold_codes_by_tabular_position():
    gout = protocol(id="gout", indications=["M05-M14"], route="local_injection", sites=["right_knee"])

    assert gout.lists("M1A.0611")  # chronic gout, sorts after M19 as text
    assert not gout.lists("M15.0")
    found = covering(
        [gout],
        code="M1A.0611",
        route="local_injection",
        birth_date=date(1961, 4, 2),
        intake_date=date(2026, 11, 25),
        sites=("right_knee",),
        age_of_majority=18,
    )
    assert found is gout
