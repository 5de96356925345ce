"""A FHIR R4 ServiceRequest read as the referral body of the JSON contract.

The ServiceRequest carries its Patient, its Condition and the clinic's screening
answers (a QuestionnaireResponse) either contained or as entries of a transaction
Bundle. Only the FHIR shape is checked here; the values then go through the same
ReferralSerializer as a JSON referral, so both doors apply one set of rules, and
its messages are pointed back at the FHIR elements by `issues_from_field_errors`.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.servicerequest import ServiceRequest
from pydantic import ValidationError

from intake.fhir import BODY_SITE_SYSTEM, ICD10_CM, SCREENING_QUESTIONNAIRE, SNOMED_CT
from intake.models import CONTRAINDICATIONS
from intake.vocabulary.codes import normalize_icd10

MAX_ISSUES = 25
YES_NO_ITEMS = (*CONTRAINDICATIONS, "consent_obtained")


@dataclass(frozen=True)
class Issue:
    """One OperationOutcome.issue: a FHIR IssueType code, a sentence, a FHIRPath."""

    code: str
    diagnostics: str
    expression: str = ""


class FHIRInputError(Exception):
    def __init__(self, issues: list[Issue]):
        self.issues = issues[:MAX_ISSUES]
        super().__init__("; ".join(issue.diagnostics for issue in self.issues))


Resolver = Callable[[str | None, str], dict | None]


def referral_from_fhir(body) -> dict:
    """The referral dict (external_id, patient, condition, ...) that `body` describes.

    Raises FHIRInputError listing every problem found, not just the first."""
    if not isinstance(body, dict):
        raise FHIRInputError(
            [Issue("structure", "Send one FHIR resource as a JSON object: a ServiceRequest or a Bundle.")]
        )
    kind = body.get("resourceType")
    if kind == "ServiceRequest":
        request = validated(ServiceRequest, body, "ServiceRequest")
        return Reader(request, resolver(request, {})).read()
    if kind == "Bundle":
        bundle = validated(Bundle, body, "Bundle")
        request, entries = _bundle_parts(bundle)
        return Reader(request, resolver(request, entries)).read()
    raise FHIRInputError(
        [
            Issue(
                "not-supported",
                f"Send a ServiceRequest, or a transaction Bundle that holds one; got resourceType {kind!r}.",
                "resourceType",
            )
        ]
    )


def validated(model, body: dict, root: str) -> dict:
    """The resource as plain JSON after the fhir.resources model has read it."""
    try:
        resource = model.model_validate(body)
    except ValidationError as exc:
        raise FHIRInputError([_pydantic_issue(root, error) for error in exc.errors()]) from None
    except KeyError as exc:
        # fhir.resources looks nested resources up by "R4.<resourceType>Type".
        name = str(exc.args[0]).removeprefix("R4.").removesuffix("Type")
        raise FHIRInputError(
            [
                Issue(
                    "structure",
                    f"This {root} holds a resource of type {name!r}, which FHIR R4 does not have.",
                )
            ]
        ) from None
    except (TypeError, ValueError, AttributeError) as exc:
        raise FHIRInputError(
            [Issue("structure", f"This is not readable as a FHIR R4 {root}: {exc}.")]
        ) from None
    return json.loads(resource.model_dump_json(exclude_none=True))


def _pydantic_issue(root: str, error: dict) -> Issue:
    path = root + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    kind = error["type"]
    code = "required" if kind.endswith("missing") else "structure" if kind == "extra_forbidden" else "value"
    return Issue(code, f"{path}: {message}", path)


def _bundle_parts(bundle: dict) -> tuple[dict, dict[str, dict]]:
    if bundle.get("type") != "transaction":
        raise FHIRInputError(
            [
                Issue(
                    "not-supported",
                    f"Send the Bundle as type 'transaction' (got {bundle.get('type')!r}), "
                    "or post the ServiceRequest alone with its Patient and Condition contained.",
                    "Bundle.type",
                )
            ]
        )
    entries: dict[str, dict] = {}
    requests = []
    for entry in bundle.get("entry", []):
        resource = entry.get("resource")
        if not resource:
            continue
        if resource["resourceType"] == "ServiceRequest":
            requests.append(resource)
        for key in _keys(entry.get("fullUrl"), resource):
            entries[key] = resource
    if len(requests) != 1:
        raise FHIRInputError(
            [
                Issue(
                    "invalid",
                    f"The Bundle must hold one ServiceRequest (the referral); it has {len(requests)}.",
                    "Bundle.entry",
                )
            ]
        )
    return requests[0], entries


def _keys(full_url: str | None, resource: dict) -> list[str]:
    """Every way a reference may name this entry: its fullUrl, Type/id, and the
    Type/id at the end of an absolute fullUrl."""
    keys = [full_url] if full_url else []
    if resource.get("id"):
        keys.append(f"{resource['resourceType']}/{resource['id']}")
    if full_url and full_url.startswith("http"):
        keys.append("/".join(full_url.rstrip("/").split("/")[-2:]))
    return keys


def resolver(request: dict, entries: dict[str, dict]) -> Resolver:
    contained = {f"#{res['id']}": res for res in request.get("contained", []) if res.get("id")}

    def resolve(reference: str | None, resource_type: str) -> dict | None:
        found = contained.get(reference or "") or entries.get(reference or "")
        return found if found and found["resourceType"] == resource_type else None

    return resolve


def _all_of_type(request: dict, resolve: Resolver, resource_type: str) -> list[dict]:
    """Resources of a type the request points at through supportingInfo, or contains."""
    found = [
        res
        for ref in request.get("supportingInfo", [])
        if (res := resolve(ref.get("reference"), resource_type)) is not None
    ]
    found += [res for res in request.get("contained", []) if res["resourceType"] == resource_type]
    unique: dict[int, dict] = {id(res): res for res in found}
    return list(unique.values())


def _describe(coding: dict) -> str:
    return " ".join(filter(None, [coding.get("code"), coding.get("display")]))


class Reader:
    """Reads each part of a referral from a ServiceRequest, collecting every issue
    instead of stopping at the first."""

    def __init__(self, request: dict, resolve: Resolver):
        self.request, self.resolve = request, resolve
        self.issues: list[Issue] = []
        self.conditions: list[dict] = []

    def problem(self, code: str, expression: str, diagnostics: str) -> None:
        self.issues.append(Issue(code, diagnostics, expression))

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

    def condition(self) -> dict:
        concepts: list[dict] = []
        where = "Condition.code"
        for index, ref in enumerate(self.request.get("reasonReference", [])):
            condition = self.resolve(ref.get("reference"), "Condition")
            if condition is None:
                self.problem(
                    "not-found",
                    f"ServiceRequest.reasonReference[{index}]",
                    f"{ref.get('reference')!r} is not a Condition in this request: contain it, or put it "
                    "in the transaction Bundle.",
                )
                continue
            self.conditions.append(condition)
            concepts.append(condition.get("code") or {})
        if not concepts:
            where = "ServiceRequest.reasonCode"
        concepts += self.request.get("reasonCode", [])
        if not concepts and not self.issues:
            self.problem(
                "required",
                "ServiceRequest.reasonReference",
                "Say what the referral is for: reference a Condition coded in ICD-10-CM, or give a "
                "reasonCode with an ICD-10-CM coding.",
            )
            return {}
        icd = [
            (concept, coding)
            for concept in concepts
            for coding in concept.get("coding", [])
            if coding.get("system") == ICD10_CM and coding.get("code")
        ]
        if not icd:
            self.no_icd10(concepts, where)
            return {}
        codes = sorted({normalize_icd10(coding["code"]) or coding["code"] for _, coding in icd})
        if len(codes) > 1:
            self.problem(
                "business-rule",
                where,
                f"A referral is for one condition, but it names {len(codes)} ICD-10-CM codes "
                f"({', '.join(codes)}); send one referral per condition.",
            )
        concept, coding = icd[0]
        return {"icd10": coding["code"], "description": concept.get("text") or coding.get("display", "")}

    def no_icd10(self, concepts: list[dict], where: str) -> None:
        codings = [coding for concept in concepts for coding in concept.get("coding", [])]
        snomed = [_describe(c) for c in codings if c.get("system") == SNOMED_CT]
        need = (
            f"We draft from ICD-10-CM: add a coding with system {ICD10_CM} and the condition's code, "
            "for example M17.11 (see GET /api/v1/conditions/)."
        )
        if snomed:
            found = f"The condition is coded in SNOMED CT only ({'; '.join(snomed)})."
        elif codings:
            systems = sorted({c.get("system") or "no system" for c in codings})
            found = f"The condition has no ICD-10-CM coding (its codings are from {', '.join(systems)})."
        else:
            texts = [concept["text"] for concept in concepts if concept.get("text")]
            found = f"The condition is given as text only ({'; '.join(texts)})." if texts else ""
        self.problem("code-invalid", where, f"{found} {need}".strip())

    def sites(self) -> list[str]:
        where, concepts = "ServiceRequest.bodySite", self.request.get("bodySite", [])
        if not concepts:
            where = "Condition.bodySite"
            concepts = [site for condition in self.conditions for site in condition.get("bodySite", [])]
        sites: list[str] = []
        for index, concept in enumerate(concepts):
            ours = [
                c["code"]
                for c in concept.get("coding", [])
                if c.get("system") == BODY_SITE_SYSTEM and c.get("code")
            ]
            if not ours:
                others = [_describe(c) for c in concept.get("coding", [])] or [concept.get("text", "")]
                self.problem(
                    "code-invalid",
                    f"{where}[{index}]",
                    f"Code this body site ({'; '.join(filter(None, others)) or 'uncoded'}) with system "
                    f"{BODY_SITE_SYSTEM} and a code from GET /api/v1/body-sites/, for example right_knee.",
                )
            sites += [code for code in ours if code not in sites]
        return sites

    def screening(self) -> dict:
        responses = [
            response
            for response in _all_of_type(self.request, self.resolve, "QuestionnaireResponse")
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
        answers = _answers(responses[0].get("item", []))
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
        return result


def _answers(items: list[dict]) -> dict[str, list[dict]]:
    """linkId -> answers, through nested groups."""
    found: dict[str, list[dict]] = {}
    for item in items:
        found.setdefault(item["linkId"], []).extend(item.get("answer", []))
        for nested in _answers(item.get("item", [])).items():
            found.setdefault(nested[0], []).extend(nested[1])
    return found


def _expression(field: str) -> str:
    """Where in the FHIR request a field of the JSON contract came from."""
    head, _, rest = field.partition(".")
    if head in ("contraindications", "consent_obtained", "goals"):
        return f"QuestionnaireResponse.item.where(linkId='{rest or head}')"
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
    }.get(field, "")


def issues_from_field_errors(errors: dict[str, list[str]]) -> list[Issue]:
    """The referral serializer's messages, each pointed at the FHIR element it is about."""
    return [
        Issue("code-invalid" if field == "condition.icd10" else "value", message, _expression(field))
        for field, messages in errors.items()
        for message in messages
    ]
