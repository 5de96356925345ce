from datetime import timedelta

import pytest
from django.utils import timezone

from intake.models import Case, CaseStatus, Priority
from intake.selectors import CARDS_PER_GROUP, board
from tests.factories import make_case


def group(key: str):
    return next(g for g in board() if g.key == key)


@pytest.mark.django_db
def test_a_full_group_shows_urgent_first_then_the_newest_across_its_statuses():
    # Given more routine cases than a group shows, in two statuses of one group, and an old urgent one
    now = timezone.now()
    cases = [make_case() for _ in range(CARDS_PER_GROUP + 5)]
    for age, case in enumerate(cases):
        status = CaseStatus.DRAFTING if age % 2 else CaseStatus.RECEIVED
        Case.objects.filter(pk=case.pk).update(status=status, status_changed_at=now - timedelta(minutes=age))
    urgent = make_case(priority=Priority.URGENT)
    Case.objects.filter(pk=urgent.pk).update(status_changed_at=now - timedelta(days=3))

    # When the board is read
    in_progress = group("in_progress")

    # Then the urgent case leads, then the newest routine ones in order, whatever their status
    assert in_progress.count == CARDS_PER_GROUP + 6
    assert [c.pk for c in in_progress.cases] == [urgent.pk] + [c.pk for c in cases[: CARDS_PER_GROUP - 1]]
    # and the oldest waiting is the first one received
    assert in_progress.oldest.pk == cases[0].pk


@pytest.mark.django_db
def test_closed_cases_older_than_the_window_stay_off_the_board():
    recent, old = make_case(), make_case()
    Case.objects.filter(pk=recent.pk).update(status=CaseStatus.WITHDRAWN)
    Case.objects.filter(pk=old.pk).update(
        status=CaseStatus.WITHDRAWN, status_changed_at=timezone.now() - timedelta(days=400)
    )

    closed = group("closed")

    assert [c.pk for c in closed.cases] == [recent.pk] and closed.count == 1
