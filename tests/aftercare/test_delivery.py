"""Emailing follow-up links (issue #26, item 4): each link emailed once through a real SMTP server
(aiosmtpd), naming no patient and no condition; reminders on days 3 and 7, then the desk's call
list; no address, an opt-out, a refusal or a bounce sends the time point to the call list; a mail
server that is down leaves the email owed and it goes once the server answers. The services and
the send task are run here; tests/faults/test_follow_up_mail.py runs them on real workers."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from clinic.aftercare import delivery, follow_up
from clinic.aftercare.follow_up_tokens import hash_token
from clinic.aftercare.models import ContactOptOut, FollowUpEvent, Invitation, TimePoint
from clinic.aftercare.tasks import follow_up as tasks
from intake.models import Patient
from tests.aftercare.factories import make_course
from tests.factories import make_patient
from tests.faults.smtp import SmtpServer, free_port
from tests.support import at_once, committed_db

ADDRESS = "ana.example@example.org"
Kind = FollowUpEvent.Kind


def point_mail_at(settings, port: int) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2


@pytest.fixture
def smtp(settings):
    server = SmtpServer().start()
    point_mail_at(settings, server.port)
    yield server
    server.stop()


def baseline_link(email: str = ADDRESS, **patient) -> Invitation:
    """A course just opened by its decision: the baseline's link made, its email owed."""
    course = make_course(
        patient=make_patient(email=email, given_name="Philippa", family_name="Quist", **patient)
    )
    return Invitation.objects.select_related("time_point", "case__patient").get(case=course.case)


def events(invitation: Invitation, kind: str) -> list[str]:
    rows = FollowUpEvent.objects.filter(time_point_id=invitation.time_point_id, kind=kind)
    return list(rows.order_by("chain_seq").values_list("note", flat=True))


def point_of(invitation: Invitation) -> TimePoint:
    return TimePoint.objects.get(pk=invitation.time_point_id)


def header(message, name: str) -> str:
    return " ".join(message[name].split())  # unfolded


def link_in(message) -> str:
    text = next(part for part in message.walk() if part.get_content_type() == "text/plain")
    body = text.get_payload(decode=True).decode()
    return next(line for line in body.splitlines() if "/f/" in line and "stop-emails" not in line).strip()


def days_ago(invitation: Invitation, days: float, **fields) -> None:
    """Move the first email (and whatever else is given) `days` into the past."""
    Invitation.objects.filter(pk=invitation.pk).update(
        sent_at=timezone.now() - timedelta(days=days), **fields
    )


@pytest.mark.django_db
def test_the_link_is_emailed_once_naming_no_patient_and_recorded_on_the_case(smtp):
    invitation = baseline_link()

    assert tasks.send_invitation(str(invitation.pk)) == delivery.SENT  # the task, run here
    assert tasks.send_invitation(str(invitation.pk)) == delivery.NOTHING  # a second delivery of it

    assert len(smtp.messages) == 1
    message = smtp.messages[0]
    assert message["To"] == ADDRESS
    assert (
        header(message, "Subject") == "A few questions about how you are doing (Regenerative Medicine Clinic)"
    )
    # The link opens this invitation's form: its token hashes to the stored hash, and no name is in it.
    link = link_in(message)
    token = link.rsplit("/f/", 1)[1]
    assert link == "http://127.0.0.1:8000" + reverse("patient:form", kwargs={"token": token})
    assert hash_token(token) == invitation.token_hash
    everything = message.as_string()
    case = invitation.case
    for private in ("Philippa", "Quist", case.patient.mrn, case.condition_code, "osteoarthritis", "knee"):
        assert private.lower() not in everything.lower()
    assert header(message, "List-Unsubscribe") == f"<http://127.0.0.1:8000/f/{token}/stop-emails>"
    assert message["Auto-Submitted"] == "auto-generated"
    html = next(part for part in message.walk() if part.get_content_type() == "text/html")
    assert f'href="{link}"' in html.get_payload(decode=True).decode()
    assert (
        "before your treatment" in everything and "9 short questions" in everything
    )  # pain 1, KOOS JR 7, +1

    invitation.refresh_from_db()
    assert (invitation.delivery, invitation.attempts, invitation.claimed_until) == ("sent", 1, None)
    assert invitation.message_id == header(message, "Message-ID") and invitation.sent_at is not None
    assert events(invitation, Kind.INVITED)[-1] == "Link for the baseline emailed to the patient"
    assert len(events(invitation, Kind.INVITED)) == 2  # the link made, then emailed once


@pytest.mark.django_db
def test_reminders_go_on_days_3_and_7_then_the_desk_calls_after_day_11(smtp):
    invitation = baseline_link()
    delivery.send_owed(invitation_id=invitation.pk)

    def sweep() -> list[str]:
        assert delivery.close_unanswered() >= 0
        return [delivery.send_owed(invitation_id=pk) for pk in delivery.owed_now(requeue_after=timedelta(0))]

    days_ago(invitation, 2.9)
    assert sweep() == []
    days_ago(invitation, 3.1)
    assert sweep() == [delivery.REMINDED]
    assert sweep() == []  # once
    days_ago(invitation, 6.9, last_reminder_at=timezone.now() - timedelta(days=3.8))
    assert sweep() == []
    days_ago(invitation, 7.1, last_reminder_at=timezone.now() - timedelta(days=4.1))
    assert sweep() == [delivery.REMINDED]
    days_ago(invitation, 10.9, last_reminder_at=timezone.now() - timedelta(days=3.8))
    assert sweep() == [] and point_of(invitation).state == "invited"
    days_ago(invitation, 11.1, last_reminder_at=timezone.now() - timedelta(days=4.1))
    assert sweep() == []

    assert len(smtp.messages) == 3
    reminder = smtp.messages[1]
    assert header(reminder, "Subject").startswith("Reminder: a few questions about how you are doing")
    assert (
        link_in(reminder) == link_in(smtp.messages[0]) == link_in(smtp.messages[2])
    )  # the same link, still valid
    assert events(invitation, Kind.REMINDED) == ["Reminder 1 of 2 for the baseline emailed"] + [
        "Reminder 2 of 2 for the baseline emailed"
    ]
    assert point_of(invitation).state == "call"
    assert events(invitation, Kind.CALL_LIST) == [
        "No answer 11 days after the link for the baseline and 2 reminders"
    ]
    assert [point.pk for point in follow_up.call_list()] == [invitation.time_point_id]


@pytest.mark.django_db
def test_a_link_that_expired_unanswered_goes_to_the_call_list(smtp, settings):
    settings.FOLLOW_UP_REMINDER_DAYS = [3, 7, 20]  # the last reminder's wait is past the link's 14 days
    invitation = baseline_link()
    delivery.send_owed(invitation_id=invitation.pk)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    assert delivery.owed_now(requeue_after=timedelta(0)) == []
    assert delivery.close_unanswered() == 1
    assert point_of(invitation).state == "call"
    assert events(invitation, Kind.CALL_LIST) == ["The link for the baseline expired unanswered"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change, outcome, note",
    [
        ("no_address", delivery.NO_ADDRESS, "Not emailed: the patient has no email address"),
        ("opted_out", delivery.OPTED_OUT, "Not emailed: the patient's address opted out of email"),
        ("bounced", delivery.OPTED_OUT, "Not emailed: the patient's address bounced"),
    ],
)
def test_no_address_or_an_opt_out_after_the_link_was_made_sends_nothing_and_the_desk_calls(
    smtp, change, outcome, note
):
    invitation = baseline_link(email=ADDRESS.upper())
    patient = invitation.case.patient
    if change == "no_address":
        Patient.objects.filter(pk=patient.pk).update(email="")
    else:
        ContactOptOut.objects.create(patient=patient, email=ADDRESS, reason=change)

    assert delivery.send_owed(invitation_id=invitation.pk) == outcome

    assert smtp.messages == []
    assert point_of(invitation).state == "call"
    assert events(invitation, Kind.CALL_LIST) == [note]
    assert delivery.owed_now(requeue_after=timedelta(0)) == []


@pytest.mark.django_db
def test_reminders_stop_when_the_patient_opts_out(smtp):
    invitation = baseline_link()
    delivery.send_owed(invitation_id=invitation.pk)
    ContactOptOut.objects.create(patient=invitation.case.patient, email=ADDRESS, reason="opted_out")
    days_ago(invitation, 3.1)

    assert [delivery.send_owed(invitation_id=pk) for pk in delivery.owed_now(requeue_after=timedelta(0))] == [
        delivery.OPTED_OUT
    ]
    assert len(smtp.messages) == 1 and point_of(invitation).state == "call"


@pytest.mark.django_db
def test_a_mail_server_that_is_down_leaves_the_email_owed_and_it_goes_once_when_it_answers(settings):
    port = free_port()
    point_mail_at(settings, port)
    invitation = baseline_link()

    with pytest.raises(ConnectionRefusedError):
        tasks.send_invitation(str(invitation.pk))
    invitation.refresh_from_db()
    assert (invitation.delivery, invitation.attempts, invitation.claimed_until) == ("pending", 1, None)
    assert invitation.last_error.startswith("ConnectionRefusedError")
    assert delivery.owed_now(requeue_after=timedelta(minutes=10)) == []  # its own task still retries
    assert delivery.owed_now(requeue_after=timedelta(0)) == [invitation.pk]  # lost: the sweep's

    server = SmtpServer(port=port).start()
    try:
        assert tasks.send_invitation(str(invitation.pk)) == delivery.SENT
        assert tasks.send_invitation(str(invitation.pk)) == delivery.NOTHING
    finally:
        server.stop()
    assert len(server.messages) == 1
    assert (
        events(invitation, Kind.INVITED)[-1]
        == "Link for the baseline emailed to the patient (after 2 attempts)"
    )


@pytest.mark.django_db
def test_an_email_never_sent_in_a_day_is_given_up_and_the_desk_calls(settings):
    point_mail_at(settings, free_port())
    invitation = baseline_link()
    with pytest.raises(ConnectionRefusedError):
        delivery.send_owed(invitation_id=invitation.pk)
    Invitation.objects.filter(pk=invitation.pk).update(created_at=timezone.now() - timedelta(hours=25))

    assert delivery.close_unanswered() == 1

    invitation.refresh_from_db()
    assert invitation.delivery == "failed" and point_of(invitation).state == "call"
    (failed,) = events(invitation, Kind.SEND_FAILED)
    assert failed.startswith("Link for the baseline not emailed after 1 attempt: ConnectionRefusedError")
    assert events(invitation, Kind.CALL_LIST) == ["The email could not be sent: call the patient"]
    assert delivery.send_owed(invitation_id=invitation.pk) == delivery.NOTHING


@pytest.mark.django_db
def test_a_time_point_answered_or_called_before_its_email_goes_sends_nothing(smtp):
    invitation = baseline_link()
    follow_up.to_call_list(time_point_id=invitation.time_point_id, note="The desk rang first")

    assert delivery.send_owed(invitation_id=invitation.pk) == delivery.NOTHING
    assert delivery.owed_now(requeue_after=timedelta(0)) == [] and smtp.messages == []


@pytest.mark.django_db
def test_the_sweep_issues_the_links_due_today_and_none_early(smtp):
    invitation = baseline_link()
    later = TimePoint.objects.filter(course=point_of(invitation).course, day__gt=0).order_by("day")
    TimePoint.objects.filter(pk=later[0].pk).update(due_on=timezone.localdate())
    TimePoint.objects.filter(pk=later[1].pk).update(due_on=timezone.localdate() + timedelta(days=1))

    issued = delivery.issue_due()
    assert delivery.issue_due() == []  # a second sweep issues nothing more

    (due,) = Invitation.objects.filter(pk__in=issued)
    assert due.time_point_id == later[0].pk and due.delivery == "pending"
    assert delivery.send_owed(invitation_id=due.pk) == delivery.SENT
    assert "6 weeks after your treatment" in smtp.messages[0].as_string()
    assert TimePoint.objects.get(pk=later[1].pk).state == "waiting"


@committed_db
def test_racing_senders_send_one_email(settings):
    server = SmtpServer().start()
    point_mail_at(settings, server.port)
    try:
        invitation = baseline_link()
        outcomes = at_once(*[lambda: delivery.send_owed(invitation_id=invitation.pk)] * 4)
    finally:
        server.stop()
    assert sorted(outcomes) == [delivery.NOTHING] * 3 + [delivery.SENT]
    assert len(server.messages) == 1 and len(events(invitation, Kind.INVITED)) == 2
