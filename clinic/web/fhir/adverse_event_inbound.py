"""A partner's adverse-event report as a FHIR R4 AdverseEvent (POST /api/v1/fhir/AdverseEvent),
read into the body the JSON door takes (POST /api/v1/referrals/{id}/adverse-events/): the door then
validates it with the same serializer and gives the same values to
clinic.aftercare.adverse_events.report_adverse_event, so both doors mean the same. The mapping is
clinic.web.fhir.aftercare's, read backwards (DESIGN.md, "Partner reports").

A member left out stays out of the body: the serializer's own check names it, and
`issues_from_report_errors` says at which FHIR element to send it."""

import re
import uuid
from dataclasses import dataclass, field

from fhir.resources.R4B.adverseevent import AdverseEvent

from clinic.aftercare.vocabulary import ReporterQualification
from clinic.web.fhir.adverse_event_outbound import (
    AE_OUTCOME,
    CAUSALITY,
    CAUSALITY_CODES,
    CTCAE_GRADE,
    EXT,
    NON_SERIOUS,
    OUTCOME_CODES,
    PARTNER_AE_ID,
    QUALIFICATION_SYSTEM,
    ROLE_CODE,
    SERIOUS,
    SERIOUSNESS,
    SERIOUSNESS_CODES,
    SERIOUSNESS_CRITERIA,
    subject_referral_id,
)
from clinic.web.fhir.reading import FHIRInputError, Issue, validated

ACTION_TAKEN = EXT + "action-taken"
# ServiceRequest/<id>, Procedure/<id>, or urn:uuid:<id> (either: the id tells).
SUSPECT = re.compile(r"^(?:(ServiceRequest|Procedure)/|urn:uuid:)([0-9a-fA-F-]{36})$")
FULL_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")

# The report's contract fields -> the element of an AdverseEvent they come from.
PLACES: dict[str, str] = {
    "external_id": "AdverseEvent.identifier",
    "onset": "AdverseEvent.date",
    "description": "AdverseEvent.event.text",
    "ctcae_grade": f"AdverseEvent.extension('{CTCAE_GRADE}')",
    "serious": "AdverseEvent.seriousness",
    "seriousness_criteria": f"AdverseEvent.extension('{SERIOUSNESS_CRITERIA}')",
    "outcome": "AdverseEvent.outcome",
    "action_taken": f"AdverseEvent.extension('{ACTION_TAKEN}')",
    "reporter": "AdverseEvent.recorder",
    "reporter.name": "AdverseEvent.recorder",
    "reporter.qualification": "AdverseEvent.recorder",
    "relatedness_opinion": "AdverseEvent.suspectEntity.causality.assessment",
}
CRITERION_OF_CODE = {code: criterion for criterion, code in SERIOUSNESS_CODES.items()}
OUTCOME_OF_CODE = {code: value for value, code in OUTCOME_CODES.items()}
RELATEDNESS_OF_CODE = {code.lower(): value for value, (code, _) in CAUSALITY_CODES.items()}


@dataclass(frozen=True)
class Suspect:
    kind: str  # "ServiceRequest", "Procedure", or "" (a urn:uuid: either)
    id: uuid.UUID


@dataclass
class InboundReport:
    # The JSON door's body: external_id, onset, description, ctcae_grade, serious, seriousness_criteria,
    # outcome, action_taken, reporter {name, qualification}, relatedness_opinion; each only when sent.
    body: dict
    suspects: list[Suspect] = field(default_factory=list)
    # The referral the subject names through our identifier, if it does.
    subject_referral_id: uuid.UUID | None = None


def read_adverse_event(body) -> InboundReport:
    """The report in an AdverseEvent. Raises FHIRInputError with every issue found."""
    if not isinstance(body, dict) or body.get("resourceType") != "AdverseEvent":
        raise FHIRInputError(
            [Issue("not-supported", "Send an AdverseEvent to report an adverse event.", "resourceType")]
        )
    resource = validated(AdverseEvent, body, "AdverseEvent")
    if modifiers := list(_modifier_extensions(resource, "AdverseEvent")):
        raise FHIRInputError(modifiers)
    reader = _Reader(resource)
    report = InboundReport(
        body=reader.body(),
        suspects=reader.suspects(),
        subject_referral_id=subject_referral_id(resource.get("subject")),
    )
    if reader.issues:
        raise FHIRInputError(reader.issues)
    return report


def _modifier_extensions(value, path: str):
    """An issue per modifier extension anywhere in the resource. FHIR has a reader refuse one it does
    not know rather than ignore it: it may change what its element means (entered in error, say), and
    this door knows none."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield from _modifier_extensions(item, f"{path}[{index}]")
    elif isinstance(value, dict):
        for position, extension in enumerate(value.get("modifierExtension") or []):
            yield Issue(
                "not-supported",
                f"This report carries a modifier extension we do not know ({extension.get('url')}); it may "
                "change what its element means, so the report was not read. Send it without the modifier "
                "extension.",
                f"{path}.modifierExtension[{position}]",
            )
        for key, item in value.items():
            if key != "modifierExtension":
                yield from _modifier_extensions(item, f"{path}.{key}")


class _Reader:
    def __init__(self, resource: dict):
        self.resource = resource
        self.issues: list[Issue] = []
        self.contained = {f"#{part['id']}": part for part in resource.get("contained", []) if part.get("id")}

    def problem(self, code: str, where: str, diagnostics: str) -> None:
        """`where`: a report field (its element, PLACES) or a FHIRPath."""
        self.issues.append(Issue(code, diagnostics, PLACES.get(where, where)))

    def body(self) -> dict:
        values: dict = {}
        identifier = self.resource.get("identifier") or {}
        if identifier.get("system") not in (None, PARTNER_AE_ID):
            self.problem("value", "external_id", REQUIRED["external_id"])
        elif "value" in identifier:
            values["external_id"] = identifier["value"]
        if self.resource.get("actuality") != "actual":
            self.problem(
                "not-supported",
                "AdverseEvent.actuality",
                "Report an event that happened, with actuality 'actual'; a potential event is not "
                "taken here.",
            )
        if "date" in self.resource:
            if (onset := self._onset(self.resource["date"])) is not None:
                values["onset"] = onset
        if text := (self.resource.get("event") or {}).get("text"):
            values["description"] = text
        extensions = self.resource.get("extension", [])
        grades = [ext for ext in extensions if ext.get("url") == CTCAE_GRADE]
        if grades:
            if len(grades) == 1 and isinstance(grades[0].get("valueInteger"), int):
                values["ctcae_grade"] = grades[0]["valueInteger"]
            else:
                self.problem(
                    "value", "ctcae_grade", "Give the CTCAE v5.0 grade once, as valueInteger 1 to 5."
                )
        criteria = [ext.get("valueCode") for ext in extensions if ext.get("url") == SERIOUSNESS_CRITERIA]
        if None in criteria:
            self.problem("value", "seriousness_criteria", "Give each seriousness criterion as a valueCode.")
            criteria = [code for code in criteria if code]
        self._seriousness(values, criteria)
        actions = [ext.get("valueString") for ext in extensions if ext.get("url") == ACTION_TAKEN]
        if actions:
            values["action_taken"] = "\n\n".join(filter(None, actions))
        if "outcome" in self.resource:
            self._outcome(values)
        if "recorder" in self.resource:
            values["reporter"] = self._reporter(self.resource["recorder"])
        self._relatedness(values)
        return values

    def _onset(self, value: str) -> str | None:
        # A dateTime's date as written (its own offset): the day the partner means.
        if FULL_DATE.match(value):
            return value[:10]
        self.problem("value", "onset", "Give the onset as a full date (YYYY-MM-DD), for example 2026-11-05.")
        return None

    def _seriousness(self, values: dict, criteria: list[str]) -> None:
        codes = [
            coding.get("code")
            for coding in (self.resource.get("seriousness") or {}).get("coding", [])
            if coding.get("system") == SERIOUSNESS and coding.get("code")
        ]
        if not codes:
            if "seriousness" in self.resource:
                self.problem(
                    "code-invalid",
                    "serious",
                    f"Code the seriousness in {SERIOUSNESS}: {NON_SERIOUS}, {SERIOUS} or one of "
                    f"{', '.join(SERIOUSNESS_CODES.values())}.",
                )
            elif criteria:
                values["seriousness_criteria"] = criteria
            return
        code = codes[0]
        if code == NON_SERIOUS:
            values["serious"] = False
        elif code == SERIOUS or code in CRITERION_OF_CODE:
            values["serious"] = True
            implied = CRITERION_OF_CODE.get(code)
            if implied and not criteria:
                criteria = [implied]
            elif implied and implied not in criteria:
                self.problem(
                    "invalid",
                    "serious",
                    f"The seriousness {code} means the criterion {implied}, which the seriousness-criteria "
                    f"extensions leave out: add it, or code the seriousness as {SERIOUS}.",
                )
        else:
            self.problem(
                "code-invalid",
                "serious",
                f"Unknown seriousness {code!r}: use {NON_SERIOUS}, {SERIOUS} or one of "
                f"{', '.join(SERIOUSNESS_CODES.values())}.",
            )
            return
        values["seriousness_criteria"] = criteria

    def _outcome(self, values: dict) -> None:
        codes = [
            coding.get("code")
            for coding in self.resource["outcome"].get("coding", [])
            if coding.get("system") == AE_OUTCOME
        ]
        if codes and codes[0] in OUTCOME_OF_CODE:
            values["outcome"] = OUTCOME_OF_CODE[codes[0]]
            return
        self.problem(
            "code-invalid",
            "outcome",
            f"Code the outcome in {AE_OUTCOME}: {', '.join(OUTCOME_OF_CODE)}.",
        )

    def _reporter(self, recorder: dict) -> dict:
        """Name and qualification of a contained Practitioner (its qualification), RelatedPerson
        (its relationship) or Patient (the patient), or just a display name."""
        person = self.contained.get(recorder.get("reference") or "")
        reporter: dict = {}
        if person is None:
            if recorder.get("display"):
                reporter["name"] = recorder["display"]
            return reporter
        # The first name that says something. A part may be null beside its `_given` (a
        # data-absent-reason, say): legal FHIR, and no part of the name. A name left unsaid stays out
        # of the body, so the answer says to name the reporter.
        if name := next(filter(None, map(_spelled, person.get("name", []))), ""):
            reporter["name"] = name
        if person["resourceType"] == "Patient":
            reporter["qualification"] = ReporterQualification.PATIENT
            return reporter
        concepts = [item.get("code", {}) for item in person.get("qualification", [])]
        concepts += person.get("relationship", [])
        codings = [coding for concept in concepts for coding in concept.get("coding", [])]
        ours = [c["code"] for c in codings if c.get("system") == QUALIFICATION_SYSTEM and c.get("code")]
        if ours:
            reporter["qualification"] = ours[0]
        elif any(c.get("system") == ROLE_CODE and c.get("code") == "ONESELF" for c in codings):
            reporter["qualification"] = ReporterQualification.PATIENT
        return reporter

    def _relatedness(self, values: dict) -> None:
        for index, suspect in enumerate(self.resource.get("suspectEntity", [])):
            for position, causality in enumerate(suspect.get("causality", [])):
                codings = [
                    c
                    for c in (causality.get("assessment") or {}).get("coding", [])
                    if c.get("system") == CAUSALITY
                ]
                if not codings:
                    continue
                where = f"AdverseEvent.suspectEntity[{index}].causality[{position}].assessment"
                value = RELATEDNESS_OF_CODE.get(str(codings[0].get("code")).lower())
                if value is None:
                    choices = ", ".join(code for code, _ in CAUSALITY_CODES.values())
                    self.problem("code-invalid", where, f"Use one of {choices}.")
                else:
                    values.setdefault("relatedness_opinion", value)

    def suspects(self) -> list[Suspect]:
        found = []
        for index, suspect in enumerate(self.resource.get("suspectEntity", [])):
            reference = (suspect.get("instance") or {}).get("reference") or ""
            match = SUSPECT.match(reference)
            try:
                suspect_id = uuid.UUID(match.group(2)) if match else None
            except ValueError:
                suspect_id = None
            if match is None or suspect_id is None:
                self.problem(
                    "value",
                    f"AdverseEvent.suspectEntity[{index}].instance",
                    "Name the treatment as Procedure/<id>, or the referral as ServiceRequest/<id>, "
                    "with the ids we gave.",
                )
                continue
            found.append(Suspect(match.group(1) or "", suspect_id))
        if not found and not self.resource.get("suspectEntity"):
            self.problem(
                "required",
                "AdverseEvent.suspectEntity",
                "Name what the event follows as suspectEntity.instance: the treatment's Procedure/<id> "
                "from your referral's Bundle, or the referral's ServiceRequest/<id> before any treatment.",
            )
        return found


def _spelled(name: dict) -> str:
    """A HumanName as one line: its text, or its given names and family name (nulls left out)."""
    parts = [*(name.get("given") or []), name.get("family")]
    return (name.get("text") or " ".join(part for part in parts if part)).strip()


# What to send where, for a member left out (the serializer's words name the JSON member).
REQUIRED: dict[str, str] = {
    "external_id": f"Give your own id for this report as the identifier, with system {PARTNER_AE_ID}: it "
    "tells a retry from a new report.",
    "onset": "Give the onset as AdverseEvent.date, a date (YYYY-MM-DD), for example 2026-11-05.",
    "description": "Describe what happened in event.text.",
    "ctcae_grade": f"Give the CTCAE v5.0 grade as an extension {CTCAE_GRADE} with valueInteger 1 to 5.",
    "serious": f"Code the seriousness in {SERIOUSNESS}: {NON_SERIOUS}, {SERIOUS} or one of "
    f"{', '.join(SERIOUSNESS_CODES.values())}.",
    "outcome": f"Code the outcome in {AE_OUTCOME}: {', '.join(OUTCOME_OF_CODE)}.",
    "reporter": "Name the reporter: recorder referencing a contained Practitioner or RelatedPerson with a "
    f"name and the qualification coded in {QUALIFICATION_SYSTEM} (Practitioner.qualification or "
    "RelatedPerson.relationship).",
}


def issues_from_report_errors(errors: dict[str, list[str]], body: dict) -> list[Issue]:
    """The serializer's or the service's field errors (contract names), each at its FHIR element; a
    member not sent at all says where to send it."""
    issues = []
    for name, messages in errors.items():
        top = name.split(".")[0]
        missing = _missing(body, name)
        where = PLACES.get(name, PLACES.get(top, "AdverseEvent"))
        for message in messages:
            if missing:
                issues.append(Issue("required", REQUIRED.get(name, REQUIRED.get(top, message)), where))
            else:
                issues.append(Issue("value", message, where))
    return issues


def _missing(body: dict, name: str) -> bool:
    value: object = body
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            return True
        value = value[part]
    return False
