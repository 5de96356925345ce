"""What `/api/docs/` says beyond the endpoints: the paths' trailing slash, the webhooks (headers,
signature and how to check it, retries), every event type and its payload, the sandbox's
external_id prefixes, how v1 grows and the schema's versions. Each list is read from where it is
kept (intake.event_types, recommendations.sandbox), so the docs cannot fall behind it. Added to the
schema's description by a drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS)."""

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
  with your secret: the base64 after its `whsec_` prefix, decoded. After `POST /api/v1/webhooks/rotate-secret`
  it holds two, space-separated (`v1,<with the new secret> v1,<with the previous one>`) until the
  previous secret expires ({settings.WEBHOOK_SECRET_OVERLAP_HOURS} hours unless you ask otherwise): accept
  the webhook if any one verifies.
- `X-Request-ID`: the id of the request that caused the event, for support.

Answer with any `2xx` within {settings.WEBHOOK_TIMEOUT_SECONDS} seconds. Anything else (a redirect too)
is retried with exponential backoff and jitter ({settings.WEBHOOK_RETRY_BASE_SECONDS} s doubling up
to {settings.WEBHOOK_RETRY_MAX_SECONDS} s, each wait give or take 20%) for
{settings.WEBHOOK_GIVE_UP_HOURS} hours; every attempt is listed by `GET /api/v1/webhook-deliveries/`.
`410 Gone` means you want no more webhooks: they are disabled at once, your events wait (each
delivery's `endpoint_disabled` says why) and are sent when the clinic re-enables them or sets your
new URL. Events are not ordered: `timestamp` is when it happened, and `GET /api/v1/referrals/{{id}}/`
gives the current state. A partner that cannot receive webhooks reads the same events, with the same
ids and bodies, from `GET /api/v1/events/`.

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
DATA_NOTES = {
    event_types.DECISION_CORRECTED: " (`data`: the referral as in `referral.decided`)",
    event_types.TREATED: " (`data.treatment`: `id`, `state`, `treated_at`, `route`, `sites`, `protocol`)",
    event_types.COURSE_CLOSED: " (`data.treatment`: `id`, `state`, `closed_at`)",
    event_types.ADVERSE_EVENT: " (`data.adverse_event`: `id`, `onset`, `ctcae_grade`, `serious`, "
    "`seriousness_criteria`, `outcome`, `received_at`, `source`)",
    event_types.FOLLOW_UP: " (`data.follow_up`: `id`, `day`, `instrument`, `score`, `baseline`, "
    "`improvement`, `responder`, `completed_at`)",
}
EXAMPLE_TREATED = {
    "type": event_types.TREATED,
    "timestamp": "2026-12-01T11:05:00+00:00",
    "data": {
        "id": EXAMPLE_REFERRAL["id"],
        "external_id": EXAMPLE_REFERRAL["external_id"],
        "treatment": {
            "id": "5e0b7a52-31d4-4f0e-8a55-0c2f4b1d9e77",
            "state": "treated",
            "state_changed_at": "2026-12-01T11:05:00+00:00",
            "treated_at": "2026-12-01T10:40:00+00:00",
            "route": "local_injection",
            "sites": ["right_knee"],
            "protocol": {"id": "knee-oa-bmac", "version": 1},
        },
    },
}
EXAMPLE_ADVERSE_EVENT = {
    "type": event_types.ADVERSE_EVENT,
    "timestamp": "2026-12-05T16:20:00+00:00",
    "data": {
        "id": EXAMPLE_REFERRAL["id"],
        "external_id": EXAMPLE_REFERRAL["external_id"],
        "adverse_event": {
            "id": "7d1c2f3e-5b6a-4c8d-9e0f-1a2b3c4d5e6f",
            "onset": "2026-12-03",
            "ctcae_grade": 3,
            "serious": True,
            "seriousness_criteria": ["hospitalization"],
            "outcome": "recovering",
            "received_at": "2026-12-05T14:02:11+00:00",
            "source": "partner",
        },
    },
}


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
Every event's body is `{{"type", "timestamp", "data"}}`. For the v1 `referral.*` events and
`referral.decision_corrected`, `data` is the referral as `GET /api/v1/referrals/{{id}}/` shows it at
the event (schema `ReferralOut`); a partner whose webhook format is FHIR gets the referral's FHIR R4
`collection` Bundle instead (as `GET /api/v1/referrals/{{id}}/fhir`). The events after the decision
(`referral.treated`, `referral.course_closed`, `referral.adverse_event`, `referral.follow_up`) carry
in `data` the referral's `id` and `external_id` and their own member (`treatment`, `adverse_event` or
`follow_up`), never a name, a product's code, lot or dose, a form's answers, or free text; for a FHIR
partner, a `collection` Bundle with the event's resource (a Procedure, the course Task, an
AdverseEvent or an Observation) and the ServiceRequest. Receivers ignore members and event types they
do not know: more may be added within v1.

| type | sent when | who receives it |
| --- | --- | --- |
{_event_rows()}

The optional types are off until the clinic adds them to your partner account, on your written
request naming your care role (or `create_partner --events`); a sandbox partner receives all of
them. Your subscriptions govern your webhooks and your events feed alike: an event is written only
for partners subscribed when it happens, and the feed lists only the types you receive now (after
you unsubscribe from a type, its earlier events are no longer listed either).
`GET /api/v1/event-types/` lists every type, whether you receive it, and the JSON Schema of its
body; the feed's `types=referral.decided,referral.withdrawn` narrows it (an unknown name is a `400`
on field `types`). This document lists every body under `webhooks`.
`referral.decision_corrected` carries the referral as `referral.decided` did (the correction's text
is not sent): read the referral, and call the clinic for the correction.

A `referral.decided` webhook:

```json
{json.dumps(decided | {"data": EXAMPLE_REFERRAL}, indent=2)}
```

A `referral.treated` webhook (one per signed session):

```json
{json.dumps(EXAMPLE_TREATED, indent=2)}
```

A `referral.adverse_event` webhook (a serious event staff confirmed, or that your update made
serious):

```json
{json.dumps(EXAMPLE_ADVERSE_EVENT, indent=2)}
```

`referral.follow_up` is sent once per instrument each time a follow-up time point is scored, the
baseline (day 0, before the treatment) too. `data.follow_up` holds `id`, `day` (days after the
treatment), `instrument` (`pain_nrs`, `koos_jr`, `hoos_jr`, `sane`, or one the clinic added: an open
enum), `score`, `baseline`, `improvement` (the change in the instrument's better direction),
`responder` (`true` when the improvement reaches the instrument's MCID; `null` at the baseline or
where no MCID applies) and `completed_at`, never the answers themselves. `GET
/api/v1/referrals/{{id}}/follow-ups/` lists the same members for every scored time point (newest
first, paged like the referral list), and the referral's FHIR Bundle holds one Observation each (the
instrument coded in `https://clinic.example.org/fhir/CodeSystem/instrument`, with LOINC where there
is a code, the score as `valueQuantity`); both only while you receive `referral.follow_up`: otherwise
the list is empty and the Bundle holds none.

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
`referral.decision_corrected`: its payload is `referral.decided`'s, shown above.

After an approved or amended sandbox decision the sandbox runs a treatment course on synthetic data,
one simulated day lasting {settings.SANDBOX_TIME_SCALE:g} seconds. On day 0 the synthetic patient
answers the baseline (`referral.follow_up`, day 0, one per instrument of the protocol's follow-up) and
is treated (`referral.treated`); then, by the `external_id`: `approve-ae-` a grade 2 non-serious
adverse event on day 1 (no event is sent for it, as in production); `approve-sae-` a serious one
(hospitalization) on day 1, confirmed at once, sending `referral.adverse_event` with `source`
`staff`. On each follow-up day of the protocol (the demo knee and hip protocols: days 42, 91, 182 and
365) the patient answers with scores that improve (`referral.follow_up`), and after the last the
course completes (`referral.course_closed`, `completed`); a protocol that names no instruments
completes on day 1. `approve-lost-` answers the first follow-up day only and is lost to follow-up on
the next (`referral.course_closed`, `lost_to_follow_up`). A sandbox referral takes
adverse-event reports like any other (`POST /api/v1/referrals/{{id}}/adverse-events/`): validated,
stored and answered the same way, but a test: no reporting clock, never seen by staff."""


# DESIGN.md, "How v1 grows": the rules partners build against. The enums named here are marked in
# this document (tests/web/api/test_openapi31.py checks each one).
GROWTH = """## How v1 grows
Receivers ignore members they do not know, in every response, problem and event, and must be able to
answer any referral that asks (whatever its `needs` holds).

**May be added within v1 without notice:** endpoints; optional request members; members of
responses, events and problems; headers; problem types; findings keys (`GET /api/v1/findings/`);
body sites (`GET /api/v1/body-sites/`); new reasons for a draft to ask, each with its `needs` member;
event types; new values of the open enums below.

**Open enums** are marked `x-extensible-enum` in this document, in place of `enum`: the values
listed are today's, and an unknown one must not break your client (treat it as "other"). They are:
event types (an event's `type`, `GET /api/v1/event-types/`, the feed's `types`), `consent.by`,
`decision.protocol.basis`, a finding's `type`, and the members of `needs`; after the decision,
treatment `state`, adverse-event `outcome` and `seriousness_criteria`, `reporter.qualification`,
`triage`, adverse-event `source` (`partner`, `staff`, `patient`) and `follow_up.instrument`.

**Closed enums** keep `enum`, and no value is added to them within v1: referral `status`,
`decision.route`, `decision.outcome`, a webhook delivery's `state`, the referral Task's
`businessStatus` (FHIR), `relatedness_opinion` and `ctcae_grade`.

**Never within v1:** removing or renaming a member, endpoint, path, query parameter, header, problem
type or event type; making an optional member required; a new validation rule on an existing member;
narrowing a published list or range (an entry is retired by marking it `deprecated`: still accepted,
no longer asked for); a new value in a closed enum. A change to what an event's `data` means ships as
a new event type, `<type>.v2`, while the old type is still sent for at least 12 more months.

Refusing input the published contract never allowed (a date not written YYYY-MM-DD, an invisible
or filler character in a name or an id) is a fix, not a new rule; it is announced in the README,
naming what is now refused.

## Schema versions
This document is OpenAPI 3.1, which describes the webhooks: every event type's body is under
`webhooks`. `/api/schema/?oas=3.0` serves the same API as OpenAPI 3.0.3, without `webhooks` (3.0
cannot describe them), for at least 12 months after the move to 3.1."""


def describe_api(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing hook: the sections above after the settings' DESCRIPTION."""
    info = result.setdefault("info", {})
    sections = [
        info.get("description", ""),
        SLASHES,
        WEBHOOKS,
        events_section(),
        sandbox_section(),
        GROWTH,
    ]
    info["description"] = "\n\n".join(section for section in sections if section)
    return result
