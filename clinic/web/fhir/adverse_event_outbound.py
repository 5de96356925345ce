"""Adverse events as FHIR R4 AdverseEvents (DESIGN.md, "Partner reports"), for the partner's Bundle,
the `referral.adverse_event` event and the FHIR door's answer; clinic.web.fhir.adverse_event_inbound
reads the same mapping backwards.

Every reader sees the coded members; a report's description, identifier and reporter go back to
the partner that sent it, to no one else; the clinic's own assessments only in the full view."""

import uuid
from dataclasses import dataclass

from clinic.aftercare.vocabulary import (
    AdverseEventOutcome,
    AdverseEventSource,
    ReporterQualification,
    SeriousnessCriterion,
)
from clinic.web.fhir import BASE
from clinic.web.fhir.aftercare import EXT, REFERRAL_PATIENT, coding, patient_reference, urn

QUALIFICATION_SYSTEM = BASE + "CodeSystem/reporter-qualification"
PARTNER_AE_ID = BASE + "partner-adverse-event-id"
CTCAE_GRADE = EXT + "ctcae-grade"
SERIOUSNESS_CRITERIA = EXT + "seriousness-criteria"
SERIOUSNESS = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness"
AE_OUTCOME = "http://terminology.hl7.org/CodeSystem/adverse-event-outcome"
CAUSALITY = "http://terminology.hl7.org/CodeSystem/adverse-event-causality-assess"
ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"

NON_SERIOUS = "Non-serious"
SERIOUS = "Serious"
# One criterion has its own HL7 code; any other criterion, or several, is plain `Serious`.
SERIOUSNESS_CODES: dict[str, str] = {
    SeriousnessCriterion.DEATH: "SeriousResultsInDeath",
    SeriousnessCriterion.LIFE_THREATENING: "SeriousIsLifeThreatening",
    SeriousnessCriterion.HOSPITALIZATION: "SeriousResultsInHospitalization",
    SeriousnessCriterion.DISABILITY: "SeriousResultsInDisability",
    SeriousnessCriterion.CONGENITAL_ANOMALY: "SeriousIsBirthDefect",
    SeriousnessCriterion.MEDICAL_INTERVENTION: "SeriousRequiresPreventImpairment",
}
OUTCOME_CODES: dict[str, str] = {
    value: "resolvedWithSequelae" if value == AdverseEventOutcome.RESOLVED_WITH_SEQUELAE else value
    for value in AdverseEventOutcome.values
}
# WHO-UMC, one to one with HL7's R4 codes.
CAUSALITY_CODES: dict[str, tuple[str, str]] = {
    "certain": ("Certain", "Certain"),
    "probable": ("Probably-Likely", "Probably/Likely"),
    "possible": ("Possible", "Possible"),
    "unlikely": ("Unlikely", "Unlikely"),
    "conditional": ("Conditional-Classified", "Conditional/Classified"),
    "unassessable": ("Unassessable-Unclassifiable", "Unassessable/Unclassifiable"),
}
# A reporter who is a health professional is a Practitioner; the patient or someone else a RelatedPerson.
PRACTITIONERS = frozenset(
    {
        ReporterQualification.PHYSICIAN,
        ReporterQualification.PHARMACIST,
        ReporterQualification.OTHER_HEALTH_PROFESSIONAL,
    }
)
CLINIC = {"display": "The clinic"}


def seriousness(serious: bool | None, criteria: list[str]) -> dict | None:
    if serious is None:
        return None
    if not serious:
        return {"coding": [coding(SERIOUSNESS, NON_SERIOUS, "Non-serious")]}
    code = SERIOUSNESS_CODES.get(criteria[0], SERIOUS) if len(criteria) == 1 else SERIOUS
    return {"coding": [coding(SERIOUSNESS, code)]}


def causality(relatedness: str) -> dict:
    code, display = CAUSALITY_CODES[relatedness]
    return {"coding": [coding(CAUSALITY, code, display)]}


def suspect_reference(ae, *, case, records) -> str:
    """The Procedure the event follows (the latest administered by its onset), or the
    ServiceRequest when it began before any treatment (a harvest can harm too)."""
    before = [r for r in records if r.administered_at.date() <= ae.onset]
    if not before:
        return urn(case.pk)
    return urn(max(before, key=lambda r: (r.administered_at, r.session)).pk)


@dataclass(frozen=True)
class AsReported:
    """The coded members as a `referral.adverse_event` event carried them (None: as stored)."""

    ctcae_grade: int | None
    serious: bool | None
    seriousness_criteria: list[str]
    outcome: str

    @classmethod
    def of(cls, ae) -> "AsReported":
        return cls(ae.ctcae_grade, ae.serious, list(ae.seriousness_criteria or []), ae.outcome)


def adverse_event(ae, *, case, records=(), own: bool = False, full: bool = False, at=None) -> dict:
    """One adverse event. Every reader: onset, grade, seriousness and its criteria, outcome, when
    it was received, the suspect. The partner that sent it (`own`) also reads its description,
    its identifier, its reporter and its opinion of relatedness; `full` adds the clinic's own
    assessments and the action taken. `severity` is left out: its binding cannot hold grades 4-5."""
    at = at or AsReported.of(ae)
    mine = own or full
    resource: dict = {
        "resourceType": "AdverseEvent",
        "id": str(ae.pk),
        "meta": {"lastUpdated": ae.updated_at.isoformat()},
        "actuality": "actual",
        "subject": patient_reference(case),
        "date": ae.onset.isoformat(),
        "recordedDate": ae.received_at.isoformat(),
        "outcome": {
            "coding": [coding(AE_OUTCOME, OUTCOME_CODES[at.outcome], AdverseEventOutcome(at.outcome).label)]
        },
    }
    extensions = [{"url": EXT + "adverse-event-source", "valueCode": ae.source}]
    if at.ctcae_grade is not None:
        extensions.append({"url": CTCAE_GRADE, "valueInteger": at.ctcae_grade})
    extensions += [{"url": SERIOUSNESS_CRITERIA, "valueCode": code} for code in at.seriousness_criteria]
    if mine:
        extensions.append({"url": EXT + "adverse-event-triage", "valueCode": ae.triage})
    if full and ae.action_taken:
        extensions.append({"url": EXT + "action-taken", "valueString": ae.action_taken})
    resource["extension"] = extensions
    if (concept := seriousness(at.serious, at.seriousness_criteria)) is not None:
        resource["seriousness"] = concept
    if mine and ae.external_id:
        resource["identifier"] = {"system": PARTNER_AE_ID, "value": ae.external_id}
    if mine:
        resource["event"] = {"text": ae.description}
        if recorder := _recorder(ae, case):
            resource["contained"] = [recorder]
            resource["recorder"] = {"reference": "#reporter"}
    suspect: dict = {"instance": {"reference": suspect_reference(ae, case=case, records=records)}}
    assessments = []
    if mine and ae.relatedness_opinion in CAUSALITY_CODES:
        assessments.append(
            {"assessment": causality(ae.relatedness_opinion)}
            | ({"author": {"reference": "#reporter"}} if "contained" in resource else {})
        )
    if full:
        for what, value in (
            ("product", ae.relatedness_product),
            ("harvest procedure", ae.relatedness_harvest),
            ("device", ae.relatedness_device),
        ):
            if value in CAUSALITY_CODES:
                assessments.append(
                    {"assessment": causality(value), "productRelatedness": what, "author": CLINIC}
                )
    if assessments:
        suspect["causality"] = assessments
    resource["suspectEntity"] = [suspect]
    return resource


def _recorder(ae, case) -> dict | None:
    if not (ae.reporter_name or ae.reporter_qualification):
        return None
    name = [{"text": ae.reporter_name}] if ae.reporter_name else []
    qualification = ae.reporter_qualification
    codings = (
        [coding(QUALIFICATION_SYSTEM, qualification, ReporterQualification(qualification).label)]
        if qualification
        else []
    )
    if not qualification or qualification in PRACTITIONERS:
        resource = {"resourceType": "Practitioner", "id": "reporter", "name": name}
        if codings:
            resource["qualification"] = [{"code": {"coding": codings}}]
        return {key: value for key, value in resource.items() if value}
    if qualification == ReporterQualification.PATIENT:
        codings.append(coding(ROLE_CODE, "ONESELF", "self"))
    resource = {
        "resourceType": "RelatedPerson",
        "id": "reporter",
        "patient": patient_reference(case),
        "relationship": [{"coding": codings}],
        "name": name,
    }
    return {key: value for key, value in resource.items() if value}


def subject_referral_id(subject: dict | None) -> uuid.UUID | None:
    """The referral a subject names through our identifier (see patient_reference), if it does."""
    identifier = (subject or {}).get("identifier") or {}
    if identifier.get("system") != REFERRAL_PATIENT:
        return None
    try:
        return uuid.UUID(str(identifier.get("value")))
    except ValueError:
        return None


def is_own(ae, partner) -> bool:
    """A report this partner sent itself: its description and reporter go back to it alone."""
    return ae.source == AdverseEventSource.PARTNER and partner is not None and ae.partner_id == partner.pk
