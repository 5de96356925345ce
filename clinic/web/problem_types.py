"""The partner API's problem types (RFC 9457), one row per kind, kept in one place: the problem+json
answers (clinic.web.api.problems), the FHIR door's OperationOutcome (clinic.web.fhir.outcome) and
the pages at /api/docs/problems/<slug> all read it, so a kind cannot be answered undocumented.

A type is an identifier, `https://clinic.example.org/problems/<slug>` (DESIGN.md, "Partner API v1");
it never changes within v1, and its page on this server is /api/docs/problems/<slug>.

FHIR codes are from the R4 IssueType code system, http://hl7.org/fhir/R4/codesystem-issue-type.html
(4.0.1): the `processing` codes mean that sending the same content again is pointless, the
`transient` ones that it may succeed later.
"""

from dataclasses import dataclass

TYPE_BASE = "https://clinic.example.org/problems/"
DOCS_PATH = "/api/docs/problems/"


@dataclass(frozen=True)
class ProblemKind:
    slug: str
    status: int
    title: str
    when: str
    todo: str
    # The OperationOutcome issue code on the FHIR door; "" for a kind the FHIR door never answers.
    fhir_code: str
    # Members beyond type, title, status, detail and instance, each with what it holds.
    members: tuple[tuple[str, str], ...] = ()

    @property
    def type(self) -> str:
        return TYPE_BASE + self.slug

    @property
    def page(self) -> str:
        return DOCS_PATH + self.slug


KINDS: tuple[ProblemKind, ...] = (
    ProblemKind(
        "validation",
        400,
        "Invalid request",
        "A field is missing, of the wrong type, outside its published list or range, or contradicts "
        "another field; or a query parameter or header (such as an over-long Idempotency-Key) is not "
        "what the endpoint takes.",
        "Read `errors`: one entry per problem, each with the `field`, a JSON `pointer` into your body "
        "and a `detail` that says what to send. Fix those fields and send the request again.",
        # `invalid`; each field's own issue may be narrower (`required`, `value`, `code-invalid`).
        "invalid",
        (("errors", "a list of {field, pointer, detail}, one per problem"),),
    ),
    ProblemKind(
        "wrong-status",
        409,
        "Not possible in the referral's status",
        "The referral is not in a status that allows this: an answer when no question is open, or a "
        "withdrawal of a referral already decided or withdrawn.",
        "Read the referral (`GET /api/v1/referrals/{id}/`) for its current status. Nothing was changed; "
        "sending the same request again gives the same answer.",
        # What the FHIR door has always said for it (FHIR: HTTP 409's code).
        "conflict",
    ),
    ProblemKind(
        "no-treatment",
        409,
        "The referral has no treatment course",
        "An adverse event was reported for a referral that has no treatment course yet: reports are "
        "taken once the referral has a course, in any state, cancelled included.",
        "Check the referral id. Until the clinic has recorded a treatment course for that referral, "
        "tell the clinic about the event directly.",
        "business-rule",
    ),
    ProblemKind(
        "duplicate-adverse-event",
        409,
        "Adverse event already reported",
        "An adverse-event report came with an `external_id` you already used for another report, or an "
        "update with an `external_id` already used on that report.",
        "Nothing new was stored. `adverse_event_id` names the report you sent before: to add to it, post "
        "an update to that report; for a new event, use a new `external_id`. On an update, `update_id` "
        "names the update already stored.",
        "duplicate",
        (
            ("adverse_event_id", "the id of the report already stored"),
            ("update_id", "on an update: the id of the update already stored"),
        ),
    ),
    ProblemKind(
        "duplicate-referral",
        409,
        "Referral already received",
        "A referral came with an `external_id` you already used (the FHIR door: the placer identifier).",
        "Nothing new was stored. Follow the existing referral at `referral_id`; for another patient or "
        "episode, use a new `external_id`.",
        "duplicate",
        (("referral_id", "the id of the referral already received"),),
    ),
    ProblemKind(
        "idempotency-key-reused",
        422,
        "Idempotency-Key used for another request",
        "The `Idempotency-Key` was first sent, within the last 24 hours, with another method, path or "
        "body. A key belongs to one request: the same request again replays its first answer.",
        "Nothing was done. For a new request, send a new key (a UUID per request). If you meant to retry, "
        "send exactly the first request: same method, path and body.",
        "business-rule",
    ),
    ProblemKind(
        "idempotency-in-flight",
        409,
        "First request with this Idempotency-Key still running",
        "The first request with this `Idempotency-Key` has not finished yet (a retry sent too soon, or "
        "two copies sent at once).",
        "Wait a few seconds and send the same request again with the same key: you then get the first "
        "request's answer, replayed with `Idempotent-Replayed: true`.",
        "transient",
    ),
    ProblemKind(
        "too-large",
        413,
        "Request body too large",
        "The body is larger than the service takes (2.5 MB unless the clinic set otherwise).",
        "Send one referral or answer per request, without attachments.",
        "too-long",
    ),
    ProblemKind(
        "no-webhook-url",
        409,
        "No webhook URL",
        "A webhook test or resend was asked for, but the clinic has no webhook URL on record for you.",
        "Ask the clinic to set your webhook URL, or read your events from `GET /api/v1/events/`.",
        "",
    ),
    ProblemKind(
        "webhooks-disabled",
        409,
        "Webhooks disabled",
        "Your webhooks were disabled (your endpoint answered `410 Gone`), so nothing is sent to it.",
        "Ask the clinic to re-enable your webhooks, or to set your new webhook URL; your events wait and "
        "are sent then. Meanwhile `GET /api/v1/events/` lists them.",
        "",
        (("disabled_at", "when the webhooks were disabled"),),
    ),
    ProblemKind(
        "internal",
        500,
        "Internal server error",
        "Something went wrong on the clinic's side; it is logged.",
        "Retry later; that is safe, with the same Idempotency-Key if you sent one (a request that failed "
        "this way frees its key). If it persists, tell the clinic the time and the response's "
        "`X-Request-ID`.",
        "exception",
    ),
)

BY_SLUG = {kind.slug: kind for kind in KINDS}

# Types no longer answered, with what replaced them, so an old link still explains itself.
RETIRED = {
    "idempotency": (
        "Until rule set v3 one type covered both idempotency problems. It became "
        "`idempotency-key-reused` (422) and `idempotency-in-flight` (409), with the same status codes.",
        ("idempotency-key-reused", "idempotency-in-flight"),
    ),
}


def kind_of(slug: str) -> ProblemKind:
    """The documented kind; an undocumented slug is a bug here, never an answer to a partner."""
    try:
        return BY_SLUG[slug]
    except KeyError:
        raise ValueError(f"Problem type {slug!r} is not documented in clinic.web.problem_types.") from None


def kind_from_type(type_uri: str) -> ProblemKind | None:
    return BY_SLUG.get(type_uri.removeprefix(TYPE_BASE)) if type_uri.startswith(TYPE_BASE) else None
