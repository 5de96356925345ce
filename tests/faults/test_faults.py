"""Faults against the real components: nothing lost, nothing done twice.

Run alone with `pytest -m faults -s` to see the figures each test prints.
"""

import threading
import time

import pytest
from django.db import OperationalError, connection, transaction
from django.db.models import Count

from intake.models import Case, CaseEvent, CaseStatus
from intake.services import withdraw_case
from intake.workflow import Actor, TransitionError
from recommendations import review
from recommendations.models import Decision, Recommendation
from recommendations.services import make_draft
from recommendations.tasks import sweep_stuck_cases
from tests.factories import make_case, make_patient, make_user
from tests.support import WorkerProcess, committed_db, wait_for

pytestmark = [pytest.mark.faults, committed_db]


def drafted(case_ids) -> int:
    return Case.objects.filter(pk__in=case_ids, status=CaseStatus.AWAITING_REVIEW).count()


def drafts_per_case(case_ids) -> dict:
    counts = Recommendation.objects.filter(case_id__in=case_ids).values("case_id").annotate(n=Count("id"))
    return {row["case_id"]: row["n"] for row in counts}


def assert_each_drafted_exactly_once(case_ids) -> tuple[int, int]:
    per_case = drafts_per_case(case_ids)
    lost = [pk for pk in case_ids if per_case.get(pk, 0) == 0]
    duplicated = [pk for pk, n in per_case.items() if n > 1]
    events = CaseEvent.objects.filter(case_id__in=case_ids, to_status=CaseStatus.AWAITING_REVIEW)
    assert (lost, duplicated) == ([], [])
    assert events.count() == len(case_ids)
    return len(lost), len(duplicated)


def test_kill_9_of_a_worker_mid_stream_loses_and_duplicates_nothing(own_broker, settings):
    # Given 200 cases queued, and a worker whose drafts take 30 ms each
    patient = make_patient()
    case_ids = [make_case(patient=patient).pk for _ in range(200)]
    options = {"CELERY_VISIBILITY_TIMEOUT": "5", "CELERY_UNACKED_RESTORE_INTERVAL": "1"}
    first = WorkerProcess(broker_url=own_broker.url, name="fault-kill-1", delay=0.03, env=options).start()

    # When it is killed with SIGKILL part-way through
    assert wait_for(lambda: drafted(case_ids) >= 40, timeout=60)
    first.kill()
    before_kill = drafted(case_ids)
    # Drafting is one transaction: a draft cut short by the kill leaves its case received.
    waiting = Case.objects.filter(pk__in=case_ids, status=CaseStatus.RECEIVED).count()

    # and a new worker starts (the killed one's unacknowledged messages come back)
    second = WorkerProcess(broker_url=own_broker.url, name="fault-kill-2", env=options).start()
    try:
        done = wait_for(lambda: drafted(case_ids) == 200, timeout=30)
        swept = 0
        if not done:
            # A message the killed worker had popped but not yet recorded as unacknowledged
            # (kombu's Redis transport writes that record just after the pop) is gone from
            # the broker; its case waits in received/drafting, and beat's sweep queues it again.
            settings.SWEEP_STUCK_AFTER_SECONDS = 0
            swept = sweep_stuck_cases.apply().get()
            done = wait_for(lambda: drafted(case_ids) == 200, timeout=60)
    finally:
        second.stop()

    # Then every case was drafted exactly once
    assert done, f"{drafted(case_ids)} of 200 drafted"
    lost, duplicated = assert_each_drafted_exactly_once(case_ids)
    print(
        f"\nkill -9: 200 cases, {before_kill} drafted before the kill, {waiting} still received, "
        f"200 after restart ({swept} re-queued by the sweep); lost {lost}, duplicated {duplicated}"
    )


def test_a_broker_outage_during_intake_loses_nothing_once_the_sweep_runs(own_broker, settings):
    worker = WorkerProcess(broker_url=own_broker.url, name="fault-outage").start()
    patient = make_patient()
    try:
        # Given intake going on while the broker goes away and comes back
        before = [make_case(patient=patient).pk for _ in range(10)]
        own_broker.stop()
        started = time.monotonic()
        during = [make_case(patient=patient).pk for _ in range(10)]  # commits; the publish fails
        per_intake_ms = (time.monotonic() - started) * 100
        assert Case.objects.filter(pk__in=during).count() == 10  # no intake lost
        own_broker.start()
        after = [make_case(patient=patient).pk for _ in range(10)]
        case_ids = before + during + after

        # When the periodic sweep runs (it re-queues cases stuck in received/drafting)
        settings.SWEEP_STUCK_AFTER_SECONDS = 0
        requeued = sweep_stuck_cases.apply().get()

        # Then every case is drafted, once
        assert wait_for(lambda: drafted(case_ids) == 30, timeout=60), f"{drafted(case_ids)} of 30"
    finally:
        worker.stop()
    lost, duplicated = assert_each_drafted_exactly_once(case_ids)
    print(
        f"\nbroker outage: 30 intakes (10 while Redis was down, {per_intake_ms:.0f} ms each), "
        f"sweep re-queued {requeued}; lost {lost}, duplicated {duplicated}"
    )


def being_drafted(case_id) -> bool:
    """A worker holds the case's row lock: it is mid-draft (a draft is one transaction, so the
    committed status stays received until it ends)."""
    try:
        with transaction.atomic():
            list(Case.objects.select_for_update(nowait=True).filter(pk=case_id).values_list("pk"))
    except OperationalError:
        return True
    return False


def test_dropped_database_connections_under_a_running_worker_are_retried(own_broker):
    # Given a worker in the middle of a 3-second draft
    worker = WorkerProcess(broker_url=own_broker.url, name="fault-db", delay=3.0).start()
    try:
        case = make_case()
        assert wait_for(lambda: being_drafted(case.pk), timeout=20)
        time.sleep(0.5)

        # When the database drops every connection but ours
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            killed = cursor.fetchone()[0]

        # Then the task retries and the case is drafted, once
        assert wait_for(lambda: drafted([case.pk]) == 1, timeout=60)
    finally:
        worker.stop()
    retries = worker.log().count("Retry in")
    assert killed >= 1 and retries >= 1
    assert_each_drafted_exactly_once([case.pk])
    print(f"\ndropped connections: {killed} terminated mid-draft, {retries} retry, drafted once")


def test_a_request_that_fails_after_its_insert_rolls_back_and_queues_nothing(own_broker):
    patient = make_patient()

    with pytest.raises(RuntimeError), transaction.atomic():
        make_case(patient=patient)
        raise RuntimeError("the request failed after the insert")

    assert not Case.objects.filter(patient=patient).exists()
    assert own_broker.queued() == 0
    make_case(patient=patient)
    assert own_broker.queued() == 1  # the same call, committed, does queue its draft


def test_a_draft_longer_than_the_visibility_timeout_is_drafted_once(own_broker):
    # Given a visibility timeout (2 s) shorter than the draft (4 s): Redis hands the
    # message out again while the first run is still working on it.
    options = {"CELERY_VISIBILITY_TIMEOUT": "2", "CELERY_UNACKED_RESTORE_INTERVAL": "1"}
    worker = WorkerProcess(broker_url=own_broker.url, name="fault-visibility", delay=4.0, env=options).start()
    try:
        case = make_case()
        assert wait_for(lambda: drafted([case.pk]) == 1, timeout=30)
        time.sleep(6)  # room for any further redelivery
    finally:
        worker.stop()
    runs = worker.log().count("recommendations.draft_case[") // 2  # "received" and "succeeded" lines
    assert_each_drafted_exactly_once([case.pk])
    assert CaseEvent.objects.filter(case=case, note="Drafting started").count() == 1
    assert runs <= 2
    print(
        f"\nvisibility timeout 2 s, draft 4 s: delivered {runs} time(s), drafted once "
        "(the second delivery finds the case drafted and does nothing)"
    )


def test_a_desk_user_and_a_partner_withdrawing_while_a_specialist_decides_leave_one_outcome():
    outcomes = {"decided": 0, "withdrawn": 0, "refused": 0}
    for _ in range(10):
        case = make_case()
        make_draft(case_id=case.pk)
        doctor = make_user(group="Specialists")
        barrier = threading.Barrier(3)
        messages = []

        def act(kind: str, case_id=case.pk, doctor=doctor, barrier=barrier, messages=messages) -> None:
            barrier.wait()
            try:
                if kind == "decide":
                    review.approve_draft(case_id=case_id, user=doctor)
                    outcomes["decided"] += 1
                else:
                    withdraw_case(case=Case.objects.get(pk=case_id), actor=Actor(label=kind), reason=kind)
                    outcomes["withdrawn"] += 1
            except (TransitionError, review.ReviewError) as exc:
                outcomes["refused"] += 1
                messages.append(str(exc))
            finally:
                connection.close()

        threads = [threading.Thread(target=act, args=(k,)) for k in ("decide", "desk", "partner: A")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        final = Case.objects.get(pk=case.pk)
        assert final.status in (CaseStatus.DECIDED, CaseStatus.WITHDRAWN)
        assert Decision.objects.filter(case=case).exists() == (final.status == CaseStatus.DECIDED)
        assert len(messages) == 2 and all("already" in m or "now" in m for m in messages), messages
    print(f"\nwithdraw vs decide, 10 rounds of 3 racers: {outcomes}")
    assert outcomes["decided"] + outcomes["withdrawn"] == 10


def test_with_redis_stopped_partner_posts_desk_and_admin_pages_keep_answering(
    own_broker, settings, client, caplog
):
    # Given production's layout: the broker and the rate limit's counters both on this Redis
    from rest_framework.test import APIClient

    from intake.partners import create_partner
    from tests.factories import referral_body

    settings.CACHE_URL = own_broker.url
    _, key = create_partner(name="Outage Partner")
    partner = APIClient()
    partner.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    client.force_login(make_user("dr_outage", group="Specialists", is_staff=True))

    # When Redis goes away
    own_broker.stop()

    # Then a referral is still taken (its draft is queued later by the sweep), and the pages answer
    posted = partner.post("/api/v1/referrals/", referral_body(external_id="RF-OUT"), format="json")
    assert posted.status_code == 201, posted.content
    assert Case.objects.filter(external_id="RF-OUT").exists()
    assert client.get("/desk/").status_code == 200
    assert client.get("/admin/recommendations/reviewcase/").status_code == 200
    assert "partner rate limit store unreachable" in caplog.text
