"""`replay_rules --against N` against outcomes: beside each rule set's agreement with the decisions,
the responder rate of the patients whose drafted route matched the route given (DESIGN.md, "Protocol
file and `recommend`"). Outcomes come from clinic.aftercare through intake.providers."""

from io import StringIO

import pytest
from django.core.management import call_command

from clinic.aftercare.models import TreatmentCourse
from recommendations import replay
from tests.aftercare.factories import make_decided_case
from tests.aftercare.test_outcomes import ASKS, followed


def run(*args) -> str:
    out = StringIO()
    call_command("replay_rules", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture(autouse=True)
def _v3_live(settings):
    settings.RULESET_LIVE = "v3"


def amended_to_the_injection_v3_did_not_draft() -> TreatmentCourse:
    # Rule set v3 asked for the months of conservative care; v2 drafts the injection the specialist
    # gave (the referral letter had them).
    _, decision = make_decided_case(outcome="amended", route="local_injection", findings=ASKS)
    return TreatmentCourse.objects.get(decision=decision)


@pytest.mark.django_db
def test_each_rule_set_is_scored_by_how_the_patients_it_matched_did():
    followed([(7, 16), (3, 8)], course=amended_to_the_injection_v3_did_not_draft())  # responded
    followed([(6, 14), (6, 14)])  # both rule sets drafted the injection; no response
    # Matched by neither: both drafted the injection.
    make_decided_case(outcome="declined", route="not_recommended")

    out = run("--against", "2")

    assert "Rule set v2 against the rule set each case was drafted with (v3: 3) on 3 decided cases" in out
    assert (
        "old drafts matching the specialist:   1 (33.3%); responders among them: 0 of 1 followed up (0.0%)"
        in out
    )
    assert (
        "new drafts matching the specialist:   2 (66.7%); responders among them: 1 of 2 followed up (50.0%)"
        in out
    )


@pytest.mark.django_db
def test_a_matched_patient_not_followed_up_yet_is_left_out_of_the_rate():
    followed([(7, 16), (3, 8)])  # responded
    followed([(6, 14)])  # treated, only the baseline answered: no outcome yet

    report = replay.replay(ruleset="v2", against=replay.DRAFTED_WITH)

    assert report.new_agrees_with_specialist == 2
    assert (report.new_responders.with_outcome, report.new_responders.responders) == (1, 1)
    assert report.new_responders.percent == 100.0


@pytest.mark.django_db
def test_without_outcomes_the_replay_says_so():
    make_decided_case()

    out = run("--against", "2")

    assert "new drafts matching the specialist:   1 (100.0%)\n" in out
    assert "responders: no outcomes yet among the patients whose draft matched the decision" in out


@pytest.mark.django_db
def test_the_replay_against_outcomes_works_on_the_quick_starts_demo_data(settings):
    settings.DEBUG = True  # as quickstart runs seed_demo
    call_command("seed_demo", stdout=StringIO())

    out = run("--against", "2")
    report = replay.replay(ruleset="v2", against=replay.DRAFTED_WITH)

    # The demo's 22 treated patients and 3 decided cases; v3 asked where the specialist had the answer.
    assert "on 25 decided cases" in out
    assert "responders among them:" in out and "no outcomes yet" not in out
    assert report.new_responders.with_outcome > report.old_responders.with_outcome > 0
    assert 0 < report.new_responders.responders < report.new_responders.with_outcome
