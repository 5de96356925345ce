"""A referral as FHIR R4: the ServiceRequest, a Task whose status follows the case,
and, once decided, a Provenance for the decision; after a treatment decision, what the partner's
subscriptions unlock of the course (clinic.web.fhir.aftercare). What a partner may see, no more:
like the JSON API, it never shows the draft."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from clinic.aftercare import reporting
from clinic.aftercare import selectors as course_selectors
from clinic.aftercare.vocabulary import AdverseEventSource, Triage
from clinic.web.fhir import (
    BASE,
    CONDITION_ROLE_SYSTEM,
    CONSENT_BY_SYSTEM,
    DECISION_SYSTEM,
    FINDING_SYSTEM,
    ICD10_CM,
    LOINC,
    SCREENING_QUESTIONNAIRE,
    STATUS_SYSTEM,
    UCUM,
)
from clinic.web.fhir.adverse_event_outbound import adverse_event, is_own
from clinic.web.fhir.aftercare import TASK_SYSTEM, body_site, course_task, procedure
from clinic.web.fhir.follow_up_outbound import observations
from clinic.web.fhir.supporting import ADDITIONAL
from clinic.web.notifications import needs_of
from intake.event_types import ADVERSE_EVENT, COURSE_CLOSED, FOLLOW_UP, TREATED, receives
from intake.models import CONTRAINDICATION_LABELS, Case, CaseStatus, ConsentBy, Priority
from intake.statuses import STATUS
from intake.vocabulary.findings import BY_KEY
from recommendations.selectors import decision_of

PLACER = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "PLAC"}]}
AUTHOR = {
    "coding": [
        {"system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type", "code": "author"}
    ]
}
TASK_NAMESPACE = uuid.UUID("6f1f7d0e-3c1b-4c55-9a57-1f0b8c1d2e3f")
NEEDS_SYSTEM = BASE + "CodeSystem/needs"  # codes: the members of the JSON referral's `needs`


@dataclass(frozen=True)
class AsOf:
    """The case's moving parts at one moment: a webhook renders its event's snapshot, not the case now.
    `needs` None: what the current draft asks."""

    status: str
    status_changed_at: datetime
    open_question: str
    needs: dict | None = None

    @classmethod
    def now(cls, case: Case) -> "AsOf":
        return cls(case.status, case.status_changed_at, case.open_question)


def _urn(value) -> str:
    return f"urn:uuid:{value}"


def task_id(case: Case) -> uuid.UUID:
    """Stable, so a partner polling the Task sees one resource change over time."""
    return uuid.uuid5(TASK_NAMESPACE, str(case.pk))


def _priority(case: Case) -> str:
    return "urgent" if case.priority == Priority.URGENT else "routine"


def _subject(case: Case) -> dict:
    return {"display": f"{case.patient.given_name} {case.patient.family_name}"}


def service_request(case: Case, at: AsOf | None = None, *, subject: dict | None = None) -> dict:
    """The referral. `subject` None: the patient by name, as the v1 reads and events carry it; the
    Bundles after the decision pass fhir.aftercare.patient_reference, which names no one."""
    at = at or AsOf.now(case)
    subject = subject or _subject(case)
    resource = {
        "resourceType": "ServiceRequest",
        "id": str(case.pk),
        "meta": {"lastUpdated": at.status_changed_at.isoformat()},
        "status": STATUS[at.status].fhir_request,
        "intent": "order",
        "priority": _priority(case),
        "code": {"text": "Stem cell therapy consult: local injection or intravenous infusion"},
        "subject": subject,
        "authoredOn": case.created_at.isoformat(),
        "reasonCode": [
            {"coding": [{"system": ICD10_CM, "code": case.condition_code}]}
            | ({"text": case.condition_text} if case.condition_text else {})
        ],
    }
    if case.external_id:
        resource["identifier"] = [{"type": PLACER, "value": case.external_id}]
    if case.affected_sites:
        resource["bodySite"] = [body_site(site) for site in case.affected_sites]
    if case.notes:
        resource["note"] = [{"text": case.notes}]
    contained = [finding(key, value) for key, value in (case.findings or {}).items() if key in BY_KEY]
    contained += [
        additional_condition(case, index, condition, subject=subject)
        for index, condition in enumerate(case.additional_conditions or [])
    ]
    if contained:
        resource["contained"] = contained
        resource["supportingInfo"] = [{"reference": f"#{part['id']}"} for part in contained]
    return resource


def finding(key: str, value) -> dict:
    """One finding as the Observation a partner would send for it (clinic.web.fhir.supporting)."""
    spec = BY_KEY[key]
    codings = [{"system": FINDING_SYSTEM, "code": key, "display": spec.label}]
    if spec.loinc:
        codings.append({"system": LOINC, "code": spec.loinc})
    resource = {
        "resourceType": "Observation",
        "id": f"finding-{key}".replace("_", "-"),
        "status": "final",
        "code": {"coding": codings, "text": spec.label},
    }
    if spec.unit and spec.type in ("integer", "decimal"):
        resource["valueQuantity"] = {"value": value, "unit": spec.unit, "system": UCUM, "code": spec.unit}
    else:
        element = {"integer": "valueInteger", "decimal": "valueQuantity", "date": "valueDateTime"}
        name = element.get(spec.type, "valueString")
        resource[name] = {"value": value} if name == "valueQuantity" else value
    return resource


def additional_condition(case: Case, index: int, condition: dict, *, subject: dict | None = None) -> dict:
    concept = {"coding": [{"system": ICD10_CM, "code": condition["icd10"]}]}
    if condition.get("description"):
        concept["text"] = condition["description"]
    return {
        "resourceType": "Condition",
        "id": f"additional-{index + 1}",
        "category": [{"coding": [{"system": CONDITION_ROLE_SYSTEM, "code": ADDITIONAL}]}],
        "code": concept,
        "subject": subject or _subject(case),
    }


def task(case: Case, at: AsOf | None = None) -> dict:
    at = at or AsOf.now(case)
    focus = {"reference": _urn(case.pk)}
    resource = {
        "resourceType": "Task",
        "id": str(task_id(case)),
        "meta": {"lastUpdated": at.status_changed_at.isoformat()},
        "basedOn": [focus],
        "status": STATUS[at.status].fhir_task,  # businessStatus carries ours exactly
        "businessStatus": {
            "coding": [{"system": STATUS_SYSTEM, "code": at.status, "display": CaseStatus(at.status).label}]
        },
        "intent": "order",
        "priority": _priority(case),
        # Coded, so a reader tells it from the treatment course's Task (clinic.web.fhir.aftercare).
        "code": {
            "coding": [{"system": TASK_SYSTEM, "code": "referral-review", "display": "Referral review"}],
            "text": "Specialist review of the referral",
        },
        "focus": focus,
        "for": _subject(case),
        "authoredOn": case.created_at.isoformat(),
        "lastModified": at.status_changed_at.isoformat(),
        "restriction": {"period": {"end": case.due_at.isoformat()}},
    }
    if at.status == CaseStatus.NEEDS_INFORMATION:
        if at.open_question:
            resource["statusReason"] = {"text": at.open_question}
        if inputs := needs_inputs(needs_of(case) if at.needs is None else at.needs):
            resource["input"] = inputs
    decision = _decision(case, at)
    if decision is not None:
        resource["output"] = [
            {"type": _decision_code("route"), "valueCode": decision.route},
            {"type": _decision_code("outcome"), "valueCode": decision.outcome},
            {"type": _decision_code("decided-at"), "valueDateTime": decision.decided_at.isoformat()},
        ] + ([{"type": _decision_code("reason"), "valueString": decision.reason}] if decision.reason else [])
    return resource


def needs_inputs(needs: dict) -> list[dict]:
    """The JSON referral's `needs` (clinic.web.notifications.needs_of) as Task inputs: one per item of a
    list member (valueString) and one per member that is true (valueBoolean); members not asked give
    none."""
    inputs = []
    for member, value in needs.items():
        kind = {"coding": [{"system": NEEDS_SYSTEM, "code": member}]}
        if isinstance(value, list):
            inputs += [{"type": kind, "valueString": str(item)} for item in value]
        elif value is True:
            inputs.append({"type": kind, "valueBoolean": True})
    return inputs


def _decision_code(code: str) -> dict:
    return {"coding": [{"system": DECISION_SYSTEM, "code": code}]}


def _decision(case: Case, at: AsOf):
    # The decision as it stood at `at`: none before the case was decided.
    return decision_of(case) if at.status == CaseStatus.DECIDED else None


def provenance(case: Case, decision) -> dict:
    return {
        "resourceType": "Provenance",
        "id": str(decision.pk),
        "target": [{"reference": _urn(case.pk)}, {"reference": _urn(task_id(case))}],
        "recorded": decision.decided_at.isoformat(),
        "activity": {
            "coding": [
                {
                    "system": DECISION_SYSTEM,
                    "code": decision.outcome,
                    "display": decision.get_outcome_display(),
                }
            ],
            "text": f"Specialist decision: {decision.get_outcome_display().lower()}, "
            f"route {decision.get_route_display().lower()}",
        },
        "agent": [{"type": AUTHOR, "who": {"display": "Consulting specialist"}}],
        # The decision's place in the clinic's tamper-evident audit chain (manage.py verify_audit).
        "entity": [
            {
                "role": "source",
                "what": {
                    "identifier": {"system": BASE + "audit-chain", "value": decision.row_hash},
                    "display": "The decision record in the clinic's audit trail",
                },
            }
        ],
    }


def referral_bundle(case: Case, at: AsOf | None = None) -> dict:
    """`at` None: the referral as its partner reads it now, with what follows the decision as its
    subscriptions unlock it. With `at`, a v1 event's snapshot: the v1 resources only (ServiceRequest,
    the referral Task, Provenance), whenever it is rendered."""
    now = at is None
    at = at or AsOf.now(case)
    entries = [(case.pk, service_request(case, at)), (task_id(case), task(case, at))]
    decision = _decision(case, at)
    if decision is not None:
        entries.append((decision.pk, provenance(case, decision)))
    if now and decision is not None:
        entries += partner_entries(case, case.partner)
    return collection(entries)


def partner_entries(case, partner) -> list[tuple[uuid.UUID, dict]]:
    """The resources after the decision a partner may read in its referral's Bundle, as its
    subscriptions unlock them (DESIGN.md, "Partners: events after the decision"): the Procedures
    with `referral.treated`; the course Task with it or `referral.course_closed`; its own
    adverse-event reports always, and the others staff confirmed with `referral.adverse_event`; one
    Observation per scored time point with `referral.follow_up`."""
    course = course_selectors.course_of(case.pk) if partner is not None else None
    if course is None:
        return []
    subscribed = partner.event_types or []
    records = list(course.records.all()) if receives(subscribed, TREATED) else []
    entries = [(record.pk, procedure(record, case=case)) for record in records]
    if receives(subscribed, TREATED) or receives(subscribed, COURSE_CLOSED):
        entries.append((course.pk, course_task(course, case=case, records=records)))
    others = receives(subscribed, ADVERSE_EVENT)
    for ae in reporting.adverse_events_of(case.pk):
        own = is_own(ae, partner)
        # As GET .../adverse-events/ reads them: a patient's flag only once staff confirmed it.
        if own or (others and ae.source != AdverseEventSource.PARTNER and ae.triage == Triage.CONFIRMED):
            entries.append((ae.pk, adverse_event(ae, case=case, records=records, own=own)))
    if receives(subscribed, FOLLOW_UP):
        entries += observations(case)
    return entries


def collection(entries: list[tuple]) -> dict:
    """A `collection` Bundle of (id, resource), each entry's fullUrl its urn:uuid."""
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": timezone.now().isoformat(),
        "entry": [{"fullUrl": _urn(key), "resource": resource} for key, resource in entries],
    }


def screening_questionnaire() -> dict:
    """The Questionnaire a referral's screening answers follow (its linkIds are what
    clinic.web.fhir.inbound reads)."""
    questions = [
        {"linkId": name, "text": f"{label}?", "type": "boolean", "required": True}
        for name, label in CONTRAINDICATION_LABELS.items()
    ]
    questions += [
        {
            "linkId": "consent_obtained",
            "text": "Has the patient given informed consent to the consult?",
            "type": "boolean",
            "required": True,
        },
        {"linkId": "goals", "text": "The patient's goals for treatment", "type": "text", "required": False},
        # Rule set v3 (DESIGN.md rule 6), all optional: consent alone means the patient's.
        {
            "linkId": "consent_by",
            "text": "Who gave the consent?",
            "type": "choice",
            "required": False,
            "answerOption": [
                {"valueCoding": {"system": CONSENT_BY_SYSTEM, "code": value, "display": label}}
                for value, label in ConsentBy.choices
            ],
        },
        {
            "linkId": "consent_form_version",
            "text": "The version of the consent form signed",
            "type": "string",
            "required": False,
            "maxLength": 32,
        },
        {
            "linkId": "assent",
            "text": "Has the minor patient given assent? (leave out when not recorded)",
            "type": "boolean",
            "required": False,
        },
        {
            "linkId": "breastfeeding",
            "text": "Breastfeeding? (leave out when not asked)",
            "type": "boolean",
            "required": False,
        },
    ]
    return {
        "resourceType": "Questionnaire",
        "id": "referral-screening",
        "url": SCREENING_QUESTIONNAIRE,
        "name": "ReferralScreening",
        "title": "Stem cell therapy referral: screening answers",
        "status": "active",
        "subjectType": ["Patient"],
        "description": (
            "Every required boolean item must be answered true or false with valueBoolean; a missing answer "
            "is refused, never taken as false."
        ),
        "item": questions,
    }
