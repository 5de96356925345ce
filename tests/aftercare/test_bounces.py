"""Bounces and opt-outs are honoured (issue #26, item 4): an address the patient's mail server
refuses outright, and what a provider reports through django-anymail's tracking signal (a bounce, a
refusal, a complaint), put the time point on the desk's call list and keep the address from being
emailed again; a provider never rewrites the link. The anymail test backend stands in for the
provider's API, and anymail's own Postmark webhook view receives a bounce as Postmark posts it."""

import base64
import json
import smtplib
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from anymail.signals import AnymailTrackingEvent, tracking
from django.core import mail
from django.urls import include, path, reverse

from clinic.aftercare import bounces, delivery
from clinic.aftercare.models import ContactOptOut, FollowUpEvent, Invitation
from clinic.aftercare.tasks import follow_up as tasks
from tests.aftercare.test_delivery import ADDRESS, baseline_link, days_ago, events, point_mail_at, point_of
from tests.faults.smtp import free_port

Kind = FollowUpEvent.Kind

# The provider's webhooks mounted as the README says, beside the patient's links the emails carry.
urlpatterns = [path("f/", include("clinic.web.patient.urls")), path("anymail/", include("anymail.urls"))]


class RefusingHandler:
    """A mail server that refuses every recipient with the given reply."""

    def __init__(self, reply: str):
        self.reply = reply

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        return self.reply


@pytest.mark.django_db
def test_an_address_refused_for_good_is_a_bounce_and_a_refusal_for_now_is_retried(settings):
    refusing = Controller(RefusingHandler("550 5.1.1 No such user"), hostname="127.0.0.1", port=free_port())
    refusing.start()
    point_mail_at(settings, refusing.port)
    try:
        refused = baseline_link()
        assert delivery.send_owed(invitation_id=refused.pk) == delivery.REFUSED
        refusing.handler.reply = "450 4.2.1 Mailbox busy, try later"
        later = baseline_link(email="other@example.org")
        with pytest.raises(smtplib.SMTPRecipientsRefused) as raised:
            tasks.send_invitation(str(later.pk))
    finally:
        refusing.stop()

    refused.refresh_from_db()
    assert refused.delivery == "bounced" and point_of(refused).state == "call"
    assert events(refused, Kind.BOUNCED) == ["The email bounced"]
    assert ContactOptOut.objects.get(patient=refused.case.patient).reason == "bounced"
    assert isinstance(raised.value, delivery.MAIL_ERRORS)  # the task retries it
    later.refresh_from_db()
    assert (later.delivery, later.claimed_until, point_of(later).state) == ("pending", None, "invited")
    assert "Mailbox busy" in later.last_error


@pytest.fixture
def provider(settings):
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    settings.ANYMAIL = {"WEBHOOK_SECRET": "provider:webhook-secret-for-tests"}
    bounces.connect()  # as aftercare.apps does (a second connect is a no-op)
    mail.outbox = []
    return mail.outbox


@pytest.mark.django_db
def test_a_provider_never_rewrites_the_link_and_its_message_id_is_kept(provider):
    invitation = baseline_link()

    assert delivery.send_owed(invitation_id=invitation.pk) == delivery.SENT

    (sent,) = provider
    assert (
        sent.anymail_test_params["track_clicks"] is False and sent.anymail_test_params["track_opens"] is False
    )
    invitation.refresh_from_db()
    assert invitation.message_id == str(sent.anymail_status.message_id)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "event_type, reason, kind", [("bounced", "bounced", Kind.BOUNCED), ("rejected", "bounced", Kind.BOUNCED)]
)
def test_a_bounce_the_provider_reports_is_honoured(provider, event_type, reason, kind):
    invitation = baseline_link()
    delivery.send_owed(invitation_id=invitation.pk)
    message_id = Invitation.objects.get(pk=invitation.pk).message_id
    tracking.send(
        sender=None,
        event=AnymailTrackingEvent(event_type="delivered", message_id=message_id),
        esp_name="Test",
    )
    assert point_of(invitation).state == "invited"  # delivered: nothing to do

    event = AnymailTrackingEvent(event_type=event_type, message_id=message_id, recipient=ADDRESS)
    tracking.send(sender=None, event=event, esp_name="Test")

    assert point_of(invitation).state == "call" and len(events(invitation, kind)) == 1
    assert ContactOptOut.objects.get(patient=invitation.case.patient).reason == reason
    assert delivery.owed_now(requeue_after=timedelta(0)) == []


@pytest.mark.django_db
def test_a_complaint_is_an_opt_out_and_an_unknown_message_changes_nothing(provider):
    invitation = baseline_link()
    delivery.send_owed(invitation_id=invitation.pk)
    message_id = Invitation.objects.get(pk=invitation.pk).message_id
    unknown = AnymailTrackingEvent(event_type="bounced", message_id="<not-ours@example.org>")
    tracking.send(sender=None, event=unknown, esp_name="Test")
    assert not ContactOptOut.objects.exists()

    complaint = AnymailTrackingEvent(event_type="complained", message_id=message_id)
    tracking.send(sender=None, event=complaint, esp_name="Test")

    assert ContactOptOut.objects.get(patient=invitation.case.patient).reason == "opted_out"
    assert len(events(invitation, Kind.OPTED_OUT)) == 1
    # The link still works; the desk calls instead of the first reminder.
    days_ago(invitation, 3.1)
    assert [delivery.send_owed(invitation_id=pk) for pk in delivery.owed_now(requeue_after=timedelta(0))] == [
        delivery.OPTED_OUT
    ]
    assert point_of(invitation).state == "call" and len(provider) == 1


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_a_postmark_bounce_webhook_reaches_the_call_list(provider, client):
    invitation = baseline_link()
    delivery.send_owed(invitation_id=invitation.pk)
    message_id = Invitation.objects.get(pk=invitation.pk).message_id
    bounce = {"RecordType": "Bounce", "Type": "HardBounce", "MessageID": message_id, "Email": ADDRESS}
    url = reverse("anymail:postmark_tracking_webhook")

    forged = client.post(url, json.dumps(bounce), content_type="application/json")
    assert forged.status_code == 400 and point_of(invitation).state == "invited"  # no secret, no effect
    auth = "Basic " + base64.b64encode(b"provider:webhook-secret-for-tests").decode()
    answer = client.post(url, json.dumps(bounce), content_type="application/json", HTTP_AUTHORIZATION=auth)

    assert answer.status_code == 200
    assert point_of(invitation).state == "call" and events(invitation, Kind.BOUNCED) == ["The email bounced"]


@pytest.mark.django_db
def test_past_a_key_rotation_the_desk_calls_and_a_complaint_still_opts_out(provider, settings):
    invitation = baseline_link()
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-new-secret-key-for-the-test-0123456789", [old_key]
    assert delivery.send_owed(invitation_id=invitation.pk) == delivery.SENT  # the link as it was made
    message_id = Invitation.objects.get(pk=invitation.pk).message_id

    # Once the old key is dropped, the link cannot be written again: no reminder, the desk calls
    settings.SECRET_KEY_FALLBACKS = []
    days_ago(invitation, 3.1)
    assert delivery.send_owed(invitation_id=invitation.pk) == delivery.NO_LINK
    assert point_of(invitation).state == "call" and len(provider) == 1
    assert events(invitation, Kind.CALL_LIST) == ["Not emailed: the link could not be written again"]

    # and the patient's "no" to the provider still keeps every later link from being emailed
    complaint = AnymailTrackingEvent(event_type="unsubscribed", message_id=message_id)
    tracking.send(sender=None, event=complaint, esp_name="Test")
    assert ContactOptOut.objects.get(patient=invitation.case.patient).reason == "opted_out"
    assert len(events(invitation, Kind.OPTED_OUT)) == 1
