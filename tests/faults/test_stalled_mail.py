"""A mail server that accepts connections and never answers: drafting goes on, no lock is held,
and once a real mail server answers each escalation email arrives exactly once."""

import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from intake.models import Case, CaseStatus
from recommendations import escalation, tasks
from recommendations.models import Escalation
from recommendations.services import make_draft
from tests.factories import make_case, make_patient, make_user
from tests.faults.smtp import SmtpServer, StallingSmtpServer
from tests.support import WorkerProcess, committed_db, wait_for

pytestmark = [pytest.mark.faults, committed_db]

EMAIL_TIMEOUT = 4


def idle_in_transaction() -> int:
    """Other sessions on the test database sitting in an open transaction (holding its locks)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%%'"
        )
        return cursor.fetchone()[0]


def test_a_stalled_mail_server_delays_no_draft_and_each_email_arrives_once(own_broker):
    # Given the production layout (a worker for drafting, another for email, webhooks and the
    # rest) and a mail server that accepts every connection and never says a word
    stalled = StallingSmtpServer().start()
    mail = {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(stalled.port), "EMAIL_TIMEOUT": str(EMAIL_TIMEOUT)}
    drafting = WorkerProcess(
        broker_url=own_broker.url, name="stall-drafting", queues=(settings.DRAFTING_QUEUE,), concurrency=1
    ).start()
    others = (settings.DEFAULT_QUEUE, settings.EMAIL_QUEUE, settings.WEBHOOKS_QUEUE)
    other = WorkerProcess(broker_url=own_broker.url, name="stall-other", queues=others, env=mail).start()
    server = SmtpServer(port=stalled.port)
    try:
        make_user("dr_a", group="Specialists", email="a@clinic.example")
        overdue = []
        for _ in range(3):
            case = make_case()
            make_draft(case_id=case.pk)
            Case.objects.filter(pk=case.pk).update(due_at=timezone.now() - timedelta(hours=2))
            overdue.append(case)
        # The overdue cases' own draft tasks are on the queue too: let them run first.
        assert wait_for(lambda: "succeeded" in drafting.log(), timeout=20)

        # When beat's escalation pass runs (twice, as it would every few minutes) and the emails stall
        tasks.escalate_overdue.delay()
        tasks.escalate_overdue.delay()
        assert wait_for(lambda: len(stalled.accepted) >= 2, timeout=20), other.log()[-3000:]
        started = time.monotonic()

        # Then no transaction is held open while the mail server is talked to, a pass from
        # elsewhere writes without waiting for a lock, and new referrals are drafted in seconds
        assert idle_in_transaction() == 0
        assert escalation.escalate_overdue(queue_send=lambda escalation_id: None) == []
        assert time.monotonic() - started < 2
        referrals = [make_case(patient=make_patient()).pk for _ in range(5)]
        drafted = wait_for(
            lambda: Case.objects.filter(pk__in=referrals, status=CaseStatus.AWAITING_REVIEW).count() == 5,
            timeout=5,
        )
        drafted_after = time.monotonic() - started
        assert drafted, drafting.log()[-3000:]
        assert Escalation.objects.filter(case__in=overdue, sent_at__isnull=True).count() == 3
        # and a send that hears nothing gives up after EMAIL_TIMEOUT and is retried, never hangs
        timed_out = Escalation.objects.filter(case__in=overdue, last_error__contains="timed out")
        assert wait_for(timed_out.exists, timeout=EMAIL_TIMEOUT + 5)
        assert "retry: Retry in" in other.log()

        # When a mail server that answers takes the stalled one's place
        stalled.stop()
        server.start()

        # Then each escalation email arrives, exactly once, even with a later pass
        assert wait_for(lambda: len(server.messages) >= 3, timeout=90), other.log()[-3000:]
        assert wait_for(
            lambda: not Escalation.objects.filter(case__in=overdue, sent_at__isnull=True).exists(), timeout=10
        )
        tasks.escalate_overdue.delay()
        time.sleep(3)
    finally:
        stalled.stop()
        server.stop()
        drafting.stop()
        other.stop()
    assert len(server.messages) == 3
    mrns = sorted(message.get_payload().split("Patient MRN: ")[1].split()[0] for message in server.messages)
    assert mrns == sorted(case.patient.mrn for case in overdue)
    print(
        f"\nstalled SMTP: 5 referrals drafted {drafted_after:.1f} s after the emails stalled; "
        f"{len(server.messages)} escalation emails, one per case, once the mail server answered"
    )
