"""A mail server that accepts connections and never answers, and the patients' follow-up email
(issue #26, "Done when"): drafting goes on, the desk's pages and the patient's link page answer at
once, no transaction is held open, and once a real mail server answers each link is emailed
exactly once. The production layout: one worker for drafting, one for the follow-up queue."""

import time

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse

from clinic.aftercare import delivery, follow_up
from clinic.aftercare.follow_up_tokens import token_for
from clinic.aftercare.models import FollowUpEvent, Invitation
from clinic.aftercare.tasks import follow_up as tasks
from intake.models import Case, CaseStatus
from tests.aftercare.factories import make_course
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


def answers_fast(client, url: str) -> float:
    started = time.monotonic()
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return time.monotonic() - started


def text_of(message) -> str:
    part = next(part for part in message.walk() if part.get_content_type() == "text/plain")
    return part.get_payload(decode=True).decode()


@pytest.fixture
def emailed_after_commit():
    """What aftercare.apps registers: each link's email queued once the link has committed (a
    second registration is a no-op)."""
    follow_up.on_invitation(tasks.queue_send)


def test_a_stalled_mail_server_holds_up_no_draft_and_no_page_and_each_link_goes_once(
    own_broker, emailed_after_commit, client
):
    # Given a worker for drafting, another for the follow-up queue, and a mail server that accepts
    # every connection and never says a word
    stalled = StallingSmtpServer().start()
    mail = {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(stalled.port), "EMAIL_TIMEOUT": str(EMAIL_TIMEOUT)}
    drafting = WorkerProcess(
        broker_url=own_broker.url, name="fu-drafting", queues=(settings.DRAFTING_QUEUE,), concurrency=1
    ).start()
    mailer = WorkerProcess(
        broker_url=own_broker.url, name="fu-follow-up", queues=(settings.FOLLOW_UP_QUEUE,), env=mail
    ).start()
    server = SmtpServer(port=stalled.port)
    try:
        # When three decisions open their courses: each baseline's link is made and, after its
        # commit, its email queued on the follow-up queue, where it stalls (as beat's sweep does)
        courses = [make_course(patient=make_patient(email=f"patient{n}@example.org")) for n in range(3)]
        invitations = list(Invitation.objects.filter(case__in=[c.case for c in courses]))
        assert len(invitations) == 3 and {i.delivery for i in invitations} == {"pending"}
        tasks.send_due_follow_ups.delay()
        assert wait_for(lambda: len(stalled.accepted) >= 2, timeout=20), mailer.log()[-3000:]
        started = time.monotonic()

        # Then no transaction is held open while the mail server is talked to, beat's sweep from
        # elsewhere runs without waiting for a lock,
        assert idle_in_transaction() == 0
        assert delivery.issue_due() == [] and delivery.close_unanswered() == 0
        assert time.monotonic() - started < 2
        # new referrals are drafted in seconds,
        referrals = [make_case(patient=make_patient()).pk for _ in range(5)]
        drafted = wait_for(
            lambda: Case.objects.filter(pk__in=referrals, status=CaseStatus.AWAITING_REVIEW).count() == 5,
            timeout=5,
        )
        drafted_after = time.monotonic() - started
        assert drafted, drafting.log()[-3000:]
        # the desk's board and case page, and the patient's link page, answer at once,
        client.force_login(make_user(group="Front desk"))
        case = courses[0].case
        pages = [
            reverse("desk:board"),
            reverse("desk:case", args=[case.pk]),
            reverse("patient:form", kwargs={"token": token_for(invitations[0])}),
        ]
        slowest = max(answers_fast(client, url) for url in pages)
        assert slowest < 2
        # and a send that hears nothing gives up after EMAIL_TIMEOUT and is retried, never hangs
        timed_out = Invitation.objects.filter(
            pk__in=[i.pk for i in invitations], last_error__contains="timed out"
        )
        assert wait_for(timed_out.exists, timeout=EMAIL_TIMEOUT + 5)
        assert wait_for(lambda: "Retry in" in mailer.log(), timeout=5)
        assert not Invitation.objects.filter(pk__in=[i.pk for i in invitations], delivery="sent").exists()

        # When a mail server that answers takes the stalled one's place
        stalled.stop()
        server.start()

        # Then each link is emailed, exactly once, even with a later sweep
        assert wait_for(lambda: len(server.messages) >= 3, timeout=120), mailer.log()[-3000:]
        sent = Invitation.objects.filter(pk__in=[i.pk for i in invitations], delivery="sent")
        assert wait_for(lambda: sent.count() == 3, timeout=10)
        tasks.send_due_follow_ups.delay()
        time.sleep(3)
    finally:
        stalled.stop()
        server.stop()
        drafting.stop()
        mailer.stop()
    assert sorted(message["To"] for message in server.messages) == [
        f"patient{n}@example.org" for n in range(3)
    ]
    emailed = FollowUpEvent.objects.filter(
        kind=FollowUpEvent.Kind.INVITED, note__contains="emailed to the patient"
    )
    assert emailed.count() == 3
    for invitation in invitations:
        body = text_of(next(m for m in server.messages if m["To"] == invitation.case.patient.email))
        assert f"/f/{token_for(invitation)}" in body
        assert token_for(invitation) not in mailer.log()  # the link is in no task message or log line
    print(
        f"\nstalled SMTP: 5 referrals drafted {drafted_after:.1f} s after the follow-up email stalled, "
        f"pages answered within {slowest:.2f} s; {len(server.messages)} links emailed, one per patient, "
        "once the mail server answered"
    )
