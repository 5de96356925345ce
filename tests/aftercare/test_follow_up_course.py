"""Follow-up scheduled from the protocol and moving the course (DESIGN.md, "Follow-up"; "The
treatment course"): the decision opens the course with its time points and the baseline's link,
the first session dates the later days, and the course ends completed, or lost to follow-up naming
the unanswered days, when nothing is left open. The desk's call list, phone answers and
"unreachable", opt-outs and bounces."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from clinic.aftercare import follow_up
from clinic.aftercare.courses import cancel_course
from clinic.aftercare.errors import WrongState
from clinic.aftercare.follow_up import (
    call_list,
    issue_invitation,
    mark_unreachable,
    opt_out,
    record_bounce,
    record_desk_answers,
    save_answers,
    schedule_follow_up,
    submit_form,
    to_call_list,
)
from clinic.aftercare.models import ContactOptOut, FollowUpEvent, Invitation, TimePoint, TreatmentCourse
from intake.audit import verify_chains
from intake.roles import FRONT_DESK
from intake.workflow import Actor
from tests.aftercare.factories import make_course, make_performer, make_signed_treatment
from tests.factories import make_patient, make_user

KOOS_MILD = {f"koos_jr_{n}": 1 for n in range(1, 8)}
DESK_ANSWERS = {"pain_nrs": {"pain_nrs": 3}, "koos_jr": KOOS_MILD}
LATER_DAYS = [42, 91, 182, 365]  # the demo knee protocol's follow-up after the baseline


def knee_course(*, email: str = "ana@example.org", **kw) -> TreatmentCourse:
    """A knee course under the demo protocol knee-oa-bmac (pain_nrs and koos_jr at 0, 42, 91, 182, 365)."""
    return make_course(patient=make_patient(email=email) if email else make_patient(), **kw)


def point(course, day) -> TimePoint:
    return TimePoint.objects.get(course=course, day=day)


def kinds(course) -> list[str]:
    return list(
        FollowUpEvent.objects.filter(case=course.case).order_by("chain_seq").values_list("kind", flat=True)
    )


def course_state(course) -> str:
    return TreatmentCourse.objects.values_list("state", flat=True).get(pk=course.pk)


@pytest.mark.django_db
def test_a_treatment_decision_schedules_every_protocol_day_and_issues_the_baseline_link():
    course = knee_course()

    points = list(TimePoint.objects.filter(course=course).order_by("day"))

    assert [p.day for p in points] == [0, *LATER_DAYS]
    assert all(p.instruments == ["pain_nrs", "koos_jr"] for p in points)
    baseline = points[0]
    assert (baseline.state, baseline.due_on) == ("invited", timezone.localdate())
    # Later days count from the treatment, which has not happened.
    assert [(p.state, p.due_on) for p in points[1:]] == [("waiting", None)] * 4
    invitation = Invitation.objects.get(time_point=baseline)
    assert invitation.delivery == "pending" and invitation.sent_at is None
    assert kinds(course) == ["scheduled", "invited"]
    assert list(verify_chains()) == []


@pytest.mark.django_db
def test_scheduling_again_changes_nothing():
    course = knee_course()
    before = list(TimePoint.objects.filter(course=course).values_list("pk", "day", "state"))

    again = schedule_follow_up(TreatmentCourse.objects.get(pk=course.pk))

    assert [(p.pk, p.day, p.state) for p in again] == before
    assert kinds(course) == ["scheduled", "invited"]


@pytest.mark.django_db
def test_the_baseline_link_is_handed_to_the_sender_only_after_the_decision_commits(
    monkeypatch, django_capture_on_commit_callbacks
):
    handed = []
    monkeypatch.setattr(follow_up, "_invitation_handlers", [])
    follow_up.on_invitation(handed.append)

    with django_capture_on_commit_callbacks(execute=False) as waiting:
        course = knee_course()
        assert handed == []

    for callback in waiting:
        callback()
    assert handed == [Invitation.objects.get(time_point__course=course).pk]


@pytest.mark.django_db
def test_a_protocol_without_follow_up_makes_no_time_points():
    # The test-only knee infusion protocol names days but no instrument: nothing to ask.
    course = knee_course(route="intravenous", outcome="amended")

    assert not TimePoint.objects.filter(course=course).exists()
    assert schedule_follow_up(course) == []


@pytest.mark.django_db
def test_a_sandbox_course_gets_time_points_but_no_email():
    course = make_course(sandbox=True)

    points = TimePoint.objects.filter(course=course)
    assert points.count() == 5 and all(p.sandbox for p in points)
    assert not Invitation.objects.filter(time_point__course=course).exists()
    assert point(course, 0).state == "waiting"


@pytest.mark.django_db
def test_the_first_session_dates_the_later_days_and_closes_an_unanswered_baseline():
    course = knee_course()

    record = make_signed_treatment(course)

    treated_on = timezone.localdate(record.administered_at)
    assert [point(course, day).due_on for day in LATER_DAYS] == [
        treated_on + timedelta(days=day) for day in LATER_DAYS
    ]
    assert point(course, 0).state == "closed"
    # Its link is refused from now on: an answer after treatment is no baseline.
    token = follow_up.token_for(Invitation.objects.get(time_point__day=0, time_point__course=course))
    with pytest.raises(follow_up.LinkRefused) as refused:
        follow_up.invitation_for_token(token)
    assert refused.value.reason == "expired"


@pytest.mark.django_db
def test_a_staged_plans_second_session_does_not_move_the_dates():
    course = knee_course()
    performer = make_performer()
    make_signed_treatment(course, performer, administered_at=course.decision.decided_at)
    # As if the first session had been 20 days ago: the second must not re-date the follow-up.
    first_day = timezone.localdate() - timedelta(days=20)
    TimePoint.objects.filter(course=course, day=42).update(due_on=first_day + timedelta(days=42))

    make_signed_treatment(course, performer, session=2)

    assert point(course, 42).due_on == first_day + timedelta(days=42)


@pytest.mark.django_db
def test_a_later_day_has_no_link_before_the_treatment():
    course = knee_course()

    with pytest.raises(WrongState, match="counts from the treatment"):
        issue_invitation(time_point_id=point(course, 42).pk)


@pytest.mark.django_db
def test_the_first_later_link_starts_following_up_and_the_last_answer_completes_the_course():
    course = knee_course()
    make_signed_treatment(course)
    assert course_state(course) == "treated"

    _, token = issue_invitation(time_point_id=point(course, 42).pk)
    assert course_state(course) == "following_up"

    save_answers(token=token, instrument="pain_nrs", answers={"pain_nrs": 2})
    save_answers(token=token, instrument="koos_jr", answers=KOOS_MILD)
    submit_form(token=token, unexpected=False)
    assert course_state(course) == "following_up"  # days 91, 182 and 365 are still to come

    desk = make_user(group=FRONT_DESK)
    record_desk_answers(
        time_point_id=point(course, 91).pk, user=desk, answers_by_instrument=DESK_ANSWERS, source="phone"
    )
    mark_unreachable(time_point_id=point(course, 182).pk, user=desk, note="Three calls, no answer.")
    assert course_state(course) == "following_up"
    mark_unreachable(time_point_id=point(course, 365).pk, user=desk, note="Number no longer in service.")

    course.refresh_from_db()
    assert course.state == "completed"
    assert list(verify_chains()) == []


@pytest.mark.django_db
def test_a_course_whose_later_days_all_go_unanswered_is_lost_to_follow_up_naming_them():
    course = knee_course()
    make_signed_treatment(course)
    desk = make_user(group=FRONT_DESK)

    for day in LATER_DAYS:
        mark_unreachable(time_point_id=point(course, day).pk, user=desk, note="No answer.")

    course.refresh_from_db()
    assert course.state == "lost_to_follow_up"
    assert course.close_reason == (
        "No follow-up answer at day 42 (unreachable), day 91 (unreachable), day 182 (unreachable), "
        "day 365 (unreachable)."
    )


@pytest.mark.django_db
def test_unreachable_needs_a_note_and_a_closed_day_cannot_change():
    course = knee_course()
    make_signed_treatment(course)
    desk = make_user(group=FRONT_DESK)

    with pytest.raises(ValidationError) as refused:
        mark_unreachable(time_point_id=point(course, 42).pk, user=desk, note="  ")
    assert "what was tried" in refused.value.message_dict["note"][0]

    mark_unreachable(time_point_id=point(course, 42).pk, user=desk, note="No answer.")
    with pytest.raises(WrongState, match="already unreachable"):
        record_desk_answers(
            time_point_id=point(course, 42).pk, user=desk, answers_by_instrument=DESK_ANSWERS, source="desk"
        )


@pytest.mark.django_db
def test_desk_answers_must_answer_every_question():
    course = knee_course()
    desk = make_user(group=FRONT_DESK)
    half = {"pain_nrs": {"pain_nrs": 5}, "koos_jr": {"koos_jr_1": 2}}

    with pytest.raises(ValidationError) as refused:
        record_desk_answers(
            time_point_id=point(course, 0).pk, user=desk, answers_by_instrument=half, source="desk"
        )

    assert "Twisting/pivoting on your knee" in refused.value.message_dict["koos_jr"][0]
    assert point(course, 0).state == "invited"


@pytest.mark.django_db
def test_a_baseline_taken_at_the_desk_uses_up_the_emailed_link():
    course = knee_course()
    _, token = issue_invitation(time_point_id=point(course, 0).pk)

    record_desk_answers(
        time_point_id=point(course, 0).pk,
        user=make_user(group=FRONT_DESK),
        answers_by_instrument=DESK_ANSWERS,
        source="desk",
    )

    with pytest.raises(follow_up.LinkRefused) as refused:
        save_answers(token=token, instrument="pain_nrs", answers={"pain_nrs": 1})
    assert refused.value.reason == "used"
    assert point(course, 0).responses.get(instrument="pain_nrs").source == "desk"


@pytest.mark.django_db
def test_cancelling_the_course_closes_its_open_time_points():
    course = knee_course()

    cancel_course(course_id=course.pk, actor=Actor(label="desk"), reason="The patient chose not to go ahead.")

    assert set(TimePoint.objects.filter(course=course).values_list("state", flat=True)) == {"closed"}
    assert FollowUpEvent.objects.filter(case=course.case, kind="closed").count() == 5


@pytest.mark.django_db
def test_the_call_list_shows_the_longest_due_first_and_never_a_sandbox_course():
    older, newer = knee_course(), knee_course()
    for course, days_ago in ((older, 60), (newer, 50)):
        make_signed_treatment(course)
        # As if treated that many days ago.
        due = timezone.localdate() - timedelta(days=days_ago - 42)
        TimePoint.objects.filter(course=course, day=42).update(due_on=due)
    sandbox = make_course(sandbox=True)
    for course in (newer, older):
        to_call_list(time_point_id=point(course, 42).pk, note="No answer after two reminders.")
    TimePoint.objects.filter(course=sandbox, day=0).update(state="call")

    assert [(p.course_id, p.day) for p in call_list()] == [(older.pk, 42), (newer.pk, 42)]
    assert course_state(older) == "following_up"
    assert FollowUpEvent.objects.filter(time_point=point(older, 42), kind="call_list").count() == 1


@pytest.mark.django_db
def test_the_links_owed_today_are_the_due_waiting_days_of_open_courses_never_a_sandbox_one():
    due, later, cancelled = knee_course(), knee_course(), knee_course()
    make_signed_treatment(due)
    make_signed_treatment(later)
    TimePoint.objects.filter(course=due, day=42).update(due_on=timezone.localdate())
    cancel_course(course_id=cancelled.pk, actor=Actor(label="desk"), reason="Moved away.")
    sandbox = make_course(sandbox=True)
    TimePoint.objects.filter(course=sandbox).update(due_on=timezone.localdate())

    assert [(p.course_id, p.day) for p in follow_up.due_for_invitation()] == [(due.pk, 42)]
    with pytest.raises(WrongState, match="simulated"):
        issue_invitation(time_point_id=point(sandbox, 0).pk)


@pytest.mark.django_db
def test_without_an_email_address_the_baseline_goes_straight_to_the_call_list():
    course = knee_course(email="")

    baseline = point(course, 0)
    assert baseline.state == "call"
    assert Invitation.objects.get(time_point=baseline).delivery == "no_address"
    assert kinds(course) == ["scheduled", "invited", "call_list"]


@pytest.mark.django_db
def test_after_an_opt_out_later_links_are_not_emailed_but_the_patient_is_called():
    course = knee_course(email="Ana@Example.org")
    _, token = issue_invitation(time_point_id=point(course, 0).pk)

    opt_out(token=token)
    opt_out(token=token)  # asking twice changes nothing

    assert list(ContactOptOut.objects.values_list("email", "reason")) == [("ana@example.org", "opted_out")]
    make_signed_treatment(course)
    invitation, _ = issue_invitation(time_point_id=point(course, 42).pk)
    assert invitation.delivery == "opted_out"
    assert point(course, 42).state == "call"
    assert kinds(course).count("opted_out") == 1


@pytest.mark.django_db
def test_a_bounce_stops_email_to_that_address_and_puts_the_time_point_on_the_call_list():
    course = knee_course()
    invitation = Invitation.objects.get(time_point__course=course)
    Invitation.objects.filter(pk=invitation.pk).update(delivery="sent", message_id="<m-1@mail>")

    record_bounce(message_id="<m-1@mail>")
    record_bounce(message_id="<m-1@mail>")  # the provider reports it twice
    record_bounce(message_id="<unknown@mail>")

    assert Invitation.objects.get(pk=invitation.pk).delivery == "bounced"
    assert ContactOptOut.objects.get(patient=course.case.patient).reason == "bounced"
    assert point(course, 0).state == "call"
    assert kinds(course) == ["scheduled", "invited", "bounced", "call_list"]
    # A new address on the record is emailed again.
    course.case.patient.__class__.objects.filter(pk=course.case.patient_id).update(
        email="ana.new@example.org"
    )
    make_signed_treatment(course)
    assert issue_invitation(time_point_id=point(course, 42).pk)[0].delivery == "pending"
