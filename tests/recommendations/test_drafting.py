from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.db import OperationalError
from django.utils import timezone

from intake.models import Case, CaseStatus
from recommendations import services
from recommendations.models import Recommendation
from recommendations.services import find_stuck_cases, make_draft, mark_draft_failed
from recommendations.tasks import draft_case, sweep_stuck_cases
from tests.factories import make_case


@pytest.mark.django_db
def test_a_draft_moves_the_case_to_review_with_its_explanation():
    case = make_case(condition_code="M17.11", affected_sites=["right_knee"])

    draft = make_draft(case_id=case.pk)

    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_REVIEW
    assert draft.route == "local_injection"
    assert (draft.ruleset_version, draft.protocol_id) == ("v3", "knee-oa-bmac")
    assert [rule["id"] for rule in draft.rules] == ["COND-LOCALIZED", "PROTOCOL-COVERS"]
    assert list(case.events.values_list("to_status", flat=True)) == [
        "received",
        "drafting",
        "awaiting_review",
    ]


@pytest.mark.django_db
def test_running_the_task_twice_leaves_one_draft():
    case = make_case()

    draft_case.apply(args=[str(case.pk)])
    draft_case.apply(args=[str(case.pk)])

    assert Recommendation.objects.filter(case=case).count() == 1
    assert case.events.filter(to_status=CaseStatus.AWAITING_REVIEW).count() == 1


@pytest.mark.django_db
def test_a_message_for_a_withdrawn_or_missing_case_does_nothing():
    case = make_case()
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.WITHDRAWN)

    assert make_draft(case_id=case.pk) is None
    assert make_draft(case_id="00000000-0000-0000-0000-000000000000") is None
    assert not Recommendation.objects.exists()


@pytest.mark.django_db
def test_database_errors_are_retried_then_the_case_is_marked_draft_failed(monkeypatch):
    case = make_case()
    attempts = []

    def database_down(*args, **kwargs):
        # Fault injection: the engine's database read fails every time.
        attempts.append(1)
        raise OperationalError("connection refused")

    monkeypatch.setattr(services, "intake_of", database_down)

    draft_case.apply(args=[str(case.pk)])

    case.refresh_from_db()
    assert len(attempts) == settings.DRAFT_MAX_RETRIES + 1
    assert case.status == CaseStatus.DRAFT_FAILED
    assert "OperationalError" in case.events.get(to_status="draft_failed").note


@pytest.mark.django_db
def test_a_bug_is_not_retried_and_fails_the_draft_at_once(monkeypatch):
    case = make_case()
    attempts = []

    def broken(*args, **kwargs):
        attempts.append(1)
        raise KeyError("bug")

    monkeypatch.setattr(services, "intake_of", broken)

    draft_case.apply(args=[str(case.pk)])

    case.refresh_from_db()
    assert len(attempts) == 1
    assert case.status == CaseStatus.DRAFT_FAILED


@pytest.mark.django_db
def test_marking_failed_leaves_a_drafted_case_alone():
    case = make_case()
    make_draft(case_id=case.pk)

    mark_draft_failed(case_id=case.pk, error="late failure report")

    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_REVIEW


def age(case: Case, seconds: int) -> None:
    past = timezone.now() - timedelta(seconds=seconds)
    Case.objects.filter(pk=case.pk).update(status_changed_at=past, draft_enqueued_at=past)


@pytest.mark.django_db
def test_sweep_finds_only_cases_stuck_longer_than_the_setting():
    stuck_received = make_case()
    stuck_drafting = make_case()
    Case.objects.filter(pk=stuck_drafting.pk).update(status=CaseStatus.DRAFTING)
    fresh = make_case()
    drafted = make_case()
    make_draft(case_id=drafted.pk)
    limit = settings.SWEEP_STUCK_AFTER_SECONDS
    for case in (stuck_received, stuck_drafting, drafted):
        age(case, limit + 5)
    age(fresh, limit - 30)

    assert set(find_stuck_cases()) == {stuck_received.pk, stuck_drafting.pk}


@pytest.mark.django_db
def test_sweep_queues_stuck_cases_on_the_broker_once_per_period(broker_url):
    queue = redis.Redis.from_url(broker_url)
    queue.delete(settings.DRAFTING_QUEUE)
    case = make_case()
    age(case, settings.SWEEP_STUCK_AFTER_SECONDS + 5)

    assert sweep_stuck_cases.apply().get() == 1
    assert sweep_stuck_cases.apply().get() == 0  # just queued: not again until the period passes

    assert queue.llen(settings.DRAFTING_QUEUE) == 1
    assert str(case.pk) in queue.lindex(settings.DRAFTING_QUEUE, 0).decode()
    assert case.events.filter(note="Re-queued for drafting").count() == 1
    queue.delete(settings.DRAFTING_QUEUE)
