"""Partner use cases: create a partner, issue and revoke its API keys, change the event types it
receives (each change kept with who asked and why)."""

import base64
import secrets
from collections.abc import Sequence

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction

from intake import event_types as types
from intake.models import Partner, PartnerAPIKey, SubscriptionChange, WebhookFormat
from intake.webhook_urls import validate_partner_url


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and base64 of 24 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def validate_webhook_url(url: str) -> str:
    url = url.strip()
    if url:
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError as exc:
            raise ValidationError(
                {"webhook_url": ["Enter a valid URL starting with http:// or https://."]}
            ) from exc
        validate_partner_url(url)
    return url


# What a key in clear begins with, so a person (and our authentication) tells a sandbox key
# from a live one at a glance. Keys issued before prefixes existed carry none and are live.
SANDBOX_KEY_PREFIX = "sandbox_"
LIVE_KEY_PREFIX = "live_"


def labelled_key(partner: Partner, key: str) -> str:
    return (SANDBOX_KEY_PREFIX if partner.is_sandbox else LIVE_KEY_PREFIX) + key


@transaction.atomic
def issue_api_key(*, partner: Partner, name: str = "") -> str:
    """Issue a key and return it in clear, labelled sandbox_ or live_; only its hash is
    stored, so it is shown once."""
    _, key = PartnerAPIKey.objects.create_key(partner=partner, name=name or f"{partner.name} key")
    return labelled_key(partner, key)


CREATE_PARTNER_COMMAND = "create_partner command"
SANDBOX_STARTS_WITH_ALL = "A sandbox partner starts with every optional event type."
SUBSCRIBED_AT_CREATION = "Subscribed when the partner was created (create_partner --events)."


@transaction.atomic
def create_partner(
    *,
    name: str,
    webhook_url: str = "",
    webhook_format: str = WebhookFormat.JSON,
    sandbox: bool = False,
    events: Sequence[str] = (),
    requested_by: str = CREATE_PARTNER_COMMAND,
) -> tuple[Partner, str]:
    """Create a partner with its first API key; returns the partner and the key in clear.
    A sandbox partner's cases are tests: see recommendations.sandbox. `events` are the optional
    event types it receives (intake.event_types), recorded as its first subscription change; a
    sandbox partner receives all of them."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": ["A partner needs a name."]})
    if Partner.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": [f"A partner named “{name}” already exists."]})
    if webhook_format not in WebhookFormat.values:
        raise ValidationError({"webhook_format": [f"Use one of: {', '.join(WebhookFormat.values)}."]})
    if unknown := types.unknown_types(events):
        raise ValidationError(
            {"events": [f"Unknown event type {', '.join(unknown)}; choose from {', '.join(types.OPTIONAL)}."]}
        )
    partner = Partner.objects.create(
        name=name,
        webhook_url=validate_webhook_url(webhook_url),
        webhook_secret=new_webhook_secret(),
        webhook_format=webhook_format,
        is_sandbox=sandbox,
    )
    change_subscriptions(
        partner=partner,
        event_types=list(types.OPTIONAL) if sandbox else types.optional_only(events),
        requested_by=requested_by,
        reason=SANDBOX_STARTS_WITH_ALL if sandbox else SUBSCRIBED_AT_CREATION,
        actor=None,
    )
    return partner, issue_api_key(partner=partner)


REQUESTED_BY_MAX = SubscriptionChange._meta.get_field("requested_by").max_length
REASON_MAX = SubscriptionChange._meta.get_field("reason").max_length


def subscription_change_errors(*, requested_by: str, reason: str) -> dict[str, list[str]]:
    """What a subscription change is missing (each field's message), for a form to show before saving."""
    errors = {}
    if not requested_by.strip():
        errors["requested_by"] = [
            "Say who at the partner asked for this change, in writing: their name and care role."
        ]
    elif len(requested_by.strip()) > REQUESTED_BY_MAX:
        errors["requested_by"] = [f"Use at most {REQUESTED_BY_MAX} characters: a name and a care role."]
    if not reason.strip():
        errors["reason"] = ["Say why: quote the partner's written request, or say where it is kept."]
    elif len(reason.strip()) > REASON_MAX:
        errors["reason"] = [f"Use at most {REASON_MAX} characters; say where the full request is kept."]
    return errors


@transaction.atomic
def change_subscriptions(
    *,
    partner: Partner,
    event_types: Sequence[str],
    requested_by: str,
    reason: str,
    actor: AbstractBaseUser | None,
) -> SubscriptionChange | None:
    """Set the optional event types `partner` receives (DESIGN.md, "Partners: events after the
    decision"; the always-on types need no subscription and are left out) and keep the change: what
    was added and removed, who at the partner asked (in writing) and why, and who made it (`actor`;
    None for a command). Returns the change, or None when the list is the same. The list governs the
    webhooks and the events feed from the moment this commits."""
    if unknown := types.unknown_types(event_types):
        raise ValidationError(
            {
                "event_types": [
                    f"Unknown event type {', '.join(unknown)}; choose from {', '.join(types.OPTIONAL)}."
                ]
            }
        )
    locked = Partner.objects.select_for_update().get(pk=partner.pk)
    before, after = list(locked.event_types), types.optional_only(event_types)
    added = [name for name in after if name not in before]
    removed = [name for name in before if name not in after]
    if not added and not removed:
        return None
    if errors := subscription_change_errors(requested_by=requested_by, reason=reason):
        raise ValidationError(errors)
    Partner.objects.filter(pk=locked.pk).update(event_types=after)
    partner.event_types = after
    return SubscriptionChange.objects.create(
        partner=locked,
        added=added,
        removed=removed,
        requested_by=requested_by.strip(),
        reason=reason.strip(),
        changed_by=actor,
    )
