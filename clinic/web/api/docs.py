"""What `/api/docs/` says beyond the endpoints: the paths' trailing slash, the webhooks (headers,
signature and how to check it, retries), every event type and its payload, and the sandbox's
external_id prefixes. Each list is read from where it is kept (intake.event_types,
recommendations.sandbox), so the docs cannot fall behind it. Added to the schema's description by
a drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS)."""

import json

from django.conf import settings

from intake import event_types
from intake.statuses import PARTNER_EVENTS
from recommendations.sandbox import PREFIXES

SLASHES = """## Paths
A path is served with and without its trailing slash, by the same view and without a redirect
(`POST /api/v1/referrals/{id}/withdraw` is `POST /api/v1/referrals/{id}/withdraw/`). This document
lists each path once, in its canonical spelling. A path that names nothing is a `404`
problem+json (an OperationOutcome under `/api/v1/fhir/` and on `/api/v1/referrals/{id}/fhir`)."""

# Kept with the code that checks it (tests/web/api/test_docs.py runs it against a real webhook).
VERIFY_WITH_HMAC = '''import base64, hashlib, hmac, time

def verify(secret: str, headers: dict[str, str], body: bytes, tolerance: int = 300) -> bool:
    """True when the webhook is ours and fresh. `body` is the raw request body, as received."""
    msg_id, timestamp = headers["webhook-id"], headers["webhook-timestamp"]
    if abs(time.time() - int(timestamp)) > tolerance:  # refuse replays of old messages
        return False
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    # The header may hold several space-separated signatures (during a secret rotation).
    return any(
        hmac.compare_digest(expected, signature.removeprefix("v1,"))
        for signature in headers["webhook-signature"].split()
        if signature.startswith("v1,")
    )'''

VERIFY_WITH_LIBRARY = """from standardwebhooks import Webhook

def receive(body: bytes, headers: dict[str, str]) -> dict:
    # Raises WebhookVerificationError when the signature or the timestamp is wrong.
    return Webhook("whsec_...your secret...").verify(body, headers)"""

WEBHOOKS = f"""## Webhooks
Webhooks follow the [Standard Webhooks](https://www.standardwebhooks.com/) specification. Each is a
`POST` of `application/json` to your webhook URL with these headers:

- `webhook-id`: the event's id, `msg_<32 hex>`, the same on every retry and in the events feed;
  deduplicate on it.
- `webhook-timestamp`: when this attempt was signed, in Unix seconds.
- `webhook-signature`: `v1,<base64 HMAC-SHA256>` of `<webhook-id>.<webhook-timestamp>.<body>`, keyed
  with your secret: the base64 after its `whsec_` prefix, decoded.
- `X-Request-ID`: the id of the request that caused the event, for support.

Answer with any `2xx` within {settings.WEBHOOK_TIMEOUT_SECONDS} seconds. Anything else (a redirect too)
is retried with exponential backoff ({settings.WEBHOOK_RETRY_BASE_SECONDS} s doubling up to
{settings.WEBHOOK_RETRY_MAX_SECONDS} s) for {settings.WEBHOOK_GIVE_UP_HOURS} hours; every attempt is
listed by `GET /api/v1/webhook-deliveries/`. Events are not ordered: `timestamp` is when it
happened, and `GET /api/v1/referrals/{{id}}/` gives the current state. A partner that cannot receive
webhooks reads the same events, with the same ids and bodies, from `GET /api/v1/events/`.

Check the signature with the raw body, before parsing it. With the `standardwebhooks` package:

```python
{VERIFY_WITH_LIBRARY}
```

Or with the standard library alone:

```python
{VERIFY_WITH_HMAC}
```"""

EXAMPLE_REFERRAL = {
    "id": "3f6c1c55-8f43-4b7e-9b8e-3c1f3f2f8a10",
    "external_id": "RF-1001",
    "status": "decided",
    "created_at": "2026-11-24T10:00:00+00:00",
    "updated_at": "2026-11-25T09:30:00+00:00",
    "question": None,
    "decision": {
        "route": "local_injection",
        "outcome": "approved",
        "reason": "",
        "decided_at": "2026-11-25T09:30:00+00:00",
        # The demo knee protocol (recommendations/data/demo_protocols.json), as a decision snapshots it.
        "protocol": {
            "id": "knee-oa-bmac",
            "version": 1,
            "title": "EXAMPLE: autologous bone marrow concentrate, intra-articular, knee osteoarthritis",
            "basis": "same_surgical_procedure",
            "reference": "",
        },
    },
}
EXAMPLE_PING = {
    "type": event_types.PING,
    "timestamp": "2026-11-24T10:00:00+00:00",
    "data": {
        "partner_id": "0b7d9f0e-6f7e-4a51-9a43-2f1c7f0e9d11",
        "message": "A test event: your endpoint is reachable.",
    },
}

# When each always-on type is sent; the optional ones say it themselves (intake.event_types).
SENT_WHEN = {
    event_types.PING: "you ask for it: `POST /api/v1/webhooks/test` (tried once, not in the events feed)",
    PARTNER_EVENTS["needs_information"]: "a specialist asks a question (`data.question`, `data.needs`)",
    PARTNER_EVENTS["decided"]: "the referral is decided (`data.decision`)",
    PARTNER_EVENTS["withdrawn"]: "the referral is withdrawn",
}


# What an optional type's `data` holds, beside when it is sent.
DATA_NOTES = {event_types.DECISION_CORRECTED: " (`data`: the referral as in `referral.decided`)"}


def _event_rows() -> str:
    rows = [f"| `{name}` | {SENT_WHEN[name]} | always |" for name in event_types.ALWAYS_ON]
    rows += [
        f"| `{name}` | {when}{DATA_NOTES.get(name, '')} | when subscribed |"
        for name, when in event_types.OPTIONAL.items()
    ]
    return "\n".join(rows)


def events_section() -> str:
    decided = {"type": PARTNER_EVENTS["decided"], "timestamp": "2026-11-25T09:30:01+00:00"}
    return f"""## Event types
Every event's body is `{{"type", "timestamp", "data"}}`. For a `referral.*` event `data` is the
referral as `GET /api/v1/referrals/{{id}}/` shows it at the event (schema `ReferralOut`); a partner
whose webhook format is FHIR gets the referral's FHIR R4 `collection` Bundle instead (as
`GET /api/v1/referrals/{{id}}/fhir`). Receivers ignore members and event types they do not know:
more may be added within v1.

| type | sent when | who receives it |
| --- | --- | --- |
{_event_rows()}

The optional types are off until the clinic adds them to your partner account, on your written
request naming your care role (or `create_partner --events`); a sandbox partner receives all of
them. An event is written only for partners subscribed when it happens, for webhooks and the
events feed alike. `referral.decision_corrected` carries the referral as `referral.decided` did
(the correction's text is not sent): read the referral, and call the clinic for the correction.

A `referral.decided` webhook:

```json
{json.dumps(decided | {"data": EXAMPLE_REFERRAL}, indent=2)}
```

A `ping`:

```json
{json.dumps(EXAMPLE_PING, indent=2)}
```"""


# What each action of recommendations.sandbox does, and the events it sends.
SANDBOX_ACTIONS = {
    "approve": "approves the draft's route (also any external_id without one of these prefixes): "
    "`referral.decided`, outcome `approved`",
    "amend": "amends to another route a demo protocol covers, under that protocol (declines, saying "
    "so, when none does): `referral.decided`, outcome `amended` (or `declined`)",
    "decline": "declines, with a reason: `referral.decided`, outcome `declined`",
    "ask": "asks a question once; answer it and the referral is drafted again and approved: "
    "`referral.needs_information`, then `referral.decided`",
}


def sandbox_section() -> str:
    rows = "\n".join(f"| `{prefix}` | {SANDBOX_ACTIONS[action]} |" for prefix, action in PREFIXES.items())
    return f"""## Sandbox
A sandbox key (it begins `sandbox_`) uses the same API, but its referrals are tests: no specialist
sees them, and each is decided automatically about {settings.SANDBOX_DECISION_DELAY_SECONDS} seconds
after its draft, by how its `external_id` begins (case-insensitive):

| `external_id` begins | what the sandbox does, and the webhook you get |
| --- | --- |
{rows}

Without consent the sandbox asks for it first, as a specialist's decision would be refused, and a
draft that needs information is asked its own question (with `needs`). Decisions are signed
"Sandbox (automatic test decision)", never a clinical decision. A sandbox partner is subscribed to
every optional event type, but a sandbox decision takes no addendum, so it is never sent
`referral.decision_corrected`: its payload is `referral.decided`'s, shown above."""


def describe_api(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing hook: the sections above after the settings' DESCRIPTION."""
    info = result.setdefault("info", {})
    sections = [info.get("description", ""), SLASHES, WEBHOOKS, events_section(), sandbox_section()]
    info["description"] = "\n\n".join(section for section in sections if section)
    return result
