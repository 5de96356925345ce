"""Overdue reporting clocks escalate like overdue reviews (issue #25, item 3): a ClockEscalation
row per level written in a short transaction with no network, the email sent after commit to the
specialists through a real SMTP server (aiosmtpd), once per level, naming the case reference, the
rule and how late it is, never the patient's name. The tasks are run directly, and by a real worker."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from clinic.aftercare import adverse_events
from clinic.aftercare.escalation import (
    escalate_overdue_clocks,
    send_clock_escalation,
    unsent_clock_escalations,
)
from clinic.aftercare.models import ClockEscalation, ReportingClock
from clinic.aftercare.tasks import escalation as tasks
from intake.workflow import Actor
from tests.aftercare.factories import make_course
from tests.factories import make_patient, make_user
from tests.faults.conftest import own_broker  # noqa: F401 - a redis-server of its own, as a fixture
from tests.faults.smtp import SmtpServer, free_port
from tests.support import WorkerProcess, at_once, committed_db, wait_for

SAFETY_REPORT = "21 CFR 312.32(c)(1)"


def overdue_clock(hours: float, *, family_name: str = "Silva") -> ReportingClock:
    """The IND safety report's clock of a serious, unexpected, probably related event (hf-msc-ind),
    made `hours` overdue (negative: not yet due); the event's other clock stays far from due."""
    course = make_course(route="intravenous", patient=make_patient(family_name=family_name))
    event = adverse_events.report_adverse_event(
        course_id=course.pk,
        source="staff",
        actor=Actor.of_user(make_user(group="Front desk")),
        values=dict(
            onset=timezone.localdate().isoformat(),
            description="Fever and rigors after the infusion; admitted overnight.",
            ctcae_grade=3,
            serious=True,
            seriousness_criteria=["hospitalization"],
            outcome="recovering",
            expected=False,
            relatedness_product="probable",
        ),
    )
    clock = ReportingClock.objects.get(adverse_event=event, citation=SAFETY_REPORT)
    ReportingClock.objects.filter(pk=clock.pk).update(due_at=timezone.now() - timedelta(hours=hours))
    return ReportingClock.objects.select_related("case").get(pk=clock.pk)


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
    tasks.send_clock_escalation(escalation_id)  # the task itself, run here


@pytest.mark.django_db
def test_overdue_clocks_are_emailed_to_the_specialists_once_per_level(
    specialists, smtp, django_capture_on_commit_callbacks
):
    late = overdue_clock(2, family_name="Latecomer")
    very_late = overdue_clock(30, family_name="Verylate")
    overdue_clock(-5)  # not yet due

    with django_capture_on_commit_callbacks(execute=True):
        assert len(escalate_overdue_clocks(queue_send=send_now)) == 3  # level 1 for both, level 2 for one
        assert escalate_overdue_clocks(queue_send=send_now) == []  # never twice

    assert len(smtp.messages) == 3
    assert all(m["To"] == "a@clinic.example, b@clinic.example" for m in smtp.messages)
    subjects = sorted(" ".join(m["Subject"].split()) for m in smtp.messages)  # unfolded
    assert subjects[0].startswith("[Clinic reporting] Level 1") and subjects[2].startswith(
        "[Clinic reporting] Level 2"
    )
    assert any(f"overdue by 1 day 6 hours ({very_late.case.reference})" in s for s in subjects)
    bodies = [m.get_payload() for m in smtp.messages]
    body = next(b for b in bodies if late.case.reference in b)
    assert f"Rule: {SAFETY_REPORT}" in body and "Report to: FDA and all participating investigators" in body
    assert "Overdue by: 2 hours" in body and f"/admin/aftercare/adverseevent/{late.adverse_event_id}/" in body
    everything = "".join(bodies + subjects)
    assert (
        "Latecomer" not in everything
        and "Verylate" not in everything
        and late.case.patient.mrn not in everything
    )
    assert ClockEscalation.objects.filter(clock=late).count() == 1
    assert not ClockEscalation.objects.filter(sent_at__isnull=True).exists()


@pytest.mark.django_db
def test_submitted_and_no_longer_required_clocks_are_not_escalated(specialists, smtp):
    submitted = overdue_clock(5)
    adverse_events.record_submission(
        clock_id=submitted.pk,
        user=make_user(group="Front desk"),
        submitted_at=timezone.now(),
        recipient="FDA",
        reference="SN-1",
    )
    stopped = overdue_clock(5)
    ReportingClock.objects.filter(pk=stopped.pk).update(state="not_required")

    assert escalate_overdue_clocks(queue_send=send_now) == []
    assert smtp.messages == []


@pytest.mark.django_db
def test_a_clock_submitted_before_its_email_goes_out_sends_nothing(specialists, smtp):
    clock = overdue_clock(3)
    written = escalate_overdue_clocks(queue_send=lambda escalation_id: None)  # queued, not yet sent
    adverse_events.record_submission(
        clock_id=clock.pk,
        user=make_user(group="Front desk"),
        submitted_at=timezone.now(),
        recipient="FDA",
        reference="SN-2",
    )

    assert send_clock_escalation(escalation_id=written[0]) is False
    assert smtp.messages == []
    assert unsent_clock_escalations(older_than=timedelta(0)) == []  # never queued again


@committed_db
def test_no_email_inside_a_transaction_the_row_commits_with_the_mail_server_down_and_is_sent_later(settings):
    # Given an overdue clock and a mail server that refuses connections
    make_user("dr_a", group="Specialists", email="a@clinic.example")
    clock = overdue_clock(2)
    port = free_port()
    point_mail_at(settings, port)
    seen = []

    def queue_send(escalation_id: int) -> None:
        # What the email task would find when it runs: a committed row, and no transaction open.
        visible = []

        def look_from_another_session() -> None:
            visible.append(ClockEscalation.objects.filter(pk=escalation_id).exists())
            connection.close()

        probe = threading.Thread(target=look_from_another_session)
        probe.start()
        probe.join()
        seen.append((connection.in_atomic_block, visible[0]))
        with pytest.raises(ConnectionRefusedError):
            tasks.send_clock_escalation(escalation_id)

    # When beat's pass runs (the task, called here)
    escalate_overdue_clocks(queue_send=queue_send)

    # Then the escalation is recorded although nothing could be sent, and the send came after commit
    assert seen == [(False, True)]
    row = ClockEscalation.objects.get(clock=clock)
    assert (row.sent_at, row.claimed_until, row.attempts) == (None, None, 1)
    assert row.last_error.startswith("ConnectionRefusedError")

    # and once the mail server is back, the next pass's catch-up sends it, once
    server = SmtpServer(port=port).start()
    try:
        assert unsent_clock_escalations(older_than=timedelta(0)) == [row.pk]
        assert tasks.send_clock_escalation(row.pk) is True
        assert tasks.send_clock_escalation(row.pk) is False  # a second delivery of the task
        assert escalate_overdue_clocks(queue_send=send_now) == []
    finally:
        server.stop()
    assert len(server.messages) == 1
    row.refresh_from_db()
    assert row.sent_at is not None and row.last_error == ""


@committed_db
def test_racing_passes_and_racing_senders_send_each_escalation_once(settings):
    server = SmtpServer().start()
    point_mail_at(settings, server.port)
    make_user("dr_a", group="Specialists", email="a@clinic.example")
    clocks = [overdue_clock(2), overdue_clock(30)]
    try:
        written = at_once(*[lambda: escalate_overdue_clocks(queue_send=send_now)] * 4)
        first = ClockEscalation.objects.filter(clock=clocks[0]).first()
        sent = at_once(*[lambda: send_clock_escalation(escalation_id=first.pk)] * 4)
    finally:
        server.stop()

    assert sum(len(ids) for ids in written) == 3 and len(server.messages) == 3
    assert sent == [False] * 4  # already sent by the pass that wrote it
    assert ClockEscalation.objects.filter(clock__in=clocks, sent_at__isnull=False).count() == 3


@pytest.mark.worker
@committed_db
def test_a_failed_send_is_retried_by_the_worker_until_the_mail_server_answers(own_broker):  # noqa: F811
    # Given a worker whose mail server is down, and an overdue clock
    port = free_port()
    mail = {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(port), "EMAIL_TIMEOUT": "2"}
    worker = WorkerProcess(broker_url=own_broker.url, name="clock-escalation-retry", env=mail).start()
    server = SmtpServer(port=port)
    try:
        make_user("dr_a", group="Specialists", email="a@clinic.example")
        clock = overdue_clock(2)

        # When beat's pass runs on the worker, and the first send fails
        tasks.escalate_overdue_clocks.delay()
        assert wait_for(
            lambda: ClockEscalation.objects.filter(clock=clock, last_error__gt="").exists(), timeout=20
        )
        assert ClockEscalation.objects.get(clock=clock).sent_at is None

        # Then once the mail server is up, a retry delivers it, once
        server.start()
        assert wait_for(lambda: server.messages, timeout=60), worker.log()[-3000:]
        assert wait_for(ClockEscalation.objects.filter(clock=clock, sent_at__isnull=False).exists, timeout=10)
        tasks.escalate_overdue_clocks.delay()  # a later pass owes nothing
        time.sleep(3)
    finally:
        worker.stop()
        server.stop()
    row = ClockEscalation.objects.get(clock=clock)
    assert len(server.messages) == 1 and clock.case.reference in " ".join(
        server.messages[0]["Subject"].split()
    )
    assert row.attempts >= 2 and row.last_error == ""
    assert "Retry in" in worker.log()
