"""A partner's webhook endpoint, as Standard Webhooks asks: a receiver answering `410 Gone` disables it
until someone re-enables it, and its signing secret is rotated with an overlap in which the old secret
signs beside the new one. Every change is logged (logger "intake.partner_webhooks"); the admin adds its
own history entry when a person made it (intake.admin)."""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from intake.models import Partner, PartnerNotification
from intake.partners import new_webhook_secret

log = logging.getLogger(__name__)

# The longest overlap anyone may ask for: a week covers a receiver's slowest release cycle, and an
# old secret that signs much longer is no longer a rotation.
MAX_OVERLAP_HOURS = 168


def _record(partner: Partner, change: str, by: str) -> None:
    log.info(
        "partner %s: %s (by %s)",
        partner.name,
        change,
        by,
        extra={"partner_id": str(partner.pk), "partner_change": change, "changed_by": by},
    )


def signing_secrets(partner: Partner, *, now: datetime) -> list[str]:
    """The secrets that sign a webhook sent now: the current one, and the previous one while its
    overlap runs."""
    secrets = [partner.webhook_secret]
    expires = partner.previous_secret_expires_at
    if partner.previous_webhook_secret and expires is not None and now < expires:
        secrets.append(partner.previous_webhook_secret)
    return secrets


@dataclass(frozen=True)
class Rotation:
    partner: Partner
    secret: str
    # When the previous secret stops signing; None when it stopped at once (no overlap).
    previous_expires_at: datetime | None


def overlap_of(hours: object) -> timedelta:
    """An overlap in whole hours, 0 to MAX_OVERLAP_HOURS; anything else is the caller's mistake."""
    if isinstance(hours, bool) or not isinstance(hours, int) or not 0 <= hours <= MAX_OVERLAP_HOURS:
        raise ValidationError(
            {
                "overlap_hours": [
                    f"Give a whole number of hours from 0 (the old secret stops at once) to "
                    f"{MAX_OVERLAP_HOURS}."
                ]
            }
        )
    return timedelta(hours=hours)


@transaction.atomic
def rotate_webhook_secret(*, partner_id: uuid.UUID, by: str, overlap_hours: int | None = None) -> Rotation:
    """A new signing secret, returned once. The one it replaces keeps signing beside it for the
    overlap (WEBHOOK_SECRET_OVERLAP_HOURS unless given), so the receiver can switch without a gap.
    Rotating again during an overlap ends the older secret's overlap at once: the two newest sign."""
    overlap = overlap_of(settings.WEBHOOK_SECRET_OVERLAP_HOURS if overlap_hours is None else overlap_hours)
    partner = Partner.objects.select_for_update().get(pk=partner_id)
    now = timezone.now()
    expires = now + overlap if overlap else None
    partner.previous_webhook_secret = partner.webhook_secret if expires else ""
    partner.previous_secret_expires_at = expires
    partner.webhook_secret = new_webhook_secret()
    partner.save(update_fields=["webhook_secret", "previous_webhook_secret", "previous_secret_expires_at"])
    until = f"the previous one signs too until {expires.isoformat()}" if expires else "no overlap"
    _record(partner, f"webhook signing secret rotated ({until})", by)
    return Rotation(partner=partner, secret=partner.webhook_secret, previous_expires_at=expires)


def disable_webhooks(*, partner_id: uuid.UUID, reason: str) -> bool:
    """Stop sending to the partner's endpoint (it answered 410 Gone). Events still go to the outbox
    and wait there. False if it was disabled already (the first reason stays)."""
    now = timezone.now()
    disabled = bool(
        Partner.objects.filter(pk=partner_id, webhook_disabled_at__isnull=True).update(
            webhook_disabled_at=now, webhook_disabled_reason=reason[:300]
        )
    )
    if disabled:
        _record(Partner.objects.get(pk=partner_id), f"webhooks disabled: {reason}", "its endpoint")
    return disabled


@transaction.atomic
def enable_webhooks(*, partner_id: uuid.UUID, by: str, why: str = "re-enabled") -> int | None:
    """Send to the partner's endpoint again: what waited while it was disabled is due now (the
    periodic sender sends it within WEBHOOK_SWEEP_SECONDS). Returns how many deliveries waited, or
    None if its webhooks were not disabled."""
    partner = Partner.objects.select_for_update().get(pk=partner_id)
    if partner.webhook_disabled_at is None:
        return None
    partner.webhook_disabled_at = None
    partner.webhook_disabled_reason = ""
    partner.save(update_fields=["webhook_disabled_at", "webhook_disabled_reason"])
    waiting = PartnerNotification.objects.filter(
        partner=partner, state=PartnerNotification.State.PENDING
    ).update(next_attempt_at=timezone.now())
    _record(partner, f"webhooks {why}; {waiting} waiting deliveries are due now", by)
    return waiting
