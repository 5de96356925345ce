from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from intake.audit import verify_chains
from intake.models import Case, CaseEvent, CaseStatus
from intake.workflow import FINAL_STATUSES, TRANSITIONS, Actor, Step, TransitionError, move_locked, transition
from tests.factories import make_case
from tests.support import at_once, committed_db

ALLOWED = [(src, dst) for src, targets in TRANSITIONS.items() for dst in sorted(targets)]
FORBIDDEN = [
    (src, dst) for src in CaseStatus.values for dst in CaseStatus.values if dst not in TRANSITIONS[src]
]
ACTOR = Actor(label="tester")


def case_in(status: str) -> Case:
    case = make_case()
    # Test setup only: place the case directly in the state under test.
    Case.objects.filter(pk=case.pk).update(status=status)
    case.refresh_from_db()
    return case


def test_the_table_matches_the_design():
    assert TRANSITIONS == {
        "received": {"drafting", "withdrawn"},
        "drafting": {"awaiting_review", "draft_failed", "withdrawn"},
        "awaiting_review": {"decided", "needs_information", "withdrawn"},
        "needs_information": {"drafting", "withdrawn"},
        "draft_failed": {"withdrawn"},
        "decided": set(),
        "withdrawn": set(),
    }


@pytest.mark.django_db
@pytest.mark.parametrize(("src", "dst"), ALLOWED)
def test_allowed_move_changes_status_and_writes_its_event(src, dst):
    case = case_in(src)

    transition(case=case, to_status=dst, actor=ACTOR, note="why")

    case.refresh_from_db()
    assert case.status == dst
    event = case.events.order_by("-id").first()
    assert (event.from_status, event.to_status, event.actor_label, event.note) == (
        src,
        dst,
        "tester",
        "why",
    )


@pytest.mark.django_db
@pytest.mark.parametrize(("src", "dst"), FORBIDDEN)
def test_forbidden_move_is_refused_and_leaves_no_trace(src, dst):
    case = case_in(src)
    events_before = case.events.count()

    refusal = "cannot change any more" if src in FINAL_STATUSES else "cannot become"
    with pytest.raises(TransitionError, match=refusal):
        transition(case=case, to_status=dst, actor=ACTOR)

    case.refresh_from_db()
    assert case.status == src
    assert case.events.count() == events_before


@pytest.mark.django_db
def test_a_stale_copy_loses_the_compare_and_set():
    case = case_in(CaseStatus.AWAITING_REVIEW)
    stale = Case.objects.get(pk=case.pk)
    transition(case=case, to_status=CaseStatus.WITHDRAWN, actor=ACTOR)

    with pytest.raises(TransitionError, match="already withdrawn"):
        transition(case=stale, to_status=CaseStatus.DECIDED, actor=ACTOR)

    assert Case.objects.get(pk=case.pk).status == CaseStatus.WITHDRAWN
    assert CaseEvent.objects.filter(case=case, to_status=CaseStatus.DECIDED).count() == 0


@committed_db
def test_concurrent_moves_on_postgres_have_exactly_one_winner():
    assert connection.vendor == "postgresql"
    case = case_in(CaseStatus.AWAITING_REVIEW)
    targets = [CaseStatus.DECIDED, CaseStatus.WITHDRAWN, CaseStatus.NEEDS_INFORMATION] * 3
    copies = [Case.objects.get(pk=case.pk) for _ in targets]  # each racer read the case before the race

    def move(copy: Case, to_status: str):
        return lambda: transition(case=copy, to_status=to_status, actor=ACTOR)

    results = at_once(*[move(copy, to) for copy, to in zip(copies, targets, strict=True)])
    outcomes = ["lost" if isinstance(result, TransitionError) else "won" for result in results]
    assert not [r for r in results if isinstance(r, Exception) and not isinstance(r, TransitionError)]

    assert outcomes.count("won") == 1
    assert CaseEvent.objects.filter(case=case, from_status=CaseStatus.AWAITING_REVIEW).count() == 1


@pytest.mark.django_db
def test_creating_a_case_records_its_first_event():
    case = make_case()

    (event,) = case.events.all()
    assert (event.from_status, event.to_status, event.note) == ("", "received", "Intake received")


def _locked(case: Case) -> Case:
    return Case.objects.select_for_update(of=("self", "patient")).select_related("patient").get(pk=case.pk)


@pytest.mark.django_db
def test_moves_made_under_the_lock_are_each_an_event_at_its_own_time_in_a_whole_chain():
    case = make_case()
    started = timezone.now() - timedelta(seconds=5)

    with transaction.atomic():
        move_locked(
            case=_locked(case),
            steps=[
                Step(CaseStatus.DRAFTING, "Drafting started", at=started),
                Step(CaseStatus.DRAFT_FAILED, "no"),
            ],
            actor=Actor(label="worker"),
        )

    events = list(case.events.order_by("chain_seq").values_list("to_status", "created_at"))
    assert [status for status, _ in events] == ["received", "drafting", "draft_failed"]
    assert events[1][1] == started < events[2][1]
    assert Case.objects.get(pk=case.pk).status == CaseStatus.DRAFT_FAILED
    assert list(verify_chains()) == []


@pytest.mark.django_db
def test_a_move_under_the_lock_that_is_not_allowed_or_takes_an_expression_writes_nothing():
    case = make_case()

    with pytest.raises(TransitionError), transaction.atomic():
        move_locked(case=_locked(case), steps=[Step(CaseStatus.DECIDED)], actor=Actor(label="worker"))
    with pytest.raises(TypeError), transaction.atomic():
        move_locked(
            case=_locked(case),
            steps=[Step(CaseStatus.DRAFTING)],
            actor=Actor(label="worker"),
            open_question=F("notes"),
        )

    assert list(case.events.values_list("to_status", flat=True)) == ["received"]
    assert Case.objects.get(pk=case.pk).status == CaseStatus.RECEIVED
