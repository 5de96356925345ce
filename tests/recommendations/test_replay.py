import csv
from dataclasses import replace
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from recommendations import engine, review
from recommendations.services import make_draft
from tests.factories import make_case, make_user


@pytest.fixture(autouse=True)
def _v2_live(settings):
    # These tests are about replaying rule set v2 (against v1 and a candidate built on v2): v2 drafts.
    settings.RULESET_LIVE = "v2"


def decided(route_chosen: str | None = None, **case_fields):
    case = make_case(**case_fields)
    make_draft(case_id=case.pk)
    doctor = make_user(group="Specialists")
    if route_chosen:
        return review.amend_draft(
            case_id=case.pk, user=doctor, route=route_chosen, reason="specialist's call"
        )
    return review.approve_draft(case_id=case.pk, user=doctor)


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("replay_rules", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_replaying_the_current_rule_set_against_the_stored_drafts_changes_nothing():
    decided()
    decided("intravenous")

    out, err = run("--against", "stored")

    assert "Rule set v2 against stored on 2 decided cases" in out
    assert "same route and flags as the old draft: 2 (100.0%)" in out
    assert "old drafts matching the specialist:   1 (50.0%)" in out
    assert "[##############################] 2/2" in err  # the progress bar


@pytest.mark.django_db
def test_by_default_v2_is_compared_with_v1_on_the_same_input(tmp_path):
    # Given a decided case whose code says "malignant" although the answer was no:
    # v1 asked for information (the code is not in its vocabulary), v2 stops
    decided(condition_code="C50.911", affected_sites=[])  # the specialist approved the stop
    decided(affected_sites=["right_knee"])  # drafted the same by both

    out, _ = run("--csv", str(tmp_path / "diff.csv"))

    assert "Rule set v2 against v1 on 2 decided cases" in out
    assert "needs_information -> not_recommended: 1" in out
    assert "new drafts matching the specialist:   2 (100.0%)" in out
    (row,) = list(csv.DictReader(open(tmp_path / "diff.csv")))
    assert (row["old_route"], row["new_route"], row["decided_route"]) == (
        "needs_information",
        "not_recommended",
        "not_recommended",
    )


@pytest.mark.django_db
def test_a_candidate_rule_set_is_compared_with_old_drafts_and_decisions(monkeypatch, tmp_path):
    # Given a candidate v3 in which two sites already count as "multiple areas"
    current = engine.RULESETS["v2"]

    def v3(intake, config):
        return replace(current(intake, replace(config, multiple_sites_threshold=2)), ruleset_version="v3")

    monkeypatch.setitem(engine.RULESETS, "v3", v3)
    decided("intravenous", affected_sites=["left_knee", "right_knee"], condition_code="M17.0")
    decided(affected_sites=["right_knee"])

    out, _ = run("--ruleset", "v3", "--against", "stored", "--csv", str(tmp_path / "diff.csv"))

    assert "same route and flags as the old draft: 1 (50.0%)" in out
    assert "new drafts matching the specialist:   2 (100.0%)" in out
    assert "local_injection -> intravenous: 1" in out


@pytest.mark.django_db
def test_an_unknown_rule_set_is_refused():
    with pytest.raises(CommandError, match="No rule set 'v9'"):
        run("--ruleset", "v9")
