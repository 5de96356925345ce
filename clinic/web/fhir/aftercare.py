"""What follows the decision, as FHIR R4: the treatment record as a Procedure and the treatment
course as a second Task (DESIGN.md, "After the decision"); adverse events are
clinic.web.fhir.adverse_event_outbound's.

Two views of a record. A partner's (the referral's Bundle, the events) carries codes and times
only: never the product's identification code, lot or dose (`Procedure.used`), a staff member's
name, the patient's name or birth date, or free text the clinic wrote. The full view
(`full=True`) is the clinic's own record and export."""

from dataclasses import dataclass
from datetime import date, datetime

from clinic.aftercare.statuses import COURSE, CourseState
from clinic.aftercare.vocabulary import (
    ImageGuidance,
    PerformerRole,
    ProductSource,
)
from clinic.web.fhir import BASE, BODY_SITE_SYSTEM, SNOMED_CT, UCUM
from intake.vocabulary.body_sites import SITES
from intake.vocabulary.routes import FINAL_ROUTES

TASK_SYSTEM = BASE + "CodeSystem/task"  # referral-review | treatment-course
TREATMENT_STATE_SYSTEM = BASE + "CodeSystem/treatment-state"
ROUTE_SYSTEM = BASE + "CodeSystem/treatment-route"
PERFORMER_ROLE_SYSTEM = BASE + "CodeSystem/performer-role"
# The patient of a referral, named without a name: the identifier's value is the referral's id.
REFERRAL_PATIENT = BASE + "referral-patient"
DISTINCT_CODE = BASE + "distinct-identification-code"  # 21 CFR 1271.290(c)
LOT = BASE + "product-lot"
EXT = BASE + "StructureDefinition/"
PROTOCOL = EXT + "protocol"
R5_PROCEDURE_USED = "http://hl7.org/fhir/5.0/StructureDefinition/extension-Procedure.used"


def urn(value) -> str:
    return f"urn:uuid:{value}"


def body_site(code: str) -> dict:
    """Our coding and, where the site has one, its SNOMED CT coding beside it."""
    site = SITES.get(code)
    codings = [{"system": BODY_SITE_SYSTEM, "code": code, "display": site.label if site else code}]
    if site and site.snomed_ct:
        codings.append({"system": SNOMED_CT, "code": site.snomed_ct, "display": site.snomed_display})
    return {"coding": codings}


def patient_reference(case) -> dict:
    """The referral's patient without a name or birth date: the partner knows whom it referred."""
    return {"type": "Patient", "identifier": {"system": REFERRAL_PATIENT, "value": str(case.pk)}}


def coding(system: str, code: str, display: str = "") -> dict:
    return {"system": system, "code": code} | ({"display": display} if display else {})


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


# The treatment record ------------------------------------------------------------------------


def procedure(record, *, case, full: bool = False) -> dict:
    """One signed treatment record. A partner's view: status, time, route, sites, basedOn, protocol
    and the performer's role; `full` adds the product (R5's Procedure.used through its R4
    extension, carrying a contained BiologicallyDerivedProduct), the dose and the signer."""
    route_label = FINAL_ROUTES.get(record.route, record.route)
    resource: dict = {
        "resourceType": "Procedure",
        "id": str(record.pk),
        "meta": {"lastUpdated": record.signed_at.isoformat()},
        "basedOn": [{"reference": urn(case.pk)}],
        "status": "completed",
        "code": {
            "coding": [coding(ROUTE_SYSTEM, record.route, route_label)],
            "text": f"Cell therapy: {route_label.lower()}",
        },
        "subject": patient_reference(case),
        "performedDateTime": record.administered_at.isoformat(),
        "performer": [
            {
                "function": {
                    "coding": [
                        coding(
                            PERFORMER_ROLE_SYSTEM,
                            record.performer_role,
                            PerformerRole(record.performer_role).label,
                        )
                    ]
                },
                # A role, not a person: a partner never reads a staff member's name.
                "actor": {
                    "display": record.signature if full else PerformerRole(record.performer_role).label
                },
            }
        ],
    }
    if record.sites:
        resource["bodySite"] = [body_site(site) for site in record.sites]
    if record.protocol_id:
        parts = [{"url": "id", "valueString": record.protocol_id}]
        if record.protocol_version is not None:
            parts.append({"url": "version", "valueInteger": record.protocol_version})
        resource["extension"] = [{"url": PROTOCOL, "extension": parts}]
    if full:
        _add_full_record(resource, record)
    return resource


def _add_full_record(resource: dict, record) -> None:
    product = {
        "resourceType": "BiologicallyDerivedProduct",
        "id": "product",
        "productCategory": "cells",
        "productCode": {
            "coding": [
                coding(
                    BASE + "CodeSystem/product-source", record.product_source, _label(ProductSource, record)
                )
            ],
            "text": record.product_kind,
        },
        "identifier": [
            {
                "system": DISTINCT_CODE,
                "value": record.distinct_code,
                "type": {"text": "Distinct identification code"},
            },
            {"system": LOT, "value": record.lot, "type": {"text": "Lot"}},
        ],
        "processing": [{"description": f"Processed at {record.processing_facility}"}],
    }
    if record.label_legends:
        product["extension"] = [
            {"url": EXT + "label-legend", "valueString": legend} for legend in record.label_legends
        ]
    resource["contained"] = [product]
    dose = [
        {"url": name, "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": code}}
        for name, value, unit, code in (
            ("totalNucleatedCells", record.dose_tnc, "cells", "{cells}"),
            ("viability", record.viability_percent, "%", "%"),
            ("volume", record.volume_ml, "mL", "mL"),
        )
        if value is not None
    ]
    resource.setdefault("extension", []).append(
        {"url": R5_PROCEDURE_USED, "valueReference": {"reference": "#product"}}
    )
    if dose:
        resource["extension"].append({"url": EXT + "cell-dose", "extension": dose})
    resource["extension"].append(
        {
            "url": EXT + "image-guidance",
            "valueCoding": coding(
                BASE + "CodeSystem/image-guidance",
                record.image_guidance,
                ImageGuidance(record.image_guidance).label,
            ),
        }
    )
    if record.basis:
        resource["extension"].append({"url": EXT + "regulatory-basis", "valueCode": record.basis})
    notes = [record.notes] + ([f"Route reason: {record.route_reason}"] if record.route_reason else [])
    notes += [f"Addendum ({addendum.signed_name}): {addendum.reason}" for addendum in record.addenda.all()]
    if notes := [text for text in notes if text]:
        resource["note"] = [{"text": text} for text in notes]


def _label(choices, record) -> str:
    try:
        return choices(record.product_source).label
    except ValueError:
        return ""


# The treatment course ------------------------------------------------------------------------


@dataclass(frozen=True)
class CourseAt:
    """The course's state at one moment: an event's Bundle tells the event's state, not today's."""

    state: str
    state_changed_at: datetime
    closed_at: datetime | None = None

    @classmethod
    def now(cls, course) -> "CourseAt":
        return cls(course.state, course.state_changed_at, course.closed_at)


def course_task(course, *, case, records=(), at: CourseAt | None = None) -> dict:
    """The course as a Task beside the referral's: `treatment-course`, basedOn the ServiceRequest,
    focus the latest of `records` (the Procedures the reader may see), its state in businessStatus."""
    at = at or CourseAt.now(course)
    changed = at.state_changed_at.isoformat()
    resource: dict = {
        "resourceType": "Task",
        "id": str(course.pk),
        "meta": {"lastUpdated": changed},
        "basedOn": [{"reference": urn(case.pk)}],
        "status": COURSE[at.state].fhir_task,  # businessStatus carries ours exactly
        "businessStatus": {"coding": [coding(TREATMENT_STATE_SYSTEM, at.state, CourseState(at.state).label)]},
        "intent": "order",
        "code": {
            "coding": [coding(TASK_SYSTEM, "treatment-course", "Treatment course")],
            "text": "Treatment course after the decision",
        },
        "for": patient_reference(case),
        "authoredOn": course.opened_at.isoformat(),
        "lastModified": changed,
    }
    if course.treated_at or at.closed_at:
        resource["executionPeriod"] = {
            key: value
            for key, value in (("start", _iso(course.treated_at)), ("end", _iso(at.closed_at)))
            if value
        }
    if records:
        records = sorted(records, key=lambda record: (record.administered_at, record.session))
        resource["focus"] = {"reference": urn(records[-1].pk)}
        kind = {"coding": [coding(TASK_SYSTEM, "treatment-record", "Signed treatment record")]}
        resource["output"] = [{"type": kind, "valueReference": {"reference": urn(r.pk)}} for r in records]
    return resource
