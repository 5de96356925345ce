"""Contact details a partner sent for a patient it matched: kept as a pending update when they add
to or differ from the record (never dropped, never applied silently), for the desk to accept or
dismiss. Each step is a note on the referral's case, in its audit chain."""

import uuid

from django.db import transaction
from django.utils import timezone

from intake.matching import phone_key
from intake.models import Case, Partner, Patient, PendingContactUpdate
from intake.services import amend_patient
from intake.workflow import Actor, record_note


def _new_phone(patient: Patient, phone: str) -> str:
    """The phone to offer: one the record lacks, or another number (not the same one written
    otherwise: "+1 555 123 4567" is "5551234567")."""
    phone = (phone or "").strip()
    if not phone:
        return ""
    key = phone_key(phone)
    return phone if (key != patient.phone_key if key else phone != patient.phone) else ""


def _new_email(patient: Patient, email: str) -> str:
    email = (email or "").strip().lower()
    return email if email and email != patient.email else ""


def keep_contact_update(
    *, patient: Patient, case: Case, partner: Partner | None, phone: str, email: str, actor: Actor
) -> PendingContactUpdate | None:
    """Keep what a referral's contact details add to the matched patient's record, for the desk.
    None when they add nothing, or when the same update is already waiting. Runs in the
    referral's transaction: the same update written by another referral at this very moment
    fails it on `contact_update_once_pending`, and intake.referrals runs it again."""
    phone, email = _new_phone(patient, phone), _new_email(patient, email)
    if not (phone or email):
        return None
    waiting = PendingContactUpdate.objects.filter(
        patient=patient, resolved_at__isnull=True, phone=phone, email=email
    )
    if waiting.exists():
        return None
    with transaction.atomic(savepoint=False):
        update = PendingContactUpdate.objects.create(
            patient=patient, case=case, partner=partner, phone=phone, email=email
        )
        # Which fields, not their values: the chain records names, as amend_patient does.
        record_note(
            case=case,
            actor=actor,
            note=f"Contact details sent for the patient differ from the record ({_labels(update)}): "
            "kept for the front desk to accept or dismiss.",
        )
    return update


def _labels(update: PendingContactUpdate) -> str:
    return " and ".join(update.fields)


def _claim(
    update_id: uuid.UUID | str, *, actor: Actor, outcome: str, reason: str = ""
) -> PendingContactUpdate | None:
    """Resolve the update if it is still pending: a compare-and-set on resolved_at, so two desks
    (or a double click) resolve it once. None when it was already resolved."""
    update = PendingContactUpdate.objects.select_related("partner").get(pk=update_id)
    claimed = PendingContactUpdate.objects.filter(pk=update.pk, resolved_at__isnull=True).update(
        resolved_at=timezone.now(), resolved_by=actor.user, outcome=outcome, reason=reason
    )
    if not claimed:
        return None
    update.refresh_from_db()
    return update


@transaction.atomic
def accept_contact_update(*, update_id: uuid.UUID | str, actor: Actor) -> Patient:
    """Put the update's phone and email on the patient's record, through intake.services.amend_patient
    (so each of the patient's cases records the change). A second accept, or an accept after a
    dismissal, changes nothing. Raises PendingContactUpdate.DoesNotExist for an unknown id, and
    amend_patient's ValidationError (nothing is then resolved) for a detail the record refuses."""
    update = _claim(update_id, actor=actor, outcome=PendingContactUpdate.Outcome.ACCEPTED)
    if update is None:
        return Patient.objects.get(pk=PendingContactUpdate.objects.get(pk=update_id).patient_id)
    changes = {name: getattr(update, name) for name in update.fields}
    patient = amend_patient(patient_id=update.patient_id, actor=actor, changes=changes)
    record_note(
        case=update.case,
        actor=actor,
        note=f"Contact update from {_sender(update)} accepted ({_labels(update)}).",
    )
    return patient


@transaction.atomic
def dismiss_contact_update(
    *, update_id: uuid.UUID | str, actor: Actor, reason: str = ""
) -> PendingContactUpdate:
    """Leave the record as it is and close the update, with the desk's reason if it gave one. A second
    dismissal, or one after an accept, changes nothing. Raises PendingContactUpdate.DoesNotExist."""
    reason = (reason or "").strip()[:500]
    update = _claim(update_id, actor=actor, outcome=PendingContactUpdate.Outcome.DISMISSED, reason=reason)
    if update is None:
        return PendingContactUpdate.objects.get(pk=update_id)
    note = f"Contact update from {_sender(update)} dismissed ({_labels(update)})"
    record_note(case=update.case, actor=actor, note=note + (f": {reason}" if reason else "."))
    return update


def _sender(update: PendingContactUpdate) -> str:
    return update.partner.name if update.partner else "a partner"
