"""A FHIR partner's follow-ups on its referral, the twins of the JSON door's:
a Communication answers the specialist's question (POST .../information/), and a
Task with code `abort` withdraws the referral (POST .../withdraw/).

An answer may carry, in contained resources its payload references, what the JSON answer
carries: a corrected Condition, findings (Observations), additional conditions (Conditions
with category `additional`) and screening answers (consent, by whom, answers that change).

Both are recorded on the case's timeline, as from the JSON door; no separate
Communication or Task resource is kept."""

import re
import uuid

from fhir.resources.R4B.communication import Communication
from fhir.resources.R4B.task import Task

from clinic.web.fhir import SCREENING_QUESTIONNAIRE
from clinic.web.fhir.inbound import CONSENT_ITEMS, YES_NO_ITEMS, answers_by_link_id
from clinic.web.fhir.reading import FHIRInputError, Issue, resolver, validated
from clinic.web.fhir.supporting import SupportingReader, is_additional, is_finding, item_path

TASK_CODES = "http://hl7.org/fhir/CodeSystem/task-code"
REFERRAL_REFERENCE = re.compile(r"^(?:ServiceRequest/|urn:uuid:)([0-9a-fA-F-]{36})$")


def answer_from_fhir(body) -> tuple[uuid.UUID, dict]:
    """(the referral's id, the body of an information answer: answer, and optionally a
    corrected condition and affected sites, answers, consent, findings and additional
    conditions). Raises FHIRInputError."""
    referral_id, answer, _ = read_answer(body)
    return referral_id, answer


def read_answer(body) -> tuple[uuid.UUID, dict, dict[str, str]]:
    """answer_from_fhir's two, and where each part came from (field -> FHIRPath)."""
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
    request = {"contained": message.get("contained", [])}
    resolve = resolver(request, {})
    parts: dict[str, list[tuple[str, dict]]] = {
        "corrections": [],
        "Observation": [],
        "additional": [],
        "QR": [],
    }
    for index, part in enumerate(message.get("payload", [])):
        reference = (part.get("contentReference") or {}).get("reference")
        if not reference:
            continue
        where = f"Communication.payload[{index}].content.resolve()"
        if found := resolve(reference, "Observation"):
            parts["Observation"].append((where, found))
        elif (found := resolve(reference, "QuestionnaireResponse")) and found.get(
            "questionnaire"
        ) == SCREENING_QUESTIONNAIRE:
            parts["QR"].append((where, found))
        elif (found := resolve(reference, "Condition")) and is_additional(found):
            parts["additional"].append((where, found))
        else:
            parts["corrections"].append((where, {"reference": reference}))
    referenced = {id(found) for kind in ("Observation", "QR") for _, found in parts[kind]}
    for index, resource in enumerate(request["contained"]):
        if id(resource) in referenced:
            continue
        if resource["resourceType"] == "QuestionnaireResponse" and (
            resource.get("questionnaire") == SCREENING_QUESTIONNAIRE
        ):
            # The screening answers are read when contained, as on a referral.
            parts["QR"].append((f"Communication.contained[{index}]", resource))
        elif resource["resourceType"] == "Observation" and is_finding(resource):
            # Another contained Observation was ignored before v3, and still is.
            issues.append(
                Issue(
                    "invalid",
                    "This finding is contained but not referenced from Communication.payload, so it "
                    "would be ignored: reference it (contentReference '#id') to send it.",
                    f"Communication.contained[{index}]",
                )
            )
    # A corrected Condition, contained and referenced from the payload, is read with the
    # same rules as a referral's; so are findings, additional conditions and screening items.
    request["reasonReference"] = [ref for _, ref in parts["corrections"]]
    reader = SupportingReader(request, resolve)
    if parts["corrections"]:
        condition, sites = reader.condition(), reader.sites()
        if condition:
            answer["condition"] = condition
        if any("bodySite" in found for found in reader.conditions):
            answer["affected_sites"] = sites
    if parts["Observation"]:
        answer["findings"] = reader.findings(parts["Observation"])
    if parts["additional"]:
        answer["additional_conditions"] = reader.additional_conditions(parts["additional"])
        reader.places["additional_conditions"] = parts["additional"][0][0]
    if len(parts["QR"]) > 1:
        reader.problem(
            "invalid",
            "Communication.payload",
            f"Reference one QuestionnaireResponse for {SCREENING_QUESTIONNAIRE}; this answer has "
            f"{len(parts['QR'])}.",
        )
    elif parts["QR"]:
        answer |= _screening_answers(reader, answers_by_link_id(parts["QR"][0][1].get("item", [])))
    issues += reader.issues
    if issues or referral_id is None:
        raise FHIRInputError(issues)
    return referral_id, answer, reader.places


def _screening_answers(reader: SupportingReader, answers: dict[str, list[dict]]) -> dict:
    """An answer's screening items, each optional: the contraindication answers it changes,
    consent obtained since the referral (and by whom), breastfeeding."""
    found: dict = {}
    for link_id in YES_NO_ITEMS:
        given = answers.get(link_id, [])
        values = [answer["valueBoolean"] for answer in given if "valueBoolean" in answer]
        if given and len(values) != 1:
            reader.problem(
                "value", item_path(link_id), f"Answer {link_id} once, with valueBoolean, or leave it out."
            )
        elif values and link_id == "consent_obtained":
            found["consent_obtained"] = values[0]
        elif values:
            found.setdefault("contraindications", {})[link_id] = values[0]
    extra = reader.screening_items(answers)
    if "breastfeeding" in extra:
        found.setdefault("contraindications", {})["breastfeeding"] = extra["breastfeeding"]
    if "consent_form_version" in extra:
        found["consent_form_version"] = extra["consent_form_version"]
    if {"consent_by", "assent"} & set(extra):
        # The contract's `consent` object; consent obtained with nobody named is the patient's,
        # as `consent_obtained` alone means on either door.
        obtained = found.get("consent_obtained", False)
        found["consent"] = {
            "obtained": obtained,
            "by": extra.get("consent_by") or ("patient" if obtained else None),
            "form_version": extra.get("consent_form_version", ""),
            "assent": extra.get("assent"),
        }
    return found


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


# The answer serializer's fields (and the services', as clinic.web.api.v3_fields names them) -> the
# element of a Communication they came from.
ANSWER_PLACES = {
    "answer": "Communication.payload",
    "condition.icd10": "Condition.code",
    "condition.description": "Condition.code.text",
    "findings": "Communication.payload",
    "additional_conditions": "Communication.payload",
    "consent_obtained": item_path("consent_obtained"),
    **{field: item_path(link_id) for field, link_id in CONSENT_ITEMS.items()},
    **{f"contraindications.{name}": item_path(name) for name in (*YES_NO_ITEMS, "breastfeeding")},
}


def issues_from_answer_errors(
    errors: dict[str, list[str]], places: dict[str, str] | None = None
) -> list[Issue]:
    """Field errors of an answer (the serializer's or the services'), each at its FHIR element;
    `places` are those read_answer found."""
    where = ANSWER_PLACES | (places or {})
    return [
        Issue(
            "code-invalid" if field.endswith("icd10") else "value",
            message,
            where.get(field, "Condition.bodySite" if field.startswith("affected_sites") else ""),
        )
        for field, messages in errors.items()
        for message in messages
    ]
