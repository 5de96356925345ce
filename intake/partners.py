"""Partner use cases: create a partner, issue and revoke its API keys."""

import base64
import secrets
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction

from intake import event_types as types
from intake.models import Partner, PartnerAPIKey, WebhookFormat
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


@transaction.atomic
def create_partner(
    *,
    name: str,
    webhook_url: str = "",
    webhook_format: str = WebhookFormat.JSON,
    sandbox: bool = False,
    events: Sequence[str] = (),
) -> tuple[Partner, str]:
    """Create a partner with its first API key; returns the partner and the key in clear.
    A sandbox partner's cases are tests: see recommendations.sandbox. `events` are the optional
    event types it receives (intake.event_types); a sandbox partner receives all of them."""
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
        event_types=list(types.OPTIONAL) if sandbox else types.optional_only(events),
    )
    return partner, issue_api_key(partner=partner)
