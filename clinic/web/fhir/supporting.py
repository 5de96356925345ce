"""Rule set v3 in FHIR (DESIGN.md rules 3, 4 and 6): findings as Observations, additional
conditions as Conditions, the screening items on consent and breastfeeding, and
ServiceRequest.priority.

Read alike from a referral (referenced from `ServiceRequest.supportingInfo`) and from an answer
(referenced from `Communication.payload`). Only the FHIR shape is checked here: ranges, dates,
repeated codes and consent rules are the services' (intake.clinical), so every door gives the
same messages. Each value read remembers the element it came from in `places` (contract field
-> FHIRPath), so those messages point back at the FHIR element."""

from clinic.web.fhir import CONDITION_ROLE_SYSTEM, CONSENT_BY_SYSTEM, FINDING_SYSTEM, ICD10_CM, UCUM
from clinic.web.fhir.clinical import ClinicalReader
from clinic.web.fhir.reading import describe
from intake.models import ConsentBy
from intake.vocabulary.codes import normalize_icd10
from intake.vocabulary.findings import BY_KEY, Finding

# An Observation still preliminary, cancelled or entered in error is no finding to draft from.
FINAL_STATUSES = ("final", "amended", "corrected")
# Our queue has two levels; FHIR's asap and stat are more urgent than urgent, never routine.
PRIORITIES = {"routine": "routine", "urgent": "urgent", "asap": "urgent", "stat": "urgent"}
# The optional screening items of rule set v3, and the value[x] each is answered with.
V3_ITEMS = {
    "consent_by": "valueCoding",
    "consent_form_version": "valueString",
    "assent": "valueBoolean",
    "breastfeeding": "valueBoolean",
}
ADDITIONAL = "additional"
MISSING = object()


def item_path(link_id: str) -> str:
    return f"QuestionnaireResponse.item.where(linkId='{link_id}')"


def is_finding(observation: dict) -> bool:
    """An Observation coded in our finding system. Partner API v1 accepted any other Observation
    in supportingInfo and ignored it, so only ours are read (and checked) as findings."""
    return any(
        coding.get("system") == FINDING_SYSTEM for coding in (observation.get("code") or {}).get("coding", [])
    )


def is_additional_condition(condition: dict) -> bool:
    """A Condition in supportingInfo read as an additional condition: coded in ICD-10-CM, or
    marked `additional`. v1 ignored any other (a SNOMED CT problem list entry, say), and still does."""
    codings = (condition.get("code") or {}).get("coding", [])
    return is_additional(condition) or any(coding.get("system") == ICD10_CM for coding in codings)


def is_additional(condition: dict) -> bool:
    """A Condition marked as an additional condition of the referral (category, our system)."""
    return any(
        coding.get("system") == CONDITION_ROLE_SYSTEM and coding.get("code") == ADDITIONAL
        for category in condition.get("category", [])
        for coding in category.get("coding", [])
    )


class SupportingReader(ClinicalReader):
    """A ClinicalReader that also reads rule set v3's elements and where each came from."""

    def __init__(self, request: dict, resolve):
        super().__init__(request, resolve)
        self.places: dict[str, str] = {}

    def priority(self) -> str | None:
        value = self.request.get("priority")
        if value is None:
            return None
        if value not in PRIORITIES:
            self.problem(
                "code-invalid",
                "ServiceRequest.priority",
                f"Give the priority as one of FHIR's request priorities: routine, urgent, asap or stat "
                f"(asap and stat are queued as urgent); {value!r} is not one.",
            )
        return PRIORITIES.get(value)

    def screening_items(self, answers: dict[str, list[dict]]) -> dict:
        """consent_by (a code), consent_form_version, assent and breastfeeding: each optional,
        answered at most once with its value[x]."""
        found: dict = {}
        for link_id, kind in V3_ITEMS.items():
            given = answers.get(link_id, [])
            if not given:
                continue
            values = [answer[kind] for answer in given if kind in answer]
            if len(given) != 1 or len(values) != 1:
                self.problem(
                    "value",
                    item_path(link_id),
                    f"Answer {link_id} once, with {kind}, or leave the item out.",
                )
                continue
            found[link_id] = values[0]
        coding = found.pop("consent_by", None)
        if coding is not None:
            if coding.get("system") == CONSENT_BY_SYSTEM and coding.get("code") in ConsentBy.values:
                found["consent_by"] = coding["code"]
            else:
                self.problem(
                    "code-invalid",
                    item_path("consent_by"),
                    f"Say who gave consent with system {CONSENT_BY_SYSTEM} and one of the codes "
                    f"{', '.join(ConsentBy.values)}; got {describe(coding) or 'no code'} "
                    f"in {coding.get('system') or 'no system'}.",
                )
        return found

    def findings(self, observations: list[tuple[str, dict]]) -> dict:
        """{key: value} from one Observation per key; `observations` are (FHIRPath, resource)."""
        values: dict = {}
        for where, observation in observations:
            if observation.get("status") not in FINAL_STATUSES:
                self.problem(
                    "value",
                    f"{where}.status",
                    f"A finding must be final, amended or corrected to be drafted from; this "
                    f"Observation is {observation.get('status')!r}. Send it once the result is final.",
                )
            key = self._finding_key(where, observation)
            if key is None:
                continue
            if key in values or f"findings.{key}" in self.places:
                self.problem(
                    "invalid", where, f"Send one Observation per finding: {key} is given more than once."
                )
                continue
            self.places[f"findings.{key}"] = f"{where}.value"
            value = self._finding_value(where, observation, BY_KEY[key])
            if value is not MISSING:
                values[key] = value
        return values

    def _finding_key(self, where: str, observation: dict) -> str | None:
        codings = (observation.get("code") or {}).get("coding", [])
        keys = sorted({c["code"] for c in codings if c.get("system") == FINDING_SYSTEM and c.get("code")})
        if len(keys) == 1 and keys[0] in BY_KEY:
            return keys[0]
        if not keys:
            others = "; ".join(filter(None, (describe(c) for c in codings))) or "none"
            message = (
                f"Code the finding with system {FINDING_SYSTEM} and a key from GET /api/v1/findings/ "
                f"(for example kl_grade); a LOINC coding may sit beside it. Its codings: {others}."
            )
        elif len(keys) > 1:
            message = f"One Observation is one finding; this one is coded as {', '.join(keys)}."
        else:
            message = f"“{keys[0]}” is not a finding key; the list is at GET /api/v1/findings/."
        self.problem("code-invalid", f"{where}.code", message)
        return None

    def _finding_value(self, where: str, observation: dict, finding: Finding) -> object:
        accepted = {
            "integer": ["valueInteger"] + (["valueQuantity"] if finding.unit else []),
            "decimal": ["valueQuantity"] + ([] if finding.unit else ["valueInteger"]),
            "date": ["valueDateTime"],
            "string": ["valueString"],
        }[finding.type]
        given = [name for name in accepted if name in observation]
        if not given:
            others = [name for name in observation if name.startswith("value")]
            got = f" (got {', '.join(others)})" if others else " (it has none)"
            self.problem(
                "value",
                f"{where}.value",
                f"{finding.label}: give the value as {' or '.join(accepted)}{got}"
                + (f", in {finding.unit} (UCUM)." if finding.unit else "."),
            )
            return MISSING
        value = observation[given[0]]
        if given[0] == "valueQuantity":
            return self._quantity(where, value, finding)
        if given[0] == "valueDateTime" and len(value) != len("YYYY-MM-DD"):
            self.problem(
                "value",
                f"{where}.value",
                f"{finding.label}: give the day alone, as YYYY-MM-DD (got {value!r}).",
            )
            return MISSING
        return value

    def _quantity(self, where: str, quantity: dict, finding: Finding) -> object:
        unit = finding.unit or ""
        if quantity.get("comparator") or "value" not in quantity:
            self.problem(
                "value",
                f"{where}.value",
                f"{finding.label}: give the measured value itself in valueQuantity.value, without a "
                "comparator.",
            )
            return MISSING
        if unit and (quantity.get("system") != UCUM or quantity.get("code") != unit):
            got = quantity.get("code") or quantity.get("unit") or "no unit"
            self.problem(
                "value",
                f"{where}.value",
                f"{finding.label} is given in {unit} (UCUM): send valueQuantity with system {UCUM} and "
                f"code '{unit}' (got {got}); values are never converted.",
            )
            return MISSING
        return quantity["value"]

    def additional_conditions(self, conditions: list[tuple[str, dict]]) -> list[dict]:
        """[{icd10, description}] from Conditions coded in ICD-10-CM, one code each."""
        result: list[dict] = []
        for where, condition in conditions:
            verification = (condition.get("verificationStatus") or {}).get("coding", [])
            refuted = [c["code"] for c in verification if c.get("code") in ("refuted", "entered-in-error")]
            if refuted:
                self.problem(
                    "business-rule",
                    f"{where}.verificationStatus",
                    f"A condition that is {refuted[0]} is not one the patient has: leave it out.",
                )
                continue
            concept = condition.get("code") or {}
            icd = [c for c in concept.get("coding", []) if c.get("system") == ICD10_CM and c.get("code")]
            codes = sorted({normalize_icd10(c["code"]) or c["code"] for c in icd})
            if not icd:
                self.no_icd10([concept], f"{where}.code")
                continue
            if len(codes) > 1:
                self.problem(
                    "business-rule",
                    f"{where}.code",
                    f"One Condition is one condition; this one names {len(codes)} ICD-10-CM codes "
                    f"({', '.join(codes)}): send a Condition for each.",
                )
                continue
            index = len(result)
            self.places[f"additional_conditions.{index}.icd10"] = f"{where}.code"
            self.places[f"additional_conditions.{index}.description"] = f"{where}.code.text"
            result.append(
                {"icd10": icd[0]["code"], "description": concept.get("text") or icd[0].get("display", "")}
            )
        return result
