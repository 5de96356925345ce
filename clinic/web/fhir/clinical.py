"""The clinical part of a FHIR request: the condition (ICD-10-CM) and the body sites.
Shared by a new referral (clinic.web.fhir.inbound) and an answer to a question
(clinic.web.fhir.followups), which may correct both."""

from clinic.web.fhir import BODY_SITE_SYSTEM, ICD10_CM, SNOMED_CT
from clinic.web.fhir.reading import Issue, Resolver, describe
from intake.vocabulary.body_sites import BY_SNOMED
from intake.vocabulary.codes import normalize_icd10


class ClinicalReader:
    """Reads parts of a ServiceRequest, collecting every issue instead of stopping at the first."""

    def __init__(self, request: dict, resolve: Resolver):
        self.request, self.resolve = request, resolve
        self.issues: list[Issue] = []
        self.conditions: list[dict] = []

    def problem(self, code: str, expression: str, diagnostics: str) -> None:
        self.issues.append(Issue(code, diagnostics, expression))

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
        snomed = [describe(c) for c in codings if c.get("system") == SNOMED_CT]
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
            codings = concept.get("coding", [])
            ours = [c["code"] for c in codings if c.get("system") == BODY_SITE_SYSTEM and c.get("code")]
            if not ours:
                # A SNOMED CT coding alone will do, when it is one of the published sites' concepts.
                snomed = [c.get("code") for c in codings if c.get("system") == SNOMED_CT and c.get("code")]
                ours = [BY_SNOMED[code].code for code in snomed if code in BY_SNOMED][:1]
            if not ours:
                others = [describe(c) for c in codings] or [concept.get("text", "")]
                self.problem(
                    "code-invalid",
                    f"{where}[{index}]",
                    f"Code this body site ({'; '.join(filter(None, others)) or 'uncoded'}) with system "
                    f"{BODY_SITE_SYSTEM} and a code from GET /api/v1/body-sites/ (for example right_knee), "
                    f"or with system {SNOMED_CT} and the SNOMED CT concept that list gives for the site "
                    "(for example 6757004, Structure of right knee region).",
                )
            sites += [code for code in ours if code not in sites]
        return sites
