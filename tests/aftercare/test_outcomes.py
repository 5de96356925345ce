"""Outcomes per protocol and route (clinic.aftercare.outcomes) and the review desk's outcomes page:
responders and completion per time point with Wilson intervals, adverse events per 100 treatments,
rule sets (live and shadow) against how patients did, the CSV, and the quick start's demo data.

Patients are followed up through the real services (answers at the desk and by phone, scored by the
shipped instruments); the knee protocol asks for the pain scale and KOOS JR at days 0, 42, 91, 182
and 365. Pain 7 -> 3 is a responder (2 points or 30 %); a KOOS JR item sum of 16 -> 8 is 50.0 ->
68.3, a responder (MCID 15.1)."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from clinic.aftercare import adverse_events, follow_up, outcomes
from clinic.aftercare.models import TimePoint, TreatmentCourse
from clinic.aftercare.sandbox import simulate_treatment
from intake.audit import verify_chains
from intake.workflow import Actor
from recommendations.models import Recommendation
from tests.aftercare.factories import make_course, make_decided_case, make_signed_treatment
from tests.factories import make_user

ASKS = {"kl_grade": 2}  # no months of conservative care: v3 asks (needs information), v2 drafts
HIP = dict(condition_code="M16.11", affected_sites=["right_hip"])


def answers(point: TimePoint, pain: int, joint_sum: int) -> dict:
    """The desk's answers to each instrument of the time point: the pain score, and KOOS JR / HOOS JR
    item answers (0-4 each) adding up to `joint_sum`."""
    given = {}
    for instrument in point.instruments:
        if instrument == "pain_nrs":
            given[instrument] = {"pain_nrs": pain}
        else:
            count = 7 if instrument == "koos_jr" else 6
            given[instrument] = {
                f"{instrument}_{i + 1}": joint_sum // count + (i < joint_sum % count) for i in range(count)
            }
    return given


def followed(steps: list, course: TreatmentCourse | None = None, **case) -> TreatmentCourse:
    """A course whose baseline (steps[0]) is answered at the desk, then treated, then each later day
    answered by phone ((pain, joint sum)) or marked unreachable (None), in day order."""
    course = course or make_course(**case)
    desk = make_user(group="Front desk")
    points = list(TimePoint.objects.filter(course=course).order_by("day"))
    follow_up.record_desk_answers(
        time_point_id=points[0].pk,
        user=desk,
        answers_by_instrument=answers(points[0], *steps[0]),
        source="desk",
    )
    make_signed_treatment(TreatmentCourse.objects.get(pk=course.pk))
    for point, step in zip(points[1:], steps[1:], strict=False):
        if step is None:
            follow_up.mark_unreachable(time_point_id=point.pk, user=desk, note="Called twice, no answer.")
        else:
            follow_up.record_desk_answers(
                time_point_id=point.pk, user=desk, answers_by_instrument=answers(point, *step), source="phone"
            )
    return TreatmentCourse.objects.get(pk=course.pk)


def staff_report(course: TreatmentCourse, *, serious: bool = False) -> None:
    adverse_events.report_adverse_event(
        course_id=course.pk,
        source="staff",
        actor=Actor.of_user(make_user(group="Specialists")),
        values={
            "onset": timezone.localdate(),
            "description": "Knee effusion after the injection",
            "ctcae_grade": 3 if serious else 1,
            "serious": serious,
            "seriousness_criteria": ["hospitalization"] if serious else [],
            "outcome": "resolved",
        },
    )


# R 4.x, package binom: binom.confint(x, n, methods = "wilson"), as recorded in statsmodels' tests
# (statsmodels/stats/tests/results/results_proportion.py, the last of each row's eleven methods).
@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        (18, 20, 0.6989663547715128, 0.972133518786232),
        (4, 20, 0.0806576625797981, 0.4160174322518935),
        (4, 200, 0.00780442641634947, 0.05028708690582643),
        (190, 200, 0.910421851861224, 0.972617354399236),
        (0, 30, 0.0, 0.11351339),
        (30, 30, 0.8864866, 1.0),
    ],
)
def test_the_interval_is_wilsons_score_interval_as_r_computes_it(k, n, low, high):
    assert outcomes.wilson(k, n) == pytest.approx((low, high), abs=1e-7)


def test_an_interval_needs_trials_and_at_most_as_many_successes():
    assert outcomes.wilson(0, 0) is None
    assert outcomes.Proportion(0, 0).percent is None
    with pytest.raises(ValueError):
        outcomes.wilson(3, 2)


@pytest.mark.django_db
def test_completion_responders_and_adverse_events_per_protocol_and_route():
    better = followed([(7, 16), (3, 8), None])  # a responder at day 42; unreachable at day 91
    same = followed([(6, 14), (6, 14), (5, 13)])  # no change at day 42 or 91
    followed([(7, 16), (3, 8)], **HIP)
    make_course()  # decided, never treated: no treatment to count
    sandbox = make_course(sandbox=True)
    simulate_treatment(course_id=sandbox.pk)  # a partner's test course, treated: never counted
    staff_report(better)
    adverse_events.flag_from_patient(course_id=same.pk, description="Swollen for two days")

    groups = {(g.protocol_id, g.route): g for g in outcomes.outcome_groups()}

    assert set(groups) == {("knee-oa-bmac", "local_injection"), ("hip-oa-bmac", "local_injection")}
    knee = groups[("knee-oa-bmac", "local_injection")]
    assert knee.treated == 2 and "EXAMPLE" in knee.protocol_title
    completion = {row.day: (row.due, row.answered, row.still_open) for row in knee.day_rows}
    # Day 182 and 365 are dated after treatment and not come yet: not due.
    assert completion == {0: (2, 2, 0), 42: (2, 2, 0), 91: (2, 1, 0), 182: (0, 0, 0), 365: (0, 0, 0)}
    day_42 = knee.days[42].instruments
    assert (day_42["pain_nrs"].responders, day_42["pain_nrs"].with_value) == (1, 2)
    assert (day_42["koos_jr"].responders, day_42["koos_jr"].with_value) == (1, 2)
    assert knee.days[91].instruments["pain_nrs"].responder_rate == outcomes.Proportion(0, 1)
    # One confirmed event on two treatments; the patient's flag awaits triage and is not counted.
    assert (knee.adverse_events, knee.per_100, knee.awaiting_triage) == (1, 50.0, 1)
    assert knee.event_courses.interval == pytest.approx((9.45, 90.55), abs=0.01)
    hip = groups[("hip-oa-bmac", "local_injection")]
    assert hip.instruments == ["pain_nrs", "hoos_jr"]
    assert hip.days[42].instruments["hoos_jr"].responders == 1


@pytest.mark.django_db
def test_a_time_point_whose_date_has_come_is_due_even_unanswered():
    course = followed([(7, 16), (3, 8)])
    day_91 = TimePoint.objects.get(course=course, day=91)
    # As if 91 days had passed: its date has come, and nobody has answered yet.
    TimePoint.objects.filter(pk=day_91.pk).update(
        due_on=timezone.localdate() - timedelta(days=1), state="invited"
    )

    (knee,) = outcomes.outcome_groups()

    assert (knee.days[91].due, knee.days[91].answered, knee.days[91].still_open) == (1, 0, 1)
    assert knee.days[91].completion.percent == 0.0


@pytest.mark.django_db
def test_a_patients_outcome_is_their_latest_answered_time_point():
    improved_then_not = followed([(7, 16), (3, 8), (7, 16)])
    improving = followed([(7, 16), (6, 14), (3, 8)])
    not_yet = followed([(7, 16)])

    found = outcomes.responders_by_case([improved_then_not.case_id, improving.case_id, not_yet.case_id])

    assert found == {improved_then_not.case_id: False, improving.case_id: True}


@pytest.mark.django_db
def test_rule_sets_live_and_shadow_against_the_outcomes_of_the_patients_they_matched(settings):
    settings.RULESET_LIVE, settings.RULESET_SHADOW = "v3", "v2"
    # v3 asked for information, v2 drafted the injection the specialist gave: only v2 matched.
    _, decision = make_decided_case(outcome="amended", route="local_injection", findings=ASKS)
    followed([(7, 16), (3, 8)], course=TreatmentCourse.objects.get(decision=decision))
    followed([(6, 14), (6, 14)])  # both drafted the injection; no response

    comparison = outcomes.compare_rulesets()

    rows = {(r.ruleset, r.shadow): (r.drafted, r.matched, r.followed, r.responders) for r in comparison.rows}
    assert comparison.with_shadow and comparison.cases == 2
    assert rows == {("v3", False): (2, 1, 1, 0), ("v2", True): (2, 2, 2, 1)}
    assert Recommendation.objects.filter(shadow=True).count() == 2


@pytest.mark.django_db
def test_before_any_shadow_the_live_rule_sets_are_shown_on_every_decided_case(settings):
    settings.RULESET_SHADOW = None
    followed([(7, 16), (3, 8)])

    comparison = outcomes.compare_rulesets()

    assert not comparison.with_shadow
    assert [(r.ruleset, r.shadow, r.matched, r.responders) for r in comparison.rows] == [("v3", False, 1, 1)]


@pytest.mark.django_db
def test_the_outcomes_page_is_for_specialists_and_exports_csv(client):
    followed([(7, 16), (3, 8)])
    followed([(6, 14), (6, 14)])
    url = reverse("admin:aftercare_outcomes")

    client.force_login(make_user(group="Front desk"))
    assert client.get(url).status_code == 302  # the desk has no admin: sent to sign in
    client.force_login(make_user(is_staff=True))
    assert client.get(url).status_code == 403
    client.force_login(make_user(group="Specialists", is_staff=True))
    page = client.get(url).content.decode()
    exported = client.get(url, {"format": "csv"})

    assert "knee-oa-bmac" in page and "Local injection" in page
    assert "1 of 2" in page and "9.5&ndash;90.5%" in page  # day 42's responders and their interval
    assert 'role="img" aria-label="50%, 95% interval 9 to 91%"' in page
    assert exported["Content-Disposition"] == 'attachment; filename="outcomes.csv"'
    rows = list(csv.DictReader(io.StringIO(exported.content.decode())))
    day_42 = [r for r in rows if r["section"] == "completion" and r["day"] == "42"]
    assert [
        (r["numerator"], r["denominator"], r["percent"], r["ci95_low"], r["ci95_high"]) for r in day_42
    ] == [("2", "2", "100.0", "34.2", "100.0")]
    pain = next(r for r in rows if r["section"] == "responders" and r["instrument_or_ruleset"] == "pain_nrs")
    assert (pain["numerator"], pain["denominator"]) == ("1", "2")


@pytest.mark.django_db
def test_the_page_says_so_when_nothing_was_treated_yet(client):
    client.force_login(make_user(group="Specialists", is_staff=True))

    page = client.get(reverse("admin:aftercare_outcomes")).content.decode()

    assert "No treated course yet" in page and "No decided case yet" in page


@pytest.mark.django_db
def test_the_quick_starts_demo_data_fills_the_page_once(settings, client):
    settings.DEBUG = True  # as quickstart runs seed_demo
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    again = io.StringIO()
    call_command("seed_demo", stdout=again)
    client.force_login(make_user(group="Specialists", is_staff=True))

    report = outcomes.outcomes()
    page = client.get(reverse("admin:aftercare_outcomes")).content.decode()

    assert "Demo outcomes 22 treated patients" in out.getvalue()
    assert "Demo outcomes already there" in again.getvalue()
    groups = {g.protocol_id: g for g in report.groups}
    assert set(groups) == {"knee-oa-bmac", "hip-oa-bmac"}
    assert groups["knee-oa-bmac"].treated == 14 and groups["hip-oa-bmac"].treated == 8
    assert 0 < groups["knee-oa-bmac"].days[91].instruments["pain_nrs"].responders
    assert groups["knee-oa-bmac"].adverse_events == 3 and groups["knee-oa-bmac"].awaiting_triage == 1
    rows = {(r.ruleset, r.shadow): r for r in report.comparison.rows}
    assert report.comparison.with_shadow and set(rows) == {("v3", False), ("v2", True)}
    assert rows[("v2", True)].matched > rows[("v3", False)].matched  # v3 asked where v2 drafted
    assert 'v2 <span class="quiet">(shadow)</span>' in page and "hip-oa-bmac" in page
    assert list(verify_chains()) == []
