"""The treatment course's status table says what DESIGN.md says, row by row."""

import dataclasses

import pytest

from clinic.aftercare.statuses import COURSE, FINAL_STATES, TRANSITIONS, CourseFacts, CourseState

FHIR_TASK_STATUSES = {
    "draft", "requested", "received", "accepted", "rejected", "ready", "cancelled",
    "in-progress", "on-hold", "failed", "completed", "entered-in-error",
}  # fmt: skip


def test_every_state_has_its_row_and_every_move_leads_to_a_state():
    assert set(COURSE) == set(CourseState.values)
    assert all(target in COURSE for facts in COURSE.values() for target in facts.next)
    assert all(facts.fhir_task in FHIR_TASK_STATUSES for facts in COURSE.values())


def test_the_course_moves_as_the_design_says():
    # scheduled -> treated -> following_up -> completed; cancelled before treatment only;
    # lost to follow-up only while following up.
    assert TRANSITIONS[CourseState.SCHEDULED] == {CourseState.TREATED, CourseState.CANCELLED}
    assert (
        CourseState.CANCELLED not in TRANSITIONS[CourseState.TREATED] | TRANSITIONS[CourseState.FOLLOWING_UP]
    )
    assert [s for s, moves in TRANSITIONS.items() if CourseState.LOST_TO_FOLLOW_UP in moves] == [
        CourseState.FOLLOWING_UP
    ]
    assert FINAL_STATES == {CourseState.COMPLETED, CourseState.CANCELLED, CourseState.LOST_TO_FOLLOW_UP}
    assert all(not COURSE[state].next for state in FINAL_STATES)


def test_the_partner_is_told_when_a_course_ends_and_a_cancellation_asks_why():
    assert {s for s, f in COURSE.items() if f.partner_event == "referral.course_closed"} == FINAL_STATES
    assert [s for s, f in COURSE.items() if f.needs_reason] == [CourseState.CANCELLED]


def test_the_course_task_status_follows_the_design():
    assert {s: f.fhir_task for s, f in COURSE.items()} == {
        "scheduled": "accepted",
        "treated": "in-progress",
        "following_up": "in-progress",
        "completed": "completed",
        "cancelled": "cancelled",
        "lost_to_follow_up": "failed",
    }


def test_a_row_without_a_fact_cannot_be_written():
    facts = dataclasses.asdict(COURSE[CourseState.SCHEDULED])
    del facts["fhir_task"]
    with pytest.raises(TypeError, match="fhir_task"):
        CourseFacts(**facts)
