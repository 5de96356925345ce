"""Answering a follow-up form (DESIGN.md, "Follow-up", "Scoring"): answers checked against the
instrument as they are saved, a form sent only complete, each instrument scored and compared with
the course's baseline (responder, worsening), a FollowUpEvent per answer in the case's audit chain,
"anything unexpected?" becoming a report for staff to triage, and two tabs sending at once scored once."""

import pytest
from django.core.exceptions import ValidationError

from clinic.aftercare import follow_up, follow_up_scores
from clinic.aftercare.follow_up import (
    LinkRefused,
    follow_up_data,
    issue_invitation,
    record_desk_answers,
    save_answers,
    submit_form,
    trajectory,
)
from clinic.aftercare.models import AdverseEvent, FollowUpEvent, FormResponse, TimePoint
from intake.audit import verify_chains
from intake.roles import FRONT_DESK
from tests.aftercare.factories import make_course, make_signed_treatment
from tests.factories import make_patient, make_user
from tests.support import at_once, committed_db


def koos(value: int) -> dict:
    return {f"koos_jr_{n}": value for n in range(1, 8)}


def knee_course():
    return make_course(patient=make_patient(email="ana@example.org"))


def link(course, day: int) -> str:
    return issue_invitation(time_point_id=TimePoint.objects.get(course=course, day=day).pk)[1]


def answer(token: str, *, pain: int, koos_each: int, unexpected: str = "") -> TimePoint:
    save_answers(token=token, instrument="pain_nrs", answers={"pain_nrs": pain})
    save_answers(token=token, instrument="koos_jr", answers=koos(koos_each))
    return submit_form(token=token, unexpected=bool(unexpected), unexpected_text=unexpected)


def response(course, day: int, instrument: str) -> FormResponse:
    return FormResponse.objects.get(time_point__course=course, time_point__day=day, instrument=instrument)


def treated_with_baseline(*, pain: int = 7, koos_each: int = 2):
    course = knee_course()
    answer(link(course, 0), pain=pain, koos_each=koos_each)
    make_signed_treatment(course)
    return course


@pytest.mark.django_db
def test_each_answer_is_checked_against_its_question_with_words_the_patient_can_act_on():
    token = link(knee_course(), 0)

    with pytest.raises(ValidationError) as too_high:
        save_answers(token=token, instrument="pain_nrs", answers={"pain_nrs": 11})
    assert too_high.value.message_dict == {"pain_nrs": ["Give a whole number from 0 to 10."]}
    with pytest.raises(ValidationError) as not_offered:
        save_answers(token=token, instrument="koos_jr", answers={"koos_jr_3": 7, "koos_jr_9": 1})
    assert not_offered.value.message_dict["koos_jr_3"][0].startswith(
        "Choose one of the answers offered: 0 (None)"
    )
    assert "has no question 'koos_jr_9'" in not_offered.value.message_dict["koos_jr_9"][0]
    with pytest.raises(ValidationError) as not_asked:
        save_answers(token=token, instrument="sane", answers={"sane": 50})
    assert not_asked.value.message_dict == {"instrument": ["This form does not ask sane."]}
    assert not FormResponse.objects.exists()


@pytest.mark.django_db
def test_saved_answers_add_up_and_an_empty_answer_clears_one():
    course = knee_course()
    token = link(course, 0)

    save_answers(token=token, instrument="koos_jr", answers={"koos_jr_1": 1, "koos_jr_2": "3"})  # no-JS form
    save_answers(token=token, instrument="koos_jr", answers={"koos_jr_3": 0, "koos_jr_1": ""})

    assert response(course, 0, "koos_jr").answers == {"koos_jr_2": 3, "koos_jr_3": 0}


@pytest.mark.django_db
def test_a_form_is_sent_only_when_every_question_is_answered_and_says_which_are_not():
    course = knee_course()
    token = link(course, 0)
    save_answers(token=token, instrument="koos_jr", answers={"koos_jr_1": 1})

    with pytest.raises(ValidationError) as refused:
        submit_form(token=token, unexpected=False)

    errors = refused.value.message_dict
    assert "On average over the last week, how much pain" in errors["pain_nrs"][0]
    assert "“Twisting/pivoting on your knee”" in errors["koos_jr"][0]
    assert "How severe is your knee stiffness" not in errors["koos_jr"][0]  # answered
    # Nothing was sent: the link still works and the patient can finish.
    assert TimePoint.objects.get(course=course, day=0).state == "invited"
    answer(token, pain=5, koos_each=1)


@pytest.mark.django_db
def test_the_baseline_is_scored_alone_and_a_later_day_against_it():
    course = treated_with_baseline(pain=7, koos_each=2)

    answer(link(course, 42), pain=3, koos_each=1)

    baseline = response(course, 0, "koos_jr")
    assert (baseline.score, baseline.baseline_score, baseline.improvement, baseline.responder) == (
        52.465,
        None,
        None,
        None,
    )
    pain = response(course, 42, "pain_nrs")
    assert (pain.score, pain.baseline_score, pain.improvement, pain.responder, pain.worsening) == (
        3.0,
        7.0,
        4.0,
        True,
        False,
    )
    knee = response(course, 42, "koos_jr")
    # KOOS JR raw 7 -> 68.284 against 52.465: 15.819 reaches the MCID of 15.1.
    assert knee.score == 68.284 and knee.responder is True
    assert knee.improvement == pytest.approx(15.819)
    assert TimePoint.objects.get(course=course, day=42).state == "completed"


@pytest.mark.django_db
def test_a_change_of_at_least_the_mcid_the_wrong_way_is_a_worsening_never_a_response():
    course = treated_with_baseline(pain=3, koos_each=1)

    answer(link(course, 42), pain=6, koos_each=1)

    pain = response(course, 42, "pain_nrs")
    assert (pain.improvement, pain.responder, pain.worsening) == (-3.0, False, True)
    same = response(course, 42, "koos_jr")
    assert (same.improvement, same.responder, same.worsening) == (0.0, False, False)


@pytest.mark.django_db
def test_without_a_baseline_there_is_no_improvement_and_no_responder_value():
    course = knee_course()
    make_signed_treatment(course)  # the baseline link was never answered

    answer(link(course, 42), pain=2, koos_each=0)

    pain = response(course, 42, "pain_nrs")
    assert (pain.score, pain.baseline_score, pain.improvement, pain.responder) == (2.0, None, None, None)


@pytest.mark.django_db
def test_each_scored_instrument_is_told_to_the_handlers_without_its_answers(monkeypatch):
    told = []
    monkeypatch.setattr(follow_up_scores, "_scored_handlers", [])
    follow_up.on_scored(lambda scored: told.append(follow_up_data(scored)))
    course = treated_with_baseline(pain=7, koos_each=2)
    told.clear()

    answer(link(course, 42), pain=4, koos_each=2)

    assert [(t["day"], t["instrument"], t["score"], t["baseline"], t["responder"]) for t in told] == [
        (42, "pain_nrs", 4.0, 7.0, True),
        (42, "koos_jr", 52.465, 52.465, False),
    ]
    assert set(told[0]) == {
        "id",
        "day",
        "instrument",
        "score",
        "baseline",
        "improvement",
        "responder",
        "completed_at",
    }


@pytest.mark.django_db
def test_every_answer_is_an_event_in_the_case_chain_with_its_scores_but_not_its_answers():
    course = knee_course()

    answer(link(course, 0), pain=7, koos_each=2)

    answered = FollowUpEvent.objects.filter(case=course.case, kind="answered").order_by("chain_seq")
    notes = [event.note for event in answered]
    assert len(notes) == 2
    assert notes[0].startswith("The baseline (patient, from the link). Pain rating, 0 to 10: score 7")
    assert all("answers sha256" in note and "koos_jr_1" not in note for note in notes)
    assert {event.actor_label for event in answered} == {"patient (follow-up form)"}
    assert list(verify_chains()) == []


@pytest.mark.django_db
def test_something_unexpected_becomes_a_report_for_staff_to_triage():
    course = treated_with_baseline()
    token = link(course, 42)

    with pytest.raises(ValidationError) as unsaid:
        answer(token, pain=2, koos_each=1, unexpected="   ")
    assert "what happened" in unsaid.value.message_dict["unexpected_text"][0]
    assert not AdverseEvent.objects.exists()

    answer(token, pain=2, koos_each=1, unexpected="Swollen knee for a week after the injection.")

    report = AdverseEvent.objects.get(course=course)
    assert (report.source, report.triage, report.description) == (
        "patient",
        "received",
        "Swollen knee for a week after the injection.",
    )
    assert list(verify_chains()) == []


@pytest.mark.django_db
def test_the_trajectory_lists_every_day_of_each_instrument():
    course = treated_with_baseline(pain=7, koos_each=2)
    answer(link(course, 42), pain=3, koos_each=1)

    series = {entry["instrument"]: entry for entry in trajectory(course.case_id)}

    assert list(series) == ["pain_nrs", "koos_jr"]
    assert series["pain_nrs"]["better"] == "lower" and series["pain_nrs"]["mcid"] == 2
    points = series["pain_nrs"]["points"]
    assert [(p["day"], p["state"], p["score"], p["responder"]) for p in points] == [
        (0, "completed", 7.0, None),
        (42, "completed", 3.0, True),
        (91, "waiting", None, None),
        (182, "waiting", None, None),
        (365, "waiting", None, None),
    ]


@pytest.mark.django_db
def test_a_sandbox_course_is_answered_only_by_the_simulation():
    course = make_course(sandbox=True)
    point = TimePoint.objects.get(course=course, day=0)
    answers = {"pain_nrs": {"pain_nrs": 6}, "koos_jr": koos(2)}
    desk = make_user(group=FRONT_DESK)

    with pytest.raises(ValueError, match="not 'desk'"):
        record_desk_answers(time_point_id=point.pk, user=desk, answers_by_instrument=answers, source="desk")
    record_desk_answers(time_point_id=point.pk, user=desk, answers_by_instrument=answers, source="sandbox")

    assert response(course, 0, "pain_nrs").source == "sandbox"


@committed_db
def test_a_form_sent_from_two_tabs_at_once_is_scored_once():
    course = knee_course()
    token = link(course, 0)
    save_answers(token=token, instrument="pain_nrs", answers={"pain_nrs": 5})
    save_answers(token=token, instrument="koos_jr", answers=koos(1))

    results = at_once(
        lambda: submit_form(token=token, unexpected=False), lambda: submit_form(token=token, unexpected=False)
    )

    assert sorted(type(result).__name__ for result in results) == ["LinkRefused", "TimePoint"]
    assert next(r for r in results if isinstance(r, LinkRefused)).reason == "used"
    assert FollowUpEvent.objects.filter(case=course.case, kind="answered").count() == 2
    assert TimePoint.objects.get(course=course, day=0).version == 3  # invited, then answered once
    assert list(verify_chains()) == []
