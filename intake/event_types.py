"""The event types a partner can receive, in one list (DESIGN.md, "Partners: events after the
decision"). `ping` and the v1 types (one per status a partner is told of: intake.statuses) are
always on. The optional ones are off until the clinic's admin adds them to the partner
(Partner.event_types), or `create_partner --events a,b`; a sandbox partner starts with all of
them. An event is written only for partners subscribed when it happens, so the same list governs
the webhooks and the events feed. A new optional type is one row in OPTIONAL."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError

from intake.statuses import PARTNER_EVENTS

PING = "ping"
DECISION_CORRECTED = "referral.decision_corrected"
# After the decision (DESIGN.md, "Partners: events after the decision").
TREATED = "referral.treated"
COURSE_CLOSED = "referral.course_closed"
ADVERSE_EVENT = "referral.adverse_event"
FOLLOW_UP = "referral.follow_up"

# Sent to every partner: the test ping, then the v1 types in the order a referral meets them.
ALWAYS_ON: tuple[str, ...] = (PING, *PARTNER_EVENTS.values())

# type -> when an always-on type is sent (the optional ones say it in OPTIONAL).
ALWAYS_ON_WHEN: dict[str, str] = {
    PING: "the partner asks for a test (POST /api/v1/webhooks/test); tried once, never in the events feed",
    PARTNER_EVENTS["needs_information"]: "a specialist asks a question about the referral",
    PARTNER_EVENTS["decided"]: "the referral is decided",
    PARTNER_EVENTS["withdrawn"]: "the referral is withdrawn",
}

# type -> when it is sent, as the admin, `create_partner --help` and the API docs say it.
OPTIONAL: dict[str, str] = {
    DECISION_CORRECTED: "a specialist adds an addendum to the decision",
    TREATED: "the treatment record is signed (once per session of a staged plan)",
    COURSE_CLOSED: "the course ends: completed, cancelled or lost to follow-up",
    ADVERSE_EVENT: "staff confirm a serious adverse event, or a partner's update "
    "(POST /api/v1/referrals/{id}/adverse-events/{ae_id}/updates/) makes one serious",
    FOLLOW_UP: "a follow-up time point is scored: one event per instrument, the baseline's too",
}

ALL: tuple[str, ...] = (*ALWAYS_ON, *OPTIONAL)


def sent_when(event_type: str) -> str:
    """When a type is sent, in words a partner's developer reads."""
    return ALWAYS_ON_WHEN.get(event_type) or OPTIONAL[event_type]


def unknown_types(types: Iterable[str]) -> list[str]:
    return [name for name in types if name not in ALL]


def optional_only(types: Iterable[str]) -> list[str]:
    """The optional types among `types`, each once, in OPTIONAL's order (always-on ones need no
    subscription and are left out)."""
    wanted = set(types)
    return [name for name in OPTIONAL if name in wanted]


def validate_event_types(value) -> None:
    """Partner.event_types: a list of optional types, each known."""
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise ValidationError(f'A list of event type names, for example ["{DECISION_CORRECTED}"].')
    if wrong := [name for name in value if name not in OPTIONAL]:
        always = [name for name in wrong if name in ALWAYS_ON]
        message = (
            f"{', '.join(always)}: always sent, leave {'it' if len(always) == 1 else 'them'} out. "
            if always
            else ""
        )
        others = [name for name in wrong if name not in ALWAYS_ON]
        if others:
            message += f"Unknown event type {', '.join(others)}; choose from {', '.join(OPTIONAL)}."
        raise ValidationError(message.strip())


def receives(event_types: Iterable[str], event_type: str) -> bool:
    """Whether a partner subscribed to `event_types` is sent `event_type`."""
    return event_type in ALWAYS_ON or event_type in set(event_types)
