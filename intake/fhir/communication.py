"""A FHIR Communication answering the specialist's open question on a referral: the
FHIR twin of POST /api/v1/referrals/{id}/information/.

The answer is recorded on the case's timeline, as from the JSON door; no separate
Communication resource is kept."""

import re
import uuid

from fhir.resources.R4B.communication import Communication

from intake.fhir.inbound import FHIRInputError, Issue, Reader, resolver, validated

REFERRAL_REFERENCE = re.compile(r"^(?:ServiceRequest/|urn:uuid:)([0-9a-fA-F-]{36})$")


def answer_from_fhir(body) -> tuple[uuid.UUID, dict]:
    """(the referral's id, the body of an information answer: answer, and optionally a
    corrected condition and affected sites). Raises FHIRInputError."""
    if not isinstance(body, dict) or body.get("resourceType") != "Communication":
        raise FHIRInputError(
            [Issue("not-supported", "Send a Communication that answers the question.", "resourceType")]
        )
    message = validated(Communication, body, "Communication")
    issues: list[Issue] = []
    referral_id = _referral_id(message, issues)
    texts = [part["contentString"] for part in message.get("payload", []) if part.get("contentString")]
    if not texts:
        issues.append(
            Issue("required", "Write the answer as a payload with contentString.", "Communication.payload")
        )
    answer: dict = {"answer": "\n\n".join(texts)}
    corrections = [
        {"reference": part["contentReference"]["reference"]}
        for part in message.get("payload", [])
        if (part.get("contentReference") or {}).get("reference")
    ]
    if corrections:
        # A corrected Condition, contained and referenced from the payload, is read
        # with the same rules as a referral's.
        request = {"contained": message.get("contained", []), "reasonReference": corrections}
        reader = Reader(request, resolver(request, {}))
        condition, sites = reader.condition(), reader.sites()
        issues += reader.issues
        if condition:
            answer["condition"] = condition
        if any("bodySite" in found for found in reader.conditions):
            answer["affected_sites"] = sites
    if issues or referral_id is None:
        raise FHIRInputError(issues)
    return referral_id, answer


def _referral_id(message: dict, issues: list[Issue]) -> uuid.UUID | None:
    references = [
        ref.get("reference", "") for field in ("basedOn", "partOf", "about") for ref in message.get(field, [])
    ]
    ids = {match.group(1).lower() for ref in references if (match := REFERRAL_REFERENCE.match(ref))}
    try:
        if len(ids) == 1:
            return uuid.UUID(ids.pop())
    except ValueError:
        pass
    issues.append(
        Issue(
            "required",
            "Name the one referral this answers, as basedOn: ServiceRequest/<id>, with the id we gave "
            "when it was created.",
            "Communication.basedOn",
        )
    )
    return None


def issues_from_answer_errors(errors: dict[str, list[str]]) -> list[Issue]:
    places = {"answer": "Communication.payload", "condition.icd10": "Condition.code"}
    return [
        Issue(
            "value",
            message,
            places.get(field, "Condition.bodySite" if field.startswith("affected_sites") else ""),
        )
        for field, messages in errors.items()
        for message in messages
    ]
