"""Emailing follow-up links (DESIGN.md "Follow-up"), so that no mail server ever holds up the clinic.

A link is issued (follow_up.issue_invitation) in a short transaction; once that commits, its email
is queued on FOLLOW_UP_QUEUE (tasks.follow_up). Sending claims the invitation with one UPDATE
(claimed_until, in autocommit: two workers never send one email at once), talks to the mail server
outside any transaction with EMAIL_TIMEOUT, then marks it sent and appends the event in one short
transaction. A worker that dies between the send and the mark leaves a claim that lapses, so the
email may go twice but never not at all. Reminders follow FOLLOW_UP_REMINDER_DAYS after the first
email, the same way; beat's sweep issues the links that came due, queues what is owed, and puts
the unanswered on the desk's call list.

The link is written again from the invitation's id at each send (follow_up_tokens.token_for): the
token is never stored, logged, or carried in a task's message, where a broker would keep it. The
email names no patient, no condition and nothing the clinic typed: only what a stranger reading it
over the patient's shoulder may see.
"""

import re
import smtplib
import socket
import ssl
import uuid
from datetime import datetime, timedelta
from email.utils import make_msgid

from anymail.exceptions import AnymailRecipientsRefused, AnymailRequestsAPIError
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.utils import DNS_NAME
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from clinic.aftercare import bounces, follow_up
from clinic.aftercare.errors import AftercareError
from clinic.aftercare.follow_up_scores import spec_of
from clinic.aftercare.follow_up_tokens import LinkRefused, delivery_for, token_for
from clinic.aftercare.models import FollowUpEvent, Invitation, TimePoint
from intake import chain

# What a mail server or provider that is down, slow, unknown or refusing for now raises; anything
# else is a bug and is not retried.
_NETWORK = (ConnectionError, TimeoutError, socket.gaierror, ssl.SSLError)
MAIL_ERRORS = (smtplib.SMTPException, AnymailRequestsAPIError, *_NETWORK)
# An email still not sent this long after its link was made is given up: the desk calls instead.
GIVE_UP_AFTER = timedelta(days=1)
ACTOR_LABEL = "follow-up email"

Delivery = Invitation.Delivery
State = TimePoint.State
Kind = FollowUpEvent.Kind

# What send_owed did.
SENT, REMINDED, NOTHING = "sent", "reminded", "nothing"
NO_ADDRESS, OPTED_OUT, REFUSED, NO_LINK = "no_address", "opted_out", "refused", "no_link"


# --- when --------------------------------------------------------------------------------------


def _reminder_days() -> list[int]:
    return sorted(settings.FOLLOW_UP_REMINDER_DAYS)


def _call_after() -> timedelta:
    """How long after its email an unanswered link goes to the call list: as long after the last
    reminder as that reminder came after the one before it (reminders on days 3 and 7: day 11)."""
    days = _reminder_days()
    if not days:
        return timedelta(days=settings.FOLLOW_UP_LINK_DAYS)
    return timedelta(days=2 * days[-1] - (days[-2] if len(days) > 1 else 0))


def _reminder_due_at(invitation: Invitation, number: int) -> datetime:
    # Reminder n on its day after the first email, and never closer to the previous reminder than
    # the days between them: a sweep that was stopped for a week sends one, not two at once.
    days = _reminder_days()
    due = invitation.sent_at + timedelta(days=days[number - 1])
    if invitation.last_reminder_at is not None:
        gap = days[number - 1] - (days[number - 2] if number > 1 else 0)
        due = max(due, invitation.last_reminder_at + timedelta(days=gap))
    return due


def _owed(invitation: Invitation | None, now: datetime) -> int | None:
    """0 when the first email is owed, n when reminder n is, None when nothing is (or when there is
    no such invitation: a task's message older than the data)."""
    point = invitation.time_point if invitation is not None else None
    if (
        point is None
        or point.sandbox  # a sandbox course's answers are simulated: nobody to email
        or point.state != State.INVITED
        or invitation.submitted_at is not None
        or invitation.expires_at <= now
        or point.invitations.filter(created_at__gt=invitation.created_at).exists()
    ):
        return None
    if invitation.delivery == Delivery.PENDING:
        return 0
    number = invitation.reminders_sent + 1
    if (
        invitation.delivery != Delivery.SENT
        or number > len(_reminder_days())
        or now >= invitation.sent_at + _call_after()  # the desk's turn
        or now < _reminder_due_at(invitation, number)
    ):
        return None
    return number


# --- sending -----------------------------------------------------------------------------------


def send_owed(*, invitation_id: uuid.UUID | str) -> str:
    """Email what the invitation owes now, its link or its next reminder, unless another attempt
    holds it. Returns SENT, REMINDED or NOTHING, or why the time point went to the call list
    instead (NO_ADDRESS, OPTED_OUT, REFUSED, NO_LINK). Raises what the mail server raised
    (MAIL_ERRORS) after releasing the claim, so the caller may retry."""
    now = timezone.now()
    invitation = (
        Invitation.objects.select_related("time_point", "case__patient").filter(pk=invitation_id).first()
    )
    number = _owed(invitation, now)
    if number is None or not _claim(invitation, number, now):
        return NOTHING
    # Asked again at each send: the address may have gone, or opted out or bounced, since.
    how, why = delivery_for(invitation.case.patient)
    if how != Delivery.PENDING:
        _to_call_list(invitation, how, f"Not emailed: {why}")
        return NO_ADDRESS if how == Delivery.NO_ADDRESS else OPTED_OUT
    try:
        token = token_for(invitation)
    except LinkRefused:
        # SECRET_KEY was rotated past SECRET_KEY_FALLBACKS: the desk calls, or issues a new link.
        _to_call_list(invitation, Delivery.FAILED, "Not emailed: the link could not be written again")
        return NO_LINK
    message = _message(invitation, email=invitation.case.patient.email.strip(), token=token, reminder=number)
    try:
        message.send()
    except (AnymailRecipientsRefused, *MAIL_ERRORS) as exc:
        if isinstance(exc, AnymailRecipientsRefused) or bounces.refused_for_good(exc):
            bounces.record_refusal(invitation_id=invitation.pk, message_id=_message_id(message))
            return REFUSED
        # The claim is free for the next attempt at once; the token is in no error text.
        Invitation.objects.filter(pk=invitation.pk).update(
            claimed_until=None, last_error=f"{type(exc).__name__}: {exc}"[:200]
        )
        raise
    _mark_sent(invitation, number, message_id=_message_id(message))
    return REMINDED if number else SENT


def _claim_lease() -> timedelta:
    # One send is a connect and a handful of SMTP commands (or one API call), each bounded by
    # EMAIL_TIMEOUT; a claim older than this belongs to a worker that died mid-send.
    return timedelta(seconds=60 + 10 * settings.EMAIL_TIMEOUT)


def _as_read(invitation: Invitation, number: int) -> dict:
    # The state the decision to send was made on: the claim and the mark compare-and-set on it.
    if number == 0:
        return {"delivery": Delivery.PENDING}
    return {"delivery": Delivery.SENT, "reminders_sent": number - 1}


def _claim(invitation: Invitation, number: int, now: datetime) -> bool:
    # A single UPDATE (autocommit, no transaction kept open): at most one attempt sends at a time.
    counted = {"attempts": F("attempts") + 1} if number == 0 else {}
    return bool(
        Invitation.objects.filter(pk=invitation.pk, **_as_read(invitation, number))
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + _claim_lease(), **counted)
    )


def _day(point: TimePoint) -> str:
    return "the baseline" if point.day == 0 else f"day {point.day}"


def _event(invitation: Invitation, kind: str, note: str) -> None:
    chain.append(
        FollowUpEvent(
            case_id=invitation.case_id,
            time_point_id=invitation.time_point_id,
            kind=kind,
            actor_label=ACTOR_LABEL,
            note=note,
        )
    )


def _mark_sent(invitation: Invitation, number: int, *, message_id: str) -> None:
    now = timezone.now()
    done = {"claimed_until": None, "last_error": "", "message_id": message_id}
    if number == 0:
        done |= {"delivery": Delivery.SENT, "sent_at": now}
        attempts = Invitation.objects.values_list("attempts", flat=True).get(pk=invitation.pk)
        tries = f" (after {attempts} attempts)" if attempts > 1 else ""
        kind, note = Kind.INVITED, f"Link for {_day(invitation.time_point)} emailed to the patient{tries}"
    else:
        done |= {"reminders_sent": number, "last_reminder_at": now}
        of = len(_reminder_days())
        kind, note = Kind.REMINDED, f"Reminder {number} of {of} for {_day(invitation.time_point)} emailed"
    with transaction.atomic():
        # Compare-and-set: only the attempt that holds the state it read marks it.
        if Invitation.objects.filter(pk=invitation.pk, **_as_read(invitation, number)).update(**done):
            _event(invitation, kind, note)


def _to_call_list(invitation: Invitation, delivery: str, note: str) -> None:
    with transaction.atomic():
        Invitation.objects.filter(pk=invitation.pk).update(
            delivery=delivery, claimed_until=None, last_error=note[:200]
        )
        follow_up.to_call_list(time_point_id=invitation.time_point_id, note=note)


# --- the email ---------------------------------------------------------------------------------


def _when(point: TimePoint) -> str:
    if point.day == 0:
        return "before your treatment"
    if point.day < 60:
        weeks = round(point.day / 7)
        return f"{weeks} week{'s' if weeks != 1 else ''} after your treatment"
    if point.day < 365:
        return f"{round(point.day / 30.4)} months after your treatment"
    years = round(point.day / 365)
    return f"{years} year{'s' if years != 1 else ''} after your treatment"


def _questions(point: TimePoint) -> int:
    """How many questions the form asks: each instrument's items, and "anything unexpected?"."""
    count = 1
    for key in point.instruments:
        try:
            count += len(spec_of(key).items)
        except (LookupError, ValueError):
            continue  # an instrument removed since: the form says so, not the email
    return count


def _date(moment: datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local:%A} {local.day} {local:%B %Y}"


def _link(name: str, token: str) -> str:
    return settings.SITE_URL + reverse(name, kwargs={"token": token})


def _message(invitation: Invitation, *, email: str, token: str, reminder: int) -> EmailMultiAlternatives:
    point = invitation.time_point
    phone = getattr(settings, "CLINIC_PHONE", "")
    context = {
        "clinic_name": settings.CLINIC_NAME,
        "clinic_address": settings.CLINIC_ADDRESS,
        # As the patient's page reads it (clinic.web.patient); the coordinator may add the setting.
        "clinic_phone": phone,
        "clinic_phone_dial": re.sub(r"[^\d+]", "", phone),
        "link": _link("patient:form", token),
        "opt_out_link": _link("patient:opt-out", token),
        "when": _when(point),
        "questions": _questions(point),
        "expires_on": _date(invitation.expires_at),
        "reminder": reminder,
    }
    template = "email/follow_up_reminder" if reminder else "email/follow_up_invitation"
    subject = f"A few questions about how you are doing ({settings.CLINIC_NAME})"
    if reminder:
        subject = f"Reminder: {subject[0].lower()}{subject[1:]}"
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email],
        headers={
            # Our own id, kept to match a bounce; a provider's (django-anymail) replaces it below.
            "Message-ID": make_msgid(domain=DNS_NAME),
            "List-Unsubscribe": f"<{context['opt_out_link']}>",
            # No out-of-office replies to an automatic message (RFC 3834).
            "Auto-Submitted": "auto-generated",
        },
        connection=get_connection(timeout=settings.EMAIL_TIMEOUT),
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    # A provider's click tracking would pass the link (a key to the form) through its own servers
    # and logs, and an open pixel tells it when the patient reads: neither (ignored by SMTP).
    message.track_clicks = False
    message.track_opens = False
    message.tags = ["follow-up-reminder" if reminder else "follow-up-invitation"]
    return message


def _message_id(message: EmailMultiAlternatives) -> str:
    status = getattr(message, "anymail_status", None)
    if status is not None and status.message_id is not None:
        return str(status.message_id)[:200]
    return message.extra_headers["Message-ID"]


# --- beat's sweep (database only: no network) -------------------------------------------------


def issue_due(*, limit: int = 200) -> list[uuid.UUID]:
    """Issue the link of every time point due by today; each email is queued once its link has
    committed (the on_invitation handler). Returns the invitations' ids; their tokens are dropped."""
    due = TimePoint.objects.filter(state=State.WAITING, due_on__lte=timezone.localdate(), sandbox=False)
    issued = []
    for point_id in due.order_by("due_on").values_list("pk", flat=True)[:limit]:
        try:
            invitation, _token = follow_up.issue_invitation(time_point_id=point_id)
        except AftercareError:
            continue  # moved by the desk or another sweep meanwhile
        issued.append(invitation.pk)
    return issued


def _open_links():
    return (
        Invitation.objects.filter(
            time_point__state=State.INVITED, time_point__sandbox=False, submitted_at__isnull=True
        )
        # A time point's older links are done with: only its newest one is emailed or chased.
        .exclude(
            Exists(
                Invitation.objects.filter(
                    time_point=OuterRef("time_point"), created_at__gt=OuterRef("created_at")
                )
            )
        )
        .select_related("time_point", "case")
    )


def owed_now(*, requeue_after: timedelta, limit: int = 500) -> list[uuid.UUID]:
    """Invitations owing an email that no live attempt holds: a first email whose task was lost or
    ran out of retries (made more than `requeue_after` ago), or a reminder that came due."""
    now = timezone.now()
    days = _reminder_days()
    unclaimed = (
        _open_links()
        .filter(expires_at__gt=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
    )
    owing = Q(delivery=Delivery.PENDING, created_at__lt=now - requeue_after)
    if days:
        reminding = now - timedelta(days=days[0])
        owing |= Q(delivery=Delivery.SENT, reminders_sent__lt=len(days), sent_at__lte=reminding)
    candidates = unclaimed.filter(owing).order_by("created_at")[:limit]
    return [invitation.pk for invitation in candidates if _owed(invitation, now) is not None]


def close_unanswered(*, limit: int = 500) -> int:
    """Put on the desk's call list each time point whose link went unanswered past the last
    reminder's wait or its expiry, or whose email could not be sent for GIVE_UP_AFTER. Returns
    how many moved."""
    now = timezone.now()
    given_up = Q(delivery=Delivery.PENDING, created_at__lt=now - GIVE_UP_AFTER)
    ended = Q(expires_at__lte=now) | Q(delivery=Delivery.SENT, sent_at__lte=now - _call_after())
    moved = 0
    for invitation in _open_links().filter(given_up | ended).order_by("created_at")[:limit]:
        if invitation.delivery == Delivery.PENDING:
            moved += _give_up(invitation)
        else:
            moved += _unanswered(invitation, now)
    return moved


def _give_up(invitation: Invitation) -> int:
    with transaction.atomic():
        if not Invitation.objects.filter(pk=invitation.pk, delivery=Delivery.PENDING).update(
            delivery=Delivery.FAILED, claimed_until=None
        ):
            return 0
        error = invitation.last_error or "no attempt reached the mail server"
        tries = f"{invitation.attempts} attempt{'s' if invitation.attempts != 1 else ''}"
        day = _day(invitation.time_point)
        _event(invitation, Kind.SEND_FAILED, f"Link for {day} not emailed after {tries}: {error}")
        follow_up.to_call_list(
            time_point_id=invitation.time_point_id, note="The email could not be sent: call the patient"
        )
    return 1


def _unanswered(invitation: Invitation, now: datetime) -> int:
    if invitation.expires_at <= now:
        note = f"The link for {_day(invitation.time_point)} expired unanswered"
    else:
        reminders = f"{invitation.reminders_sent} reminder{'s' if invitation.reminders_sent != 1 else ''}"
        days = (now - invitation.sent_at).days
        note = f"No answer {days} days after the link for {_day(invitation.time_point)} and {reminders}"
    point = follow_up.to_call_list(time_point_id=invitation.time_point_id, note=note)
    return int(point.state == State.CALL)
