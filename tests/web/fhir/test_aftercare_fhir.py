"""What follows the decision, read as FHIR: the treatment record as a Procedure, the course as a
second Task and adverse events as AdverseEvents, in the referral's Bundle as the partner's
subscriptions unlock them and in the FHIR events; never the product's code, lot or dose, a staff
member's name or the patient's, and a v1 event's Bundle stays v1."""

import json

import pytest
from django.utils import timezone
from fhir.resources.R4B.adverseevent import AdverseEvent
from fhir.resources.R4B.biologicallyderivedproduct import BiologicallyDerivedProduct
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.procedure import Procedure
from fhir.resources.R4B.task import Task
from standardwebhooks import Webhook

from clinic.aftercare import adverse_events, courses
from clinic.aftercare.models import TreatmentCourse
from clinic.web import webhooks
from clinic.web.fhir.adverse_event_outbound import CTCAE_GRADE, SERIOUSNESS_CRITERIA, seriousness
from clinic.web.fhir.aftercare import R5_PROCEDURE_USED, CourseAt, course_task, procedure
from clinic.web.fhir.outbound import referral_bundle
from intake.models import Case, PartnerNotification
from intake.workflow import Actor
from recommendations.selectors import with_decision
from tests.aftercare.factories import make_course, make_signed_treatment
from tests.factories import make_partner

AFTER = ["referral.treated", "referral.course_closed", "referral.adverse_event"]
DESK = Actor(label="desk: test")


def bundle(case: Case) -> list[dict]:
    """The referral's Bundle as its partner reads it now, after checking it is valid FHIR."""
    case = with_decision(Case.objects.select_related("patient", "partner")).get(pk=case.pk)
    read = referral_bundle(case)
    Bundle.model_validate(read)
    return [entry["resource"] for entry in read["entry"]]


def codes(resource: dict, key: str = "code") -> list[str]:
    return [coding["code"] for coding in resource[key]["coding"]]


def report(course: TreatmentCourse, *, source: str = "staff", partner=None, **changes):
    values = dict(
        onset=timezone.localdate(),
        description="Knee swollen and warm the next day.",
        ctcae_grade=2,
        serious=False,
        seriousness_criteria=[],
        outcome="recovering",
        action_taken="",
        reporter={"name": "Nurse Joy Park", "qualification": "other_health_professional"},
        relatedness_opinion="possible",
    )
    return adverse_events.report_adverse_event(
        course_id=course.pk,
        source=source,
        actor=DESK if partner is None else Actor(label=f"partner: {partner.name}"),
        values=values | changes,
        partner=partner,
        external_id=f"AE-{changes.get('ctcae_grade', 2)}-{source}" if partner else None,
    )


def leaked(resource: dict, case: Case, record=None) -> list[str]:
    """What must never reach a partner in a resource after the decision."""
    text = json.dumps(resource)
    secrets = [case.patient.given_name, case.patient.family_name, case.patient.birth_date.isoformat()]
    if record is not None:
        secrets += [record.lot, record.distinct_code, str(record.dose_tnc), record.signed_name]
    return [secret for secret in secrets if secret in text]


@pytest.mark.django_db
def test_a_subscribed_partner_reads_the_procedure_and_the_course_task_after_the_referral_task():
    partner, _ = make_partner(events=AFTER)
    course = make_course(partner=partner)
    record = make_signed_treatment(course)

    resources = bundle(course.case)

    assert [r["resourceType"] for r in resources] == [
        "ServiceRequest",
        "Task",
        "Provenance",
        "Procedure",
        "Task",
    ]
    request, review_task, _, treatment, course_resource = resources
    assert codes(review_task) == ["referral-review"] and review_task["status"] == "completed"
    assert codes(course_resource) == ["treatment-course"]
    assert course_resource["basedOn"] == [{"reference": f"urn:uuid:{request['id']}"}]
    assert course_resource["focus"] == {"reference": f"urn:uuid:{record.pk}"}
    assert course_resource["status"] == "in-progress" and codes(course_resource, "businessStatus") == [
        "treated"
    ]
    assert treatment["status"] == "completed" and treatment["basedOn"] == course_resource["basedOn"]
    assert treatment["performedDateTime"] == record.administered_at.isoformat()
    assert treatment["bodySite"][0]["coding"][0]["code"] == "right_knee"
    assert codes(treatment["performer"][0], "function") == ["physician"]
    protocol = {part["url"]: part for part in treatment["extension"][0]["extension"]}
    assert protocol["id"]["valueString"] == record.protocol_id
    # The partner's Procedure: no product, no dose, nobody's name.
    assert "contained" not in treatment and R5_PROCEDURE_USED not in json.dumps(treatment)
    assert leaked(treatment, course.case, record) == [] and leaked(course_resource, course.case, record) == []


@pytest.mark.django_db
def test_without_subscriptions_the_bundle_adds_only_the_partners_own_reports():
    partner, _ = make_partner()
    course = make_course(partner=partner)
    make_signed_treatment(course)
    report(course)  # staff's, confirmed: not this partner's to read
    assert [r["resourceType"] for r in bundle(course.case)] == ["ServiceRequest", "Task", "Provenance"]

    own = report(course, source="partner", partner=partner, ctcae_grade=1)

    *_, event = bundle(course.case)
    assert event["resourceType"] == "AdverseEvent" and event["id"] == str(own.pk)
    assert event["event"]["text"] == own.description and event["identifier"]["value"] == own.external_id
    # Its Bundle holds no Procedure, so the report names the referral as its suspect.
    assert event["suspectEntity"][0]["instance"] == {"reference": f"urn:uuid:{course.case_id}"}


@pytest.mark.django_db
def test_a_confirmed_report_of_others_shows_its_codes_only_to_a_partner_subscribed_to_adverse_events():
    partner, _ = make_partner(events=AFTER)
    course = make_course(partner=partner)
    record = make_signed_treatment(course)
    staff = report(course, serious=True, seriousness_criteria=["hospitalization"], ctcae_grade=3)

    event = next(r for r in bundle(course.case) if r["resourceType"] == "AdverseEvent")

    assert event["id"] == str(staff.pk) and event["actuality"] == "actual"
    assert event["date"] == staff.onset.isoformat() and event["recordedDate"] == staff.received_at.isoformat()
    assert codes(event, "seriousness") == ["SeriousResultsInHospitalization"]
    assert {"url": CTCAE_GRADE, "valueInteger": 3} in event["extension"]
    assert {"url": SERIOUSNESS_CRITERIA, "valueCode": "hospitalization"} in event["extension"]
    assert event["suspectEntity"][0]["instance"] == {"reference": f"urn:uuid:{record.pk}"}
    # Not the partner's own report: no description, no reporter, no severity (grades 4-5 do not fit it).
    assert not {"event", "recorder", "contained", "identifier", "severity"} & set(event)
    assert "Nurse Joy Park" not in json.dumps(event)


@pytest.mark.django_db
def test_the_clinics_full_procedure_carries_the_product_through_r5s_used_and_the_dose():
    course = make_course()
    record = make_signed_treatment(course)

    full = procedure(record, case=course.case, full=True)

    Procedure.model_validate(full)
    (used,) = [ext for ext in full["extension"] if ext["url"] == R5_PROCEDURE_USED]
    assert used["valueReference"] == {"reference": "#product"}
    (product,) = full["contained"]
    BiologicallyDerivedProduct.model_validate(product)
    assert product["productCategory"] == "cells" and product["productCode"]["text"] == record.product_kind
    assert {i["value"] for i in product["identifier"]} == {record.distinct_code, record.lot}
    (dose,) = [ext for ext in full["extension"] if ext["url"].endswith("/cell-dose")]
    values = {part["url"]: part["valueQuantity"]["value"] for part in dose["extension"]}
    assert values == {"totalNucleatedCells": record.dose_tnc, "viability": 92.5, "volume": 6.0}
    assert record.signed_name in full["performer"][0]["actor"]["display"]
    # The partner's view of the same record has none of it.
    assert leaked(procedure(record, case=course.case), course.case, record) == []


# DESIGN.md, "The treatment course": the course Task's status for each state.
@pytest.mark.django_db
@pytest.mark.parametrize(
    "state, status",
    [
        ("scheduled", "accepted"),
        ("treated", "in-progress"),
        ("following_up", "in-progress"),
        ("completed", "completed"),
        ("cancelled", "cancelled"),
        ("lost_to_follow_up", "failed"),
    ],
)
def test_the_course_tasks_status_follows_the_course_state(state, status):
    course = make_course()
    resource = course_task(course, case=course.case, at=CourseAt(state, timezone.now()))
    Task.model_validate(resource)
    assert resource["status"] == status and codes(resource, "businessStatus") == [state]
    assert "focus" not in resource  # no Procedure yet


@pytest.mark.parametrize(
    "serious, criteria, code",
    [
        (False, [], "Non-serious"),
        (True, ["death"], "SeriousResultsInDeath"),
        (True, ["life_threatening"], "SeriousIsLifeThreatening"),
        (True, ["disability"], "SeriousResultsInDisability"),
        (True, ["congenital_anomaly"], "SeriousIsBirthDefect"),
        (True, ["medical_intervention"], "SeriousRequiresPreventImpairment"),
        (True, ["important_medical_event"], "Serious"),
        (True, ["death", "hospitalization"], "Serious"),
    ],
)
def test_seriousness_is_hl7s_code_for_one_criterion_and_serious_otherwise(serious, criteria, code):
    assert codes({"code": seriousness(serious, criteria)}) == [code]


@pytest.mark.django_db
def test_an_own_report_carries_outcome_causality_and_reporter_in_hl7s_codes():
    partner, _ = make_partner()
    course = make_course(partner=partner)
    report(
        course,
        source="partner",
        partner=partner,
        outcome="resolved_with_sequelae",
        relatedness_opinion="probable",
        reporter={"name": "Ana Silva", "qualification": "patient"},
    )

    (event,) = [r for r in bundle(course.case) if r["resourceType"] == "AdverseEvent"]

    AdverseEvent.model_validate(event)
    assert codes(event, "outcome") == ["resolvedWithSequelae"]
    (causality,) = event["suspectEntity"][0]["causality"]
    assert codes(causality, "assessment") == ["Probably-Likely"]
    assert event["recorder"] == {"reference": "#reporter"} == causality["author"]
    (reporter,) = event["contained"]
    assert reporter["resourceType"] == "RelatedPerson" and reporter["name"] == [{"text": "Ana Silva"}]
    assert [c["code"] for c in reporter["relationship"][0]["coding"]] == ["patient", "ONESELF"]


@pytest.mark.django_db
def test_a_fhir_partner_receives_referral_treated_as_a_procedure_the_course_task_and_the_request(receiver):
    endpoint = receiver()
    partner, _ = make_partner(webhook_url=endpoint.url, webhook_format="fhir", events=AFTER)
    course = make_course(partner=partner)
    record = make_signed_treatment(course)
    notification = PartnerNotification.objects.get(case=course.case, event_type="referral.treated")

    assert webhooks.deliver(notification_id=notification.pk) == "delivered"

    ((headers, body),) = endpoint.received
    payload = Webhook(partner.webhook_secret).verify(body, headers)
    assert payload["type"] == "referral.treated"
    Bundle.model_validate(payload["data"])
    assert payload["data"]["type"] == "collection"
    treatment, course_resource, request = [entry["resource"] for entry in payload["data"]["entry"]]
    assert (treatment["resourceType"], treatment["id"]) == ("Procedure", str(record.pk))
    assert codes(course_resource) == ["treatment-course"] and course_resource["status"] == "in-progress"
    assert (
        request["resourceType"] == "ServiceRequest"
        and request["identifier"][0]["value"] == course.case.external_id
    )
    assert leaked(payload["data"], course.case, record) == []


@pytest.mark.django_db
def test_referral_course_closed_carries_the_course_task_as_it_closed():
    partner, _ = make_partner(webhook_format="fhir", events=AFTER)
    course = make_course(partner=partner)
    record = make_signed_treatment(course)
    courses.complete_course(course_id=course.pk, actor=DESK)
    notification = PartnerNotification.objects.get(case=course.case, event_type="referral.course_closed")

    data = webhooks.payload_as_sent(notification)["data"]

    Bundle.model_validate(data)
    course_resource, request = [entry["resource"] for entry in data["entry"]]
    assert course_resource["status"] == "completed" and codes(course_resource, "businessStatus") == [
        "completed"
    ]
    assert course_resource["focus"] == {"reference": f"urn:uuid:{record.pk}"}
    assert request["resourceType"] == "ServiceRequest" and leaked(data, course.case, record) == []


@pytest.mark.django_db
def test_referral_adverse_event_carries_the_event_as_reported_then_and_the_request():
    partner, _ = make_partner(webhook_format="fhir", events=AFTER)
    course = make_course(partner=partner)
    make_signed_treatment(course)
    staff = report(course, serious=True, seriousness_criteria=["hospitalization"], ctcae_grade=3)
    notification = PartnerNotification.objects.get(case=course.case, event_type="referral.adverse_event")

    data = webhooks.payload_as_sent(notification)["data"]

    Bundle.model_validate(data)
    event, request = [entry["resource"] for entry in data["entry"]]
    assert event["id"] == str(staff.pk) and codes(event, "seriousness") == ["SeriousResultsInHospitalization"]
    assert "event" not in event and request["resourceType"] == "ServiceRequest"
    assert leaked(data, course.case) == [] and "Nurse Joy Park" not in json.dumps(data)


@pytest.mark.django_db
def test_a_v1_event_rendered_after_the_treatment_holds_only_the_v1_resources():
    partner, _ = make_partner(webhook_format="fhir", events=AFTER)
    course = make_course(partner=partner)
    make_signed_treatment(course)
    decided = PartnerNotification.objects.get(case=course.case, event_type="referral.decided")

    data = webhooks.payload_as_sent(decided)["data"]

    assert [e["resource"]["resourceType"] for e in data["entry"]] == ["ServiceRequest", "Task", "Provenance"]
