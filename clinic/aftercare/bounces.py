"""What the patient's mail server or the email provider says about an address (DESIGN.md
"Follow-up": "Bounces and opt-outs are honoured").

django-anymail turns every provider's webhooks into one `tracking` signal; `connect()`, called from
aftercare.apps, listens to it. A bounce or a provider's refusal ("bounced", "rejected") is
follow_up.record_bounce: the address is not emailed again and the time point goes to the desk's
call list. A spam complaint or an unsubscribe ("complained", "unsubscribed") is the patient saying
no, as from the link's opt-out: follow_up.opt_out. Everything else (queued, sent, deferred,
delivered, opened, clicked) changes nothing: a deferral is the provider still trying. Events are
matched by the provider's message id, kept on the invitation at each send."""

import smtplib
import uuid

from anymail.signals import AnymailTrackingEvent, tracking
from django.db import transaction

from clinic.aftercare import follow_up
from clinic.aftercare.follow_up_tokens import LinkRefused, token_for
from clinic.aftercare.models import ContactOptOut, FollowUpEvent, Invitation
from intake import chain

BOUNCES = frozenset({"bounced", "rejected"})
OPT_OUTS = frozenset({"complained", "unsubscribed"})


def refused_for_good(exc: Exception) -> bool:
    """The patient's mail server refused the address with a permanent (5xx) code: a retry cannot
    help (a 4xx is "try later", and is retried)."""
    if not isinstance(exc, smtplib.SMTPRecipientsRefused) or not exc.recipients:
        return False
    return min(code for code, _ in exc.recipients.values()) >= 500


@transaction.atomic
def record_refusal(*, invitation_id: uuid.UUID | str, message_id: str) -> None:
    """The address was refused while sending: recorded as the bounce a provider would report."""
    Invitation.objects.filter(pk=invitation_id).update(
        message_id=message_id, claimed_until=None, last_error="The address was refused"
    )
    follow_up.record_bounce(message_id=message_id)


def on_tracking(sender: object, event: AnymailTrackingEvent, esp_name: str, **kwargs: object) -> None:
    """anymail's tracking signal: honour a bounce, a refusal, a complaint or an unsubscribe. A
    message id that matches no invitation (another email of the clinic's) changes nothing."""
    message_id = (event.message_id or "").strip()
    if not message_id:
        return
    if event.event_type in BOUNCES:
        follow_up.record_bounce(message_id=message_id)
    elif event.event_type in OPT_OUTS:
        invitation = Invitation.objects.select_related("case__patient").filter(message_id=message_id).first()
        if invitation is None:
            return
        try:
            follow_up.opt_out(token=token_for(invitation))
        except LinkRefused:
            _opt_out_without_link(invitation)


@transaction.atomic
def _opt_out_without_link(invitation: Invitation) -> None:
    # The link cannot be written again (SECRET_KEY rotated past its fallbacks), but the patient's
    # "no" still holds for every later invitation: the same row and event follow_up.opt_out writes.
    patient = invitation.case.patient
    email = (patient.email or "").strip().lower()
    if (
        email
        and ContactOptOut.objects.get_or_create(
            patient=patient, email=email, defaults={"reason": ContactOptOut.Reason.OPTED_OUT}
        )[1]
    ):
        note = "The patient asked for no more follow-up email (a complaint to the email provider)"
        chain.append(
            FollowUpEvent(
                case_id=invitation.case_id,
                time_point_id=invitation.time_point_id,
                kind=FollowUpEvent.Kind.OPTED_OUT,
                actor_label="email provider",
                note=note,
            )
        )


def connect() -> None:
    """Listen to anymail's tracking signal (called once from aftercare.apps)."""
    tracking.connect(on_tracking, dispatch_uid="clinic.aftercare.bounces")
