"""A patient's follow-up link (`/f/<token>`, DESIGN.md "Follow-up"): its token, whether it can
still be used, whether it may be emailed, and what the patient does with it besides answering
(opening it, opting out of email). Answering is clinic.aftercare.follow_up_scores's.

The database holds only the token's SHA-256, so a copy of the database opens no form. The token
itself is the HMAC of the invitation's random id under the server's SECRET_KEY rather than a random
string kept nowhere: the email is sent after commit by a worker that may retry, and the reminders
of days 3 and 7 carry the same link, so the sender must be able to write the link again without
the database ever holding it. Anyone holding both the database and SECRET_KEY could recompute a
link; that key already signs every session, so it guards nothing less here.

Lookup is by the hash, which is the unique index: a timing difference in the index search tells
an attacker about the hash of their guess, never about a real token."""

import base64
import hashlib
import re
import uuid

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from clinic.aftercare.adverse_events import PATIENT
from clinic.aftercare.errors import AftercareError
from clinic.aftercare.models import ContactOptOut, FollowUpEvent, FormResponse, Invitation, TimePoint
from intake import chain

# Part of the HMAC: a token minted for a follow-up link is worth nothing anywhere else.
SALT = "clinic.aftercare.follow_up_link"
# 32 bytes of HMAC-SHA256 in URL-safe base64 without padding, as secrets.token_urlsafe(32) is.
TOKEN_LENGTH = 43
_SHAPE = re.compile(rf"[A-Za-z0-9_-]{{{TOKEN_LENGTH}}}")


class LinkRefused(AftercareError):
    """A follow-up link that cannot be used (any more). `reason`: "unknown" (never issued, or
    altered: the same words for both, so a guesser learns nothing), "expired" (past its date, or
    its time point was closed without it), or "used" (the form was submitted)."""

    UNKNOWN, EXPIRED, USED = "unknown", "expired", "used"
    MESSAGES = {
        UNKNOWN: "This link is not valid. Please call the clinic and we will help you.",
        EXPIRED: "This link has expired. Please call the clinic and we will take your answers by phone.",
        USED: "This form has already been sent. Thank you: there is nothing more to do.",
    }

    def __init__(self, reason: str) -> None:
        if reason not in self.MESSAGES:
            raise ValueError(f"LinkRefused reason {reason!r} is not one of {sorted(self.MESSAGES)}")
        super().__init__(self.MESSAGES[reason])
        self.reason = reason


def _derive(invitation_id: uuid.UUID | str, secret: str | bytes) -> str:
    mac = salted_hmac(SALT, str(invitation_id), secret=secret, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")


def hash_token(token: str) -> str:
    """What the database stores and looks a link up by: the token's SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def make_token(invitation_id: uuid.UUID | str) -> tuple[str, str]:
    """A new invitation's token and the hash to store: (token, token_hash)."""
    token = _derive(invitation_id, settings.SECRET_KEY)
    return token, hash_token(token)


def token_for(invitation) -> str:
    """The token of an issued invitation, for its email, a retry or a reminder. Tries the current
    SECRET_KEY and then SECRET_KEY_FALLBACKS; LinkRefused("unknown") when none of them made it
    (the key was rotated past its fallbacks: issue a new invitation)."""
    for secret in (settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", ())):
        token = _derive(invitation.pk, secret)
        if hash_token(token) == invitation.token_hash:
            return token
    raise LinkRefused(LinkRefused.UNKNOWN)


def token_hash_of(token: object) -> str | None:
    """The hash to look a link up by, or None for what cannot be a token (wrong type, length or
    alphabet): refused as unknown without a query."""
    if not isinstance(token, str) or not _SHAPE.fullmatch(token):
        return None
    return hash_token(token)


def find_invitation(token: object) -> Invitation:
    """The invitation a token opens, with its time point, case and patient; LinkRefused("unknown")
    for a token never issued or altered."""
    token_hash = token_hash_of(token)
    invitation = (
        Invitation.objects.select_related("time_point", "case__patient").filter(token_hash=token_hash).first()
        if token_hash
        else None
    )
    if invitation is None:
        raise LinkRefused(LinkRefused.UNKNOWN)
    return invitation


def refusal(invitation, point, now) -> str | None:
    """Why the link can no longer be used to answer, or None: "used" once the form was submitted
    (from this link, another, or the desk), "expired" past its date or when its time point was
    closed without it."""
    if invitation.submitted_at is not None or point.state == "completed":
        return LinkRefused.USED
    if point.state in ("unreachable", "closed") or invitation.expires_at <= now:
        return LinkRefused.EXPIRED
    return None


def invitation_for_token(token: str) -> Invitation:
    """The invitation a patient's link opens, while it can be answered; LinkRefused otherwise
    ("unknown", "expired", "used"). The first opening is recorded."""
    invitation = find_invitation(token)
    now = timezone.now()
    reason = refusal(invitation, invitation.time_point, now)
    if reason:
        raise LinkRefused(reason)
    if invitation.opened_at is None:
        Invitation.objects.filter(pk=invitation.pk, opened_at__isnull=True).update(opened_at=now)
        invitation.opened_at = now
    return invitation


def usable_invitation(token: str) -> tuple[Invitation, TimePoint]:
    """For a change made from the link: its invitation and time point, the time point locked and
    both read under the lock; LinkRefused when the link can no longer be used."""
    invitation = find_invitation(token)
    point = TimePoint.objects.select_for_update().get(pk=invitation.time_point_id)
    invitation.refresh_from_db()
    reason = refusal(invitation, point, timezone.now())
    if reason:
        raise LinkRefused(reason)
    return invitation, point


def answers_so_far(invitation: Invitation) -> dict[str, dict]:
    """The answers saved for the link's time point so far, per instrument."""
    saved = FormResponse.objects.filter(time_point_id=invitation.time_point_id)
    return {response.instrument: dict(response.answers) for response in saved}


def delivery_for(patient) -> tuple[str, str]:
    """How a new invitation reaches the patient (Invitation.Delivery) and, when it cannot be
    emailed, why: no address, or the current address opted out or bounced."""
    email = (patient.email or "").strip()
    if not email:
        return Invitation.Delivery.NO_ADDRESS, "the patient has no email address"
    refused = ContactOptOut.objects.filter(patient=patient, email__iexact=email).first()
    if refused is not None:
        why = "opted out of email" if refused.reason == ContactOptOut.Reason.OPTED_OUT else "bounced"
        return Invitation.Delivery.OPTED_OUT, f"the patient's address {why}"
    return Invitation.Delivery.PENDING, ""


@transaction.atomic
def opt_out(*, token: str) -> None:
    """The patient asks for no more follow-up email (from any link of theirs, used or expired too):
    later invitations are not emailed and go to the desk's call list. Asking twice changes nothing.
    A new address on the patient's record starts afresh."""
    invitation = find_invitation(token)
    patient = invitation.case.patient
    email = (patient.email or "").strip().lower()
    if not email:
        return
    _, made = ContactOptOut.objects.get_or_create(
        patient=patient, email=email, defaults={"reason": ContactOptOut.Reason.OPTED_OUT}
    )
    if made:
        chain.append(
            FollowUpEvent(
                case_id=invitation.case_id,
                time_point=invitation.time_point,
                kind=FollowUpEvent.Kind.OPTED_OUT,
                actor_label=PATIENT.label,
                note="The patient asked for no more follow-up email; later time points go to the call list",
            )
        )
