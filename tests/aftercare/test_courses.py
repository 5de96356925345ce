"""The treatment course (DESIGN.md, "The treatment course"): a treatment decision opens it in the
decision's own transaction; it moves only through clinic.aftercare.courses, compare-and-set, with
an event per move in the case's audit chain; the desk books, cancels (with a reason) and
completes it, and every refusal says what to do instead."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from clinic.aftercare import courses
from clinic.aftercare.courses import (
    CourseMoved,
    begin_follow_up,
    cancel_course,
    complete_course,
    lose_to_follow_up,
    move_course,
    open_course_after_decision,
    schedule_course,
)
from clinic.aftercare.errors import WrongState
from clinic.aftercare.models import CourseEvent, TreatmentCourse
from intake.audit import verify_chains
from intake.models import Case, CaseEvent
from intake.workflow import Actor, Moved
from tests.aftercare.factories import make_course, make_decided_case, make_signed_treatment
from tests.factories import KNEE_INFUSION_AS_DECIDED, make_user
from tests.support import at_once, committed_db

DESK = Actor(label="desk user")


def events_of(course) -> list[tuple[str, str, str, str]]:
    return list(
        CourseEvent.objects.filter(course=course)
        .order_by("chain_seq")
        .values_list("kind", "from_state", "to_state", "note")
    )


@pytest.mark.django_db
def test_an_approved_local_injection_opens_a_scheduled_course_in_the_audit_chain():
    case, decision = make_decided_case(route="local_injection", outcome="approved")

    course = TreatmentCourse.objects.get(case=case)

    assert (course.state, course.route, course.sandbox) == ("scheduled", "local_injection", False)
    assert course.decision == decision
    assert course.protocol == decision.protocol and course.protocol["id"] == "knee-oa-bmac"
    assert events_of(course) == [("state", "", "scheduled", "Course opened (scheduled)")]
    # The course's event is linked into the case's chain after the move to decided (what the
    # follow-up appends for the new course may come after it); the referral itself stays decided.
    decided = CaseEvent.objects.get(case=case, to_status="decided").chain_seq
    assert (
        decided
        < CourseEvent.objects.get(course=course).chain_seq
        <= Case.objects.get(pk=case.pk).audit_length
    )
    assert Case.objects.get(pk=case.pk).status == "decided"
    assert list(verify_chains()) == []


@pytest.mark.django_db
def test_an_amendment_to_an_infusion_opens_an_intravenous_course_under_the_chosen_protocol():
    case, _ = make_decided_case(route="intravenous", outcome="amended")

    course = TreatmentCourse.objects.get(case=case)

    assert course.route == "intravenous"
    assert {k: course.protocol[k] for k in KNEE_INFUSION_AS_DECIDED} == KNEE_INFUSION_AS_DECIDED


@pytest.mark.django_db
@pytest.mark.parametrize("outcome", ["declined", "amended"])
def test_a_decision_not_to_treat_opens_no_course(outcome):
    case, decision = make_decided_case(route="not_recommended", outcome=outcome)

    assert decision.route == "not_recommended"
    assert not TreatmentCourse.objects.filter(case=case).exists()


@pytest.mark.django_db
def test_opening_is_idempotent_when_the_move_is_announced_again():
    case, _ = make_decided_case()
    again = Moved(case.pk, "awaiting_review", "decided", "someone", False)

    open_course_after_decision(again)

    assert TreatmentCourse.objects.filter(case=case).count() == 1
    assert CourseEvent.objects.filter(case=case).count() == 1


@pytest.mark.django_db
def test_a_sandbox_decision_opens_a_sandbox_course():
    course = make_course(sandbox=True)

    assert course.sandbox and course.state == "scheduled"


@pytest.mark.django_db
def test_the_desk_books_and_moves_the_appointment_with_a_note_each_time():
    course = make_course()
    first = timezone.now() + timedelta(days=3)

    schedule_course(course_id=course.pk, actor=DESK, appointment_at=first)
    schedule_course(course_id=course.pk, actor=DESK, appointment_at=first + timedelta(days=1))
    schedule_course(course_id=course.pk, actor=DESK, appointment_at=first + timedelta(days=1))  # no change

    course.refresh_from_db()
    assert course.appointment_at == first + timedelta(days=1) and course.state == "scheduled"
    notes = [note for kind, _, _, note in events_of(course) if kind == "note"]
    assert len(notes) == 2
    assert notes[0].startswith("Appointment booked for ")
    assert notes[1].startswith("Appointment moved from ")
    assert list(verify_chains()) == []


@pytest.mark.django_db
def test_an_appointment_before_the_decision_is_refused_with_the_decisions_time():
    course = make_course()

    with pytest.raises(ValidationError) as refused:
        schedule_course(
            course_id=course.pk, actor=DESK, appointment_at=course.decision.decided_at - timedelta(hours=1)
        )

    (message,) = refused.value.message_dict["appointment_at"]
    assert message.startswith("Choose a time after the decision (")
    assert TreatmentCourse.objects.get(pk=course.pk).appointment_at is None


@pytest.mark.django_db
def test_cancelling_needs_a_reason_and_closes_the_course_before_treatment():
    course = make_course()

    with pytest.raises(ValidationError) as refused:
        cancel_course(course_id=course.pk, actor=DESK, reason="   ")
    assert "Say why the course is cancelled" in refused.value.message_dict["reason"][0]

    cancel_course(course_id=course.pk, actor=DESK, reason="The patient chose surgery.")

    course.refresh_from_db()
    assert course.state == "cancelled" and course.close_reason == "The patient chose surgery."
    assert course.closed_at is not None
    assert events_of(course)[-1] == (
        "state",
        "scheduled",
        "cancelled",
        "Cancelled: The patient chose surgery.",
    )
    with pytest.raises(WrongState, match="booked only before treatment"):
        schedule_course(course_id=course.pk, actor=DESK, appointment_at=timezone.now() + timedelta(days=1))


@pytest.mark.django_db
def test_a_treated_course_is_not_cancelled_but_completed():
    course = make_course()
    make_signed_treatment(course)

    with pytest.raises(WrongState) as refused:
        cancel_course(course_id=course.pk, actor=DESK, reason="Changed mind")
    assert "cancelled only before treatment" in str(refused.value)
    assert "Complete it instead" in str(refused.value)

    complete_course(course_id=course.pk, actor=DESK, note="All follow-up done.")

    course.refresh_from_db()
    assert course.state == "completed" and course.closed_at is not None
    assert events_of(course)[-1] == ("state", "treated", "completed", "Completed. All follow-up done.")
    with pytest.raises(WrongState, match="already completed and cannot change any more"):
        complete_course(course_id=course.pk, actor=DESK)
    assert list(verify_chains()) == []


@pytest.mark.django_db
def test_a_course_without_a_signed_record_cannot_be_completed():
    course = make_course()

    with pytest.raises(WrongState) as refused:
        complete_course(course_id=course.pk, actor=DESK)

    assert "sign the treatment record first, or cancel the course" in str(refused.value)
    assert TreatmentCourse.objects.get(pk=course.pk).state == "scheduled"


@pytest.mark.django_db
def test_follow_up_begins_after_treatment_and_a_patient_lost_to_it_closes_the_course_with_the_reason():
    course = make_course()
    with pytest.raises(WrongState, match="follow-up starts once the patient is treated"):
        begin_follow_up(course_id=course.pk, actor=DESK)
    make_signed_treatment(course)
    with pytest.raises(WrongState, match="Follow-up has not started"):
        lose_to_follow_up(course_id=course.pk, actor=DESK, reason="No answer")

    begin_follow_up(course_id=course.pk, actor=DESK)

    course.refresh_from_db()
    assert (course.state, course.closed_at) == ("following_up", None)
    assert events_of(course)[-1] == ("state", "treated", "following_up", "Follow-up started")
    with pytest.raises(WrongState, match="already following up"):
        begin_follow_up(course_id=course.pk, actor=DESK)
    with pytest.raises(ValidationError) as refused:
        lose_to_follow_up(course_id=course.pk, actor=DESK, reason="  ")
    assert "Say why" in refused.value.message_dict["reason"][0]
    assert TreatmentCourse.objects.get(pk=course.pk).state == "following_up"

    lose_to_follow_up(course_id=course.pk, actor=DESK, reason="Three calls and two letters unanswered.")

    course.refresh_from_db()
    assert course.state == "lost_to_follow_up" and course.closed_at is not None
    assert course.close_reason == "Three calls and two letters unanswered."
    assert events_of(course)[-1] == (
        "state",
        "following_up",
        "lost_to_follow_up",
        "Lost to follow-up: Three calls and two letters unanswered.",
    )
    with pytest.raises(WrongState, match="cannot change any more"):
        complete_course(course_id=course.pk, actor=DESK)
    assert list(verify_chains()) == []


@pytest.mark.django_db
def test_a_course_following_up_is_completed_when_follow_up_ends():
    course = make_course()
    make_signed_treatment(course)
    begin_follow_up(course_id=course.pk, actor=DESK)

    complete_course(course_id=course.pk, actor=DESK)

    assert TreatmentCourse.objects.get(pk=course.pk).state == "completed"


@pytest.mark.django_db
def test_a_move_the_table_does_not_allow_is_refused_with_the_moves_that_are():
    course = make_course()

    with pytest.raises(WrongState) as refused:
        move_course(course=course, to_state="following_up", actor=DESK)

    assert str(refused.value) == (
        "A course that is scheduled cannot become following up (it can become: cancelled, treated); "
        "nothing was changed."
    )


@pytest.mark.django_db
def test_a_move_made_on_a_stale_read_writes_nothing_and_says_so():
    course = make_course()
    stale = TreatmentCourse.objects.get(pk=course.pk)
    cancel_course(course_id=course.pk, actor=DESK, reason="Patient moved away")
    events = CourseEvent.objects.filter(course=course).count()

    with pytest.raises(WrongState, match="already cancelled when this change was made"):
        move_course(course=stale, to_state="treated", actor=DESK)

    assert CourseEvent.objects.filter(course=course).count() == events
    assert TreatmentCourse.objects.get(pk=course.pk).state == "cancelled"


@committed_db
def test_two_people_closing_one_course_at_once_make_one_move():
    course = make_course()
    make_signed_treatment(course)

    results = at_once(
        lambda: complete_course(course_id=course.pk, actor=Actor(label="first")),
        lambda: complete_course(course_id=course.pk, actor=Actor(label="second")),
    )

    assert sorted(type(result).__name__ for result in results) == ["TreatmentCourse", "WrongState"]
    assert CourseEvent.objects.filter(course=course, to_state="completed").count() == 1
    assert list(verify_chains()) == []


@pytest.fixture
def heard():
    """Handlers registered for one test, told of each course move (and removed afterwards)."""
    told: dict[str, list[CourseMoved]] = {"in_transaction": [], "after_commit": []}

    def in_transaction(moved: CourseMoved) -> None:
        told["in_transaction"].append(moved)

    def after_commit(moved: CourseMoved) -> None:
        told["after_commit"].append(moved)

    courses.on_course_move(in_transaction, after_commit=False)
    courses.on_course_move(after_commit, after_commit=True)
    yield told
    courses._in_transaction.remove(in_transaction)
    courses._after_commit.remove(after_commit)


@pytest.mark.django_db
def test_handlers_hear_every_move_in_its_transaction_or_after_it_commits(
    heard, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as pending:
        course = make_course()
        moves = [(m.from_state, m.to_state) for m in heard["in_transaction"]]
        assert moves == [("", "scheduled")] and heard["after_commit"] == []

    with django_capture_on_commit_callbacks(execute=True):
        cancel_course(course_id=course.pk, actor=make_actor(), reason="Declined by the patient")

    assert [(m.from_state, m.to_state) for m in heard["in_transaction"]][-1] == ("scheduled", "cancelled")
    assert [(m.to_state, m.actor_label) for m in heard["after_commit"]] == [("cancelled", "desk1")]
    assert heard["after_commit"][0].course_id == course.pk and pending  # the opening's waits for commit


def make_actor() -> Actor:
    return Actor.of_user(make_user("desk1", group="Front desk"))
