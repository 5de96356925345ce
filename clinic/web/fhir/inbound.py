"""A FHIR R4 ServiceRequest read as the referral body of the JSON contract.

The ServiceRequest carries its Patient, its Condition and the clinic's screening
answers (a QuestionnaireResponse) either contained or as entries of a transaction
Bundle; from rule set v3 also findings (Observations) and further conditions (Conditions)
referenced from supportingInfo, and its priority (clinic.web.fhir.supporting). Only the FHIR
shape is checked here; the values then go through the same ReferralSerializer as a JSON
referral, so both doors apply one set of rules, and its messages are pointed back at the FHIR
elements by `issues_from_field_errors`.
"""

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.servicerequest import ServiceRequest

from clinic.web.fhir import ICD10_CM, SCREENING_QUESTIONNAIRE
from clinic.web.fhir.reading import FHIRInputError, Issue, all_of_type, bundle_parts, resolver, validated
from clinic.web.fhir.supporting import SupportingReader, is_additional_condition, is_finding, item_path
from intake.models import CONTRAINDICATIONS

YES_NO_ITEMS = (*CONTRAINDICATIONS, "consent_obtained")


def referral_from_fhir(body) -> dict:
    """The referral dict (external_id, patient, condition, ...) that `body` describes.

    Raises FHIRInputError listing every problem found, not just the first."""
    return read_referral(body)[0]


def read_referral(body) -> tuple[dict, dict[str, str]]:
    """(the referral dict, where each finding and additional condition came from: contract
    field -> FHIRPath, for `issues_from_field_errors`). Raises FHIRInputError."""
    if not isinstance(body, dict):
        raise FHIRInputError(
            [Issue("structure", "Send one FHIR resource as a JSON object: a ServiceRequest or a Bundle.")]
        )
    kind = body.get("resourceType")
    if kind == "ServiceRequest":
        request = validated(ServiceRequest, body, "ServiceRequest")
        reader = Reader(request, resolver(request, {}))
        return reader.read(), reader.places
    if kind == "Bundle":
        bundle = validated(Bundle, body, "Bundle")
        request, entries = bundle_parts(bundle)
        reader = Reader(request, resolver(request, entries))
        return reader.read(), reader.places
    raise FHIRInputError(
        [
            Issue(
                "not-supported",
                f"Send a ServiceRequest, or a transaction Bundle that holds one; got resourceType {kind!r}.",
                "resourceType",
            )
        ]
    )


class Reader(SupportingReader):
    """Reads a whole referral from a ServiceRequest, collecting every issue."""

    def read(self) -> dict:
        ids = [res["id"] for res in self.request.get("contained", []) if res.get("id")]
        for repeated in sorted({i for i in ids if ids.count(i) > 1}):
            self.problem(
                "invalid",
                "ServiceRequest.contained",
                f"Contained resources need distinct ids; '#{repeated}' is used by more than one.",
            )
        if self.request.get("status") in ("revoked", "entered-in-error"):
            self.problem(
                "business-rule",
                "ServiceRequest.status",
                f"A ServiceRequest that is {self.request['status']} cannot open a referral; to withdraw "
                "one you sent, POST a Task with code 'abort' to /api/v1/fhir/Task.",
            )
        referral = {
            "external_id": self.external_id(),
            "patient": self.patient(),
            "condition": self.condition(),
            "affected_sites": self.sites(),
            **self.screening(),
            "notes": "\n\n".join(note["text"] for note in self.request.get("note", []) if note.get("text")),
        }
        referral |= self.supporting_parts()
        if self.issues:
            raise FHIRInputError(self.issues)
        return referral

    def external_id(self) -> str:
        identifiers = [ident for ident in self.request.get("identifier", []) if ident.get("value")]
        placer = [
            ident
            for ident in identifiers
            if any(c.get("code") == "PLAC" for c in (ident.get("type") or {}).get("coding", []))
        ]
        chosen = (placer or identifiers or [None])[0]
        if chosen is None:
            self.problem(
                "required",
                "ServiceRequest.identifier",
                "Give the referral your own identifier (the placer identifier, type PLAC): it is the "
                "external_id we use to recognise a referral sent twice.",
            )
            return ""
        return chosen["value"]

    def patient(self) -> dict:
        reference = (self.request.get("subject") or {}).get("reference")
        patient = self.resolve(reference, "Patient")
        if patient is None:
            self.problem(
                "required",
                "ServiceRequest.subject",
                f"The subject {reference!r} is not a Patient in this request: contain the Patient and "
                "reference it as '#id', or put it in the transaction Bundle and reference its fullUrl.",
            )
            return {}
        names = patient.get("name", [])
        name = (
            next((n for n in names if n.get("use") == "official"), None)
            or next((n for n in names if n.get("use") not in ("old", "maiden")), None)
            or {}
        )
        given, family = " ".join(filter(None, name.get("given", []))), name.get("family", "")
        if not (given and family):
            self.problem(
                "required", "Patient.name", "Give the patient's name with both given and family parts."
            )
        birth_date = patient.get("birthDate", "")
        if not birth_date:
            self.problem("required", "Patient.birthDate", "Give the patient's birth date (YYYY-MM-DD).")
        elif len(birth_date) != len("YYYY-MM-DD"):
            self.problem(
                "value",
                "Patient.birthDate",
                f"Give the full birth date (YYYY-MM-DD); {birth_date!r} is too vague to identify a patient.",
            )
        if not patient.get("gender"):
            self.problem(
                "required", "Patient.gender", "Give the patient's gender: male, female, other or unknown."
            )
        current = [
            t
            for t in patient.get("telecom", [])
            if t.get("value") and t.get("use") != "old" and not (t.get("period") or {}).get("end")
        ]
        phones = sorted(
            (t for t in current if t.get("system") in ("phone", "sms")),
            key=lambda t: (t.get("use") != "mobile", t.get("rank", 1000)),
        )
        emails = sorted((t for t in current if t.get("system") == "email"), key=lambda t: t.get("rank", 1000))
        return {
            "given_name": given,
            "family_name": family,
            "birth_date": birth_date,
            "sex": patient.get("gender", ""),
            "phone": phones[0]["value"] if phones else "",
            "email": emails[0]["value"] if emails else "",
        }

    def screening(self) -> dict:
        responses = [
            response
            for response in all_of_type(self.request, self.resolve, "QuestionnaireResponse")
            if response.get("questionnaire") == SCREENING_QUESTIONNAIRE
        ]
        if len(responses) != 1:
            self.problem(
                "required" if not responses else "invalid",
                "ServiceRequest.supportingInfo",
                f"Attach exactly one QuestionnaireResponse for {SCREENING_QUESTIONNAIRE} (found "
                f"{len(responses)}), contained or referenced from supportingInfo, answering true or "
                f"false for each of: {', '.join(YES_NO_ITEMS)}.",
            )
            return {}
        answers = answers_by_link_id(responses[0].get("item", []))
        result: dict = {"contraindications": {}}
        for link_id in YES_NO_ITEMS:
            values = [a["valueBoolean"] for a in answers.get(link_id, []) if "valueBoolean" in a]
            if len(values) != 1:
                self.problem(
                    "required",
                    f"QuestionnaireResponse.item.where(linkId='{link_id}')",
                    f"Answer {link_id} with one valueBoolean, true or false; a missing answer is not "
                    "taken as false.",
                )
            elif link_id == "consent_obtained":
                result["consent_obtained"] = values[0]
            else:
                result["contraindications"][link_id] = values[0]
        goals = [a["valueString"] for a in answers.get("goals", []) if "valueString" in a]
        result["goals"] = "\n".join(goals)
        extra = self.screening_items(answers)
        if "breastfeeding" in extra:
            result["contraindications"]["breastfeeding"] = extra["breastfeeding"]
        if {"consent_by", "consent_form_version", "assent"} & set(extra) and "consent_obtained" in result:
            # The contract's `consent` object, agreeing with `consent_obtained` by construction;
            # consent obtained with nobody named is the patient's, as `consent_obtained` alone says.
            obtained = result["consent_obtained"]
            result["consent"] = {
                "obtained": obtained,
                "by": extra.get("consent_by") or ("patient" if obtained else None),
            } | {key: extra[key] for key in ("assent",) if key in extra}
            if "consent_form_version" in extra:
                result["consent"]["form_version"] = extra["consent_form_version"]
        return result

    def supporting_parts(self) -> dict:
        """Findings, additional conditions and priority: each only when the request gives it.
        supportingInfo may point at anything else (a LOINC Observation, a SNOMED CT Condition, a
        resource on the partner's server): v1 accepted and ignored it, so it is still ignored."""
        observations = [(where, res) for where, res in self.supporting("Observation") if is_finding(res)]
        referenced = {id(resource) for _, resource in observations}
        for index, resource in enumerate(self.request.get("contained", [])):
            if (
                resource["resourceType"] == "Observation"
                and is_finding(resource)
                and id(resource) not in referenced
            ):
                self.problem(
                    "invalid",
                    f"ServiceRequest.contained[{index}]",
                    "This finding is contained but not referenced from ServiceRequest.supportingInfo, "
                    "so it would be ignored: reference it as '#id' to send it, or leave it out.",
                )
        conditions = [
            (where, res) for where, res in self.supporting("Condition") if is_additional_condition(res)
        ]
        parts: dict = {}
        if findings := self.findings(observations):
            parts["findings"] = findings
        if conditions := self.additional_conditions(conditions):
            parts["additional_conditions"] = conditions
        if priority := self.priority():
            parts["priority"] = priority
        return parts

    def supporting(self, resource_type: str) -> list[tuple[str, dict]]:
        """(FHIRPath, resource) for each resource of a type supportingInfo references and this
        request holds, once each; the main condition (reasonReference) is not an additional one."""
        found: list[tuple[str, dict]] = []
        seen = {id(condition) for condition in self.conditions}
        for index, ref in enumerate(self.request.get("supportingInfo", [])):
            resource = self.resolve(ref.get("reference"), resource_type)
            if resource is not None and id(resource) not in seen:
                seen.add(id(resource))
                found.append((f"ServiceRequest.supportingInfo[{index}].resolve()", resource))
        return found


def answers_by_link_id(items: list[dict]) -> dict[str, list[dict]]:
    """linkId -> answers, through nested groups."""
    found: dict[str, list[dict]] = {}
    for item in items:
        found.setdefault(item["linkId"], []).extend(item.get("answer", []))
        for nested in answers_by_link_id(item.get("item", [])).items():
            found.setdefault(nested[0], []).extend(nested[1])
    return found


# The contract's consent fields (the `consent` object, and the services' names) -> screening item.
CONSENT_ITEMS = {
    "consent": "consent_obtained",
    "consent.obtained": "consent_obtained",
    "consent.by": "consent_by",
    "consent_by": "consent_by",
    "consent.form_version": "consent_form_version",
    "consent_form_version": "consent_form_version",
    "consent.assent": "assent",
    "assent": "assent",
    "breastfeeding": "breastfeeding",
}


def _expression(field: str, places: dict[str, str]) -> str:
    """Where in the FHIR request a field of the JSON contract came from."""
    head, _, rest = field.partition(".")
    if field in places:
        return places[field]
    if field in CONSENT_ITEMS:
        return item_path(CONSENT_ITEMS[field])
    if head in ("contraindications", "consent_obtained", "goals"):
        return item_path(rest or head)
    if head in ("findings", "additional_conditions"):
        return "ServiceRequest.supportingInfo"
    if head == "affected_sites":
        return f"ServiceRequest.bodySite[{rest}]" if rest else "ServiceRequest.bodySite"
    return {
        "external_id": "ServiceRequest.identifier",
        "patient.given_name": "Patient.name.given",
        "patient.family_name": "Patient.name.family",
        "patient.birth_date": "Patient.birthDate",
        "patient.sex": "Patient.gender",
        "patient.phone": "Patient.telecom.where(system='phone')",
        "patient.email": "Patient.telecom.where(system='email')",
        "condition.icd10": f"Condition.code.coding.where(system='{ICD10_CM}').code",
        "condition.description": "Condition.code.text",
        "notes": "ServiceRequest.note",
        "priority": "ServiceRequest.priority",
    }.get(field, "")


def issues_from_field_errors(
    errors: dict[str, list[str]], places: dict[str, str] | None = None
) -> list[Issue]:
    """The referral serializer's (or the services') messages, each pointed at the FHIR element
    it is about; `places` are those read_referral found."""
    return [
        Issue(
            "code-invalid" if field == "condition.icd10" or field.endswith(".icd10") else "value",
            message,
            _expression(field, places or {}),
        )
        for field, messages in errors.items()
        for message in messages
    ]
