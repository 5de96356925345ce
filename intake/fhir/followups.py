"""A FHIR partner's follow-ups on its referral, the twins of the JSON door's:
a Communication answers the specialist's question (POST .../information/), and a
Task with code `abort` withdraws the referral (POST .../withdraw/).

Both are recorded on the case's timeline, as from the JSON door; no separate
Communication or Task resource is kept."""

import re
import uuid

from fhir.resources.R4B.communication import Communication
from fhir.resources.R4B.task import Task

from intake.fhir.clinical import ClinicalReader
from intake.fhir.reading import FHIRInputError, Issue, resolver, validated

TASK_CODES = "http://hl7.org/fhir/CodeSystem/task-code"
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
        reader = ClinicalReader(request, resolver(request, {}))
        condition, sites = reader.condition(), reader.sites()
        issues += reader.issues
        if condition:
            answer["condition"] = condition
        if any("bodySite" in found for found in reader.conditions):
            answer["affected_sites"] = sites
    if issues or referral_id is None:
        raise FHIRInputError(issues)
    return referral_id, answer


def _referral_id(
    resource: dict,
    issues: list[Issue],
    *,
    fields=("basedOn", "partOf", "about"),
    where="Communication.basedOn",
) -> uuid.UUID | None:
    references = []
    for field in fields:
        value = resource.get(field, [])
        references += [ref.get("reference", "") for ref in (value if isinstance(value, list) else [value])]
    ids = {match.group(1).lower() for ref in references if (match := REFERRAL_REFERENCE.match(ref))}
    try:
        if len(ids) == 1:
            return uuid.UUID(ids.pop())
    except ValueError:
        pass
    issues.append(
        Issue(
            "required",
            f"Name the one referral this is about, as {where.split('.')[1]}: ServiceRequest/<id>, with "
            "the id we gave when it was created.",
            where,
        )
    )
    return None


def withdrawal_from_fhir(body) -> tuple[uuid.UUID, str]:
    """(the referral's id, the reason) from a Task asking to abort it. Raises FHIRInputError."""
    if not isinstance(body, dict) or body.get("resourceType") != "Task":
        raise FHIRInputError(
            [Issue("not-supported", "Send a Task with code 'abort' to withdraw a referral.", "resourceType")]
        )
    task = validated(Task, body, "Task")
    issues: list[Issue] = []
    codes = [
        c.get("code") for c in (task.get("code") or {}).get("coding", []) if c.get("system") == TASK_CODES
    ]
    if codes != ["abort"]:
        issues.append(
            Issue(
                "not-supported",
                f"The only Task we act on is a request to withdraw: code 'abort' in system {TASK_CODES}.",
                "Task.code",
            )
        )
    referral_id = _referral_id(task, issues, fields=("focus",), where="Task.focus")
    reason = "\n\n".join(
        filter(
            None,
            [(task.get("reasonCode") or {}).get("text")]
            + [(task.get("statusReason") or {}).get("text")]
            + [note.get("text") for note in task.get("note", [])],
        )
    )
    if not reason:
        issues.append(
            Issue("required", "Say why the referral is withdrawn, in reasonCode.text.", "Task.reasonCode")
        )
    if issues or referral_id is None:
        raise FHIRInputError(issues)
    return referral_id, reason


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
