"""Escalation emails: written in a short transaction, sent after commit with a timeout, once."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from intake.models import Case
from recommendations import tasks
from recommendations.escalation import escalate_overdue, send_escalation, unsent_escalations
from recommendations.models import Escalation
from recommendations.services import make_draft
from tests.factories import make_case, make_patient, make_user
from tests.faults.conftest import own_broker  # noqa: F401 - a redis-server of its own, as a fixture
from tests.faults.smtp import SmtpServer, free_port
from tests.support import WorkerProcess, at_once, committed_db, wait_for


def overdue_by(hours: float, **fields) -> Case:
    case = make_case(**fields)
    make_draft(case_id=case.pk)
    Case.objects.filter(pk=case.pk).update(due_at=timezone.now() - timedelta(hours=hours))
    return case


def point_mail_at(settings, port: int) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2


@pytest.fixture
def smtp(settings):
    server = SmtpServer().start()
    point_mail_at(settings, server.port)
    yield server
    server.stop()


@pytest.fixture
def specialists(db):
    make_user("dr_a", group="Specialists", email="a@clinic.example")
    make_user("dr_b", group="Specialists", email="b@clinic.example")
    make_user("desk_c", group="Front desk", email="c@clinic.example")


def send_now(escalation_id: int) -> None:
    send_escalation(escalation_id=escalation_id)


@pytest.mark.django_db
def test_overdue_cases_are_emailed_to_the_specialists_once_per_level(
    specialists, smtp, django_capture_on_commit_callbacks
):
    late = overdue_by(2, patient=make_patient(family_name="Late"))
    very_late = overdue_by(30, patient=make_patient(family_name="Verylate"))
    overdue_by(-5)  # not yet due

    with django_capture_on_commit_callbacks(execute=True):
        assert len(escalate_overdue(queue_send=send_now)) == 3  # level 1 for both, level 2 for one
        assert escalate_overdue(queue_send=send_now) == []  # never twice

    assert len(smtp.messages) == 3
    assert all(m["To"] == "a@clinic.example, b@clinic.example" for m in smtp.messages)
    subjects = sorted(m["Subject"] for m in smtp.messages)
    assert subjects[0].startswith("[Clinic review] Level 1") and subjects[2].startswith(
        "[Clinic review] Level 2"
    )
    bodies = [m.get_payload() for m in smtp.messages]
    assert any(very_late.patient.mrn in body and str(very_late.pk) in body for body in bodies)
    assert not any("Verylate" in body for body in bodies) and "Verylate" not in "".join(subjects)
    assert Escalation.objects.filter(case=late).count() == 1
    assert not Escalation.objects.filter(sent_at__isnull=True).exists()


@pytest.mark.django_db
def test_decided_or_withdrawn_cases_are_not_escalated(specialists, smtp):
    case = overdue_by(5)
    Case.objects.filter(pk=case.pk).update(status="withdrawn")

    assert escalate_overdue(queue_send=send_now) == []
    assert smtp.messages == []


@committed_db
def test_no_email_inside_a_transaction_the_row_commits_with_the_mail_server_down_and_is_sent_later(settings):
    # Given an overdue case and a mail server that refuses connections
    make_user("dr_a", group="Specialists", email="a@clinic.example")
    case = overdue_by(2)
    port = free_port()
    point_mail_at(settings, port)
    seen = []

    def queue_send(escalation_id: int) -> None:
        # What the email task would find when it runs: a committed row, and no transaction open.
        visible = []

        def look_from_another_session() -> None:
            visible.append(Escalation.objects.filter(pk=escalation_id).exists())
            connection.close()

        probe = threading.Thread(target=look_from_another_session)
        probe.start()
        probe.join()
        seen.append((connection.in_atomic_block, visible[0]))
        with pytest.raises(ConnectionRefusedError):
            send_escalation(escalation_id=escalation_id)

    # When beat's pass runs
    written = escalate_overdue(queue_send=queue_send)

    # Then the escalation is recorded although nothing could be sent, and the send came after commit
    assert seen == [(False, True)]
    row = Escalation.objects.get(case=case)
    assert written == [row.pk]
    assert (row.sent_at, row.claimed_until, row.attempts) == (None, None, 1)
    assert row.last_error.startswith("ConnectionRefusedError")

    # and once the mail server is back, the next pass's catch-up sends it, once
    server = SmtpServer(port=port).start()
    try:
        assert unsent_escalations(older_than=timedelta(0)) == [row.pk]
        assert send_escalation(escalation_id=row.pk) is True
        assert send_escalation(escalation_id=row.pk) is False  # a second delivery of the task
        assert escalate_overdue(queue_send=send_now) == []
    finally:
        server.stop()
    assert len(server.messages) == 1
    row.refresh_from_db()
    assert row.sent_at is not None and row.last_error == ""
    assert unsent_escalations(older_than=timedelta(0)) == []


@committed_db
def test_racing_passes_and_racing_senders_send_each_escalation_once(settings):
    # Given two overdue cases, four beat passes racing, each sending what it wrote at once
    server = SmtpServer().start()
    point_mail_at(settings, server.port)
    make_user("dr_a", group="Specialists", email="a@clinic.example")
    cases = [overdue_by(2), overdue_by(30)]
    try:
        written = at_once(*[lambda: escalate_overdue(queue_send=send_now)] * 4)
        # and then the same task delivered four times at once for one of them
        first = Escalation.objects.filter(case=cases[0]).first()
        sent = at_once(*[lambda: send_escalation(escalation_id=first.pk)] * 4)
    finally:
        server.stop()

    # Then 3 emails in all (level 1 twice, level 2 once), however the work was split
    assert sum(len(ids) for ids in written) == 3 and len(server.messages) == 3
    assert sent == [False] * 4  # already sent by the pass that wrote it
    assert Escalation.objects.filter(case__in=cases, sent_at__isnull=False).count() == 3


@pytest.mark.worker
@committed_db
def test_a_failed_send_is_retried_by_the_worker_until_the_mail_server_answers(own_broker):  # noqa: F811
    # Given a worker whose mail server is down, and an overdue case
    port = free_port()
    mail = {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(port), "EMAIL_TIMEOUT": "2"}
    worker = WorkerProcess(broker_url=own_broker.url, name="escalation-retry", env=mail).start()
    server = SmtpServer(port=port)
    try:
        make_user("dr_a", group="Specialists", email="a@clinic.example")
        case = overdue_by(2)

        # When beat's pass runs, and the first send fails
        tasks.escalate_overdue.delay()
        assert wait_for(lambda: Escalation.objects.filter(case=case, last_error__gt="").exists(), timeout=20)
        assert Escalation.objects.get(case=case).sent_at is None

        # Then once the mail server is up, a retry delivers it, once
        server.start()
        assert wait_for(lambda: server.messages, timeout=60), worker.log()[-3000:]
        sent = Escalation.objects.filter(case=case, sent_at__isnull=False)
        assert wait_for(sent.exists, timeout=10)
        tasks.escalate_overdue.delay()  # a later pass owes nothing
        time.sleep(3)
    finally:
        worker.stop()
        server.stop()
    row = Escalation.objects.get(case=case)
    assert len(server.messages) == 1
    assert row.attempts >= 2 and row.last_error == ""
    assert "Retry in" in worker.log()
