"""What a partner is told after the decision (DESIGN.md, "Partners: events after the decision"): the
referral's `treatment`, and the optional `referral.treated`, `referral.course_closed` and
`referral.adverse_event` events, written in the transaction that caused them for subscribed partners
only, carrying the referral's ids and their own member, never a name, a product's code, lot or dose,
or free text, and delivered once the change commits."""

import json
import uuid

import pytest
from django.utils.dateparse import parse_datetime
from jsonschema import Draft202012Validator
from rest_framework.test import APIClient
from standardwebhooks import Webhook

from clinic.aftercare import adverse_events
from clinic.aftercare.courses import cancel_course, complete_course, move_course
from clinic.aftercare.models import AdverseEvent, TreatmentCourse
from clinic.aftercare.statuses import CourseState
from clinic.aftercare.vocabulary import AdverseEventSource
from clinic.web import tasks
from clinic.web.api import docs
from intake import event_types
from intake.models import Partner, PartnerNotification
from intake.workflow import Actor
from tests.aftercare.factories import make_course, make_performer, make_signed_treatment
from tests.factories import make_partner, make_referral, make_user
from tests.support import committed_db, wait_for
from tests.web.api.test_adverse_events_api import SERIOUS, report_body, reported

TREATED, CLOSED, AE = event_types.TREATED, event_types.COURSE_CLOSED, event_types.ADVERSE_EVENT
DESK = Actor(label="desk")
# What a partner must never be sent after the decision: what the factories put in the record.
NEVER = ("LOT-2026-0142", "BMAC-7Q4K-0091", "1200000000", "Bone marrow", "Dr. ", "Silva", "1961-04-02")


def client_for(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def rows(partner: Partner, event_type: str) -> list[PartnerNotification]:
    return list(
        PartnerNotification.objects.filter(partner=partner, event_type=event_type).order_by("created_at")
    )


def assert_nothing_private(payload: dict) -> None:
    sent = json.dumps(payload)
    assert not [word for word in NEVER if word in sent], sent


def subscribed(*types: str, **kwargs) -> tuple[Partner, str]:
    return make_partner(events=list(types), **kwargs)


@pytest.mark.django_db
def test_a_signed_treatment_tells_a_subscribed_partner_and_no_other():
    partner, _ = subscribed(TREATED)
    other, _ = make_partner()
    course, plain_course = make_course(partner=partner), make_course(partner=other)
    performer = make_performer()

    record = make_signed_treatment(course, performer)
    make_signed_treatment(plain_course)

    (row,) = rows(partner, TREATED)
    assert rows(other, TREATED) == [] and rows(other, "referral.decided")
    assert row.case_id == course.case_id and row.state == PartnerNotification.State.NO_URL
    data = row.payload["data"]
    assert set(data) == {"id", "external_id", "treatment"}
    assert (data["id"], data["external_id"]) == (str(course.case_id), course.case.external_id)
    treatment = data["treatment"]
    assert treatment | {"state_changed_at": None, "treated_at": None} == {
        "id": str(course.pk),
        "state": "treated",
        "state_changed_at": None,
        "treated_at": None,
        "route": "local_injection",
        "sites": ["right_knee"],
        "protocol": {"id": "knee-oa-bmac", "version": 1},
    }
    assert parse_datetime(treatment["treated_at"]) == record.administered_at
    assert_nothing_private(row.payload)
    assert performer.specialist_profile.full_name not in json.dumps(row.payload)


@pytest.mark.django_db
def test_each_session_of_a_staged_plan_sends_its_own_referral_treated():
    partner, _ = subscribed(TREATED)
    course = make_course(partner=partner)
    performer = make_performer()

    make_signed_treatment(course, performer)
    make_signed_treatment(course, performer, session=2)

    assert [row.payload["data"]["treatment"]["state"] for row in rows(partner, TREATED)] == ["treated"] * 2


@pytest.mark.django_db
def test_the_course_closing_tells_a_subscribed_partner_how_it_ended_without_the_reason():
    partner, _ = subscribed(CLOSED)
    completed, cancelled, lost = (make_course(partner=partner) for _ in range(3))
    make_signed_treatment(completed)
    make_signed_treatment(lost)

    complete_course(course_id=completed.pk, actor=DESK, note="All went well.")
    cancel_course(course_id=cancelled.pk, actor=DESK, reason="The patient chose another clinic.")
    for state in (CourseState.FOLLOWING_UP, CourseState.LOST_TO_FOLLOW_UP):
        move_course(course=TreatmentCourse.objects.get(pk=lost.pk), to_state=state, actor=DESK)

    sent = {row.case_id: row.payload for row in rows(partner, CLOSED)}
    assert set(sent) == {completed.case_id, cancelled.case_id, lost.case_id}
    for course, state in ((completed, "completed"), (cancelled, "cancelled"), (lost, "lost_to_follow_up")):
        treatment = sent[course.case_id]["data"]["treatment"]
        closed = TreatmentCourse.objects.get(pk=course.pk).closed_at
        assert (treatment["id"], treatment["state"]) == (str(course.pk), state)
        assert parse_datetime(treatment["closed_at"]) == closed
    said = json.dumps(list(sent.values()))
    assert "another clinic" not in said and "went well" not in said
    assert len(rows(partner, CLOSED)) == 3  # treated and following_up tell nothing


def staff_report(course: TreatmentCourse, **changes) -> object:
    values = report_body(description="Clinic's note: febrile, admitted.") | changes
    for name in ("external_id", "reporter"):
        values.pop(name)
    return adverse_events.report_adverse_event(
        course_id=course.pk, source=AdverseEventSource.STAFF, actor=DESK, values=values
    )


@pytest.mark.django_db
def test_staff_confirming_a_serious_adverse_event_tells_a_subscribed_partner():
    partner, _ = subscribed(AE)
    other, _ = make_partner()
    course = make_course(partner=partner)

    staff_report(course)  # not serious: nothing is sent, as in the sandbox
    serious = staff_report(course, **SERIOUS)
    staff_report(make_course(partner=other), **SERIOUS)

    (row,) = rows(partner, AE)
    assert rows(other, AE) == []
    data = row.payload["data"]
    assert set(data) == {"id", "external_id", "adverse_event"}
    assert data["adverse_event"] == {
        "id": str(serious.pk),
        "onset": serious.onset.isoformat(),
        "ctcae_grade": 3,
        "serious": True,
        "seriousness_criteria": ["hospitalization"],
        "outcome": "recovering",
        "received_at": data["adverse_event"]["received_at"],
        "source": "staff",
    }
    assert parse_datetime(data["adverse_event"]["received_at"]) == serious.received_at
    assert "Clinic's note" not in json.dumps(row.payload)


@pytest.mark.django_db
def test_a_partners_serious_report_is_sent_once_staff_confirm_it_and_an_update_that_makes_one_serious():
    partner, key = subscribed(AE)
    ids = reported(partner)  # not serious, waiting for triage
    course = TreatmentCourse.objects.get(case_id=ids["id"])
    path = f"/api/v1/referrals/{ids['id']}/adverse-events/"
    received = client_for(key).post(path, report_body("AE-9", **SERIOUS), format="json").json()
    assert rows(partner, AE) == []  # untriaged: it has not left the partner's hands for staff yet

    ae = AdverseEvent.objects.get(pk=received["id"])
    adverse_events.triage_adverse_event(
        adverse_event_id=ae.pk, user=make_user(group="Front desk"), version=ae.version, confirm=True
    )
    update = {"external_id": "U-1", "serious": True, "seriousness_criteria": ["hospitalization"]}
    made_serious = client_for(key).post(f"{path}{ids['ae_id']}/updates/", update, format="json")

    assert made_serious.status_code == 201, made_serious.content
    sent = [row.payload["data"]["adverse_event"] for row in rows(partner, AE)]
    assert [(item["id"], item["source"], item["serious"]) for item in sent] == [
        (received["id"], "partner", True),
        (str(ids["ae_id"]), "partner", True),
    ]
    assert course.case.external_id and "Swelling" not in json.dumps(sent)


@pytest.mark.django_db
def test_the_referral_and_its_events_carry_the_treatment_as_it_moves():
    partner, key = make_partner()
    waiting = make_referral(partner, external_id="RF-wait")
    course = make_course(partner=partner)
    (decided,) = rows(partner, "referral.decided")

    assert client_for(key).get(f"/api/v1/referrals/{waiting.pk}/").json()["treatment"] is None
    scheduled = client_for(key).get(f"/api/v1/referrals/{course.case_id}/").json()["treatment"]
    make_signed_treatment(course)
    treated = client_for(key).get(f"/api/v1/referrals/{course.case_id}/").json()["treatment"]

    assert set(scheduled) == {"id", "state", "state_changed_at"}
    assert (scheduled["id"], scheduled["state"]) == (str(course.pk), "scheduled")
    assert (treated["id"], treated["state"]) == (str(course.pk), "treated")
    assert parse_datetime(treated["state_changed_at"]) >= parse_datetime(scheduled["state_changed_at"])
    listed = client_for(key).get("/api/v1/referrals/").json()["results"]
    assert {item["id"]: item["treatment"] for item in listed}[str(course.case_id)]["state"] == "treated"
    # The decision opened the course in its own transaction: referral.decided already names it.
    assert decided.payload["data"]["treatment"]["id"] == str(course.pk)


@pytest.mark.django_db
def test_the_catalogue_lists_the_types_after_the_decision_as_optional():
    partner, key = subscribed(TREATED)

    listed = {entry["name"]: entry for entry in client_for(key).get("/api/v1/event-types/").json()}

    assert {
        name: (listed[name]["always_on"], listed[name]["receives"]) for name in (TREATED, CLOSED, AE)
    } == {
        TREATED: (False, True),
        CLOSED: (False, False),
        AE: (False, False),
    }
    schema = Draft202012Validator(listed[AE]["payload_schema"])
    assert list(schema.iter_errors(docs.EXAMPLE_ADVERSE_EVENT)) == []
    without = docs.EXAMPLE_ADVERSE_EVENT | {"data": {"id": str(uuid.uuid4()), "external_id": "RF-1"}}
    assert not schema.is_valid(without)
    assert make_partner(sandbox=True)[0].event_types == list(event_types.OPTIONAL)


@pytest.mark.django_db
def test_a_fhir_partner_receives_each_event_as_a_bundle_its_catalogue_schema_accepts(receiver):
    endpoint = receiver()
    partner, key = subscribed(TREATED, CLOSED, AE, webhook_url=endpoint.url, webhook_format="fhir")
    course = make_course(partner=partner)
    make_signed_treatment(course)
    staff_report(course, **SERIOUS)
    complete_course(course_id=course.pk, actor=DESK)

    tasks.deliver_due_notifications()

    schemas = {
        entry["name"]: Draft202012Validator(entry["payload_schema"])
        for entry in client_for(key).get("/api/v1/event-types/").json()
    }
    bodies = {json.loads(body)["type"]: json.loads(body) for _, body in endpoint.received}
    assert set(bodies) >= {TREATED, CLOSED, AE}
    for name in (TREATED, CLOSED, AE):
        assert bodies[name]["data"]["resourceType"] == "Bundle"
        assert list(schemas[name].iter_errors(bodies[name])) == [], name
        assert_nothing_private(bodies[name])


@pytest.mark.worker
@committed_db
def test_a_real_worker_delivers_referral_treated_after_the_signing_commits(celery_worker_process, receiver):
    endpoint = receiver()
    partner, _ = subscribed(TREATED, webhook_url=endpoint.url)
    course = make_course(partner=partner)
    assert wait_for(lambda: len(endpoint.received) == 1, timeout=30)  # referral.decided

    make_signed_treatment(course)  # committed: its delivery is queued

    assert wait_for(lambda: len(endpoint.received) == 2, timeout=30)
    headers, body = next((h, b) for h, b in endpoint.received if json.loads(b)["type"] == TREATED)
    assert Webhook(partner.webhook_secret).verify(body, headers)["data"]["treatment"]["id"] == str(course.pk)
    (row,) = rows(partner, TREATED)
    assert wait_for(lambda: PartnerNotification.objects.get(pk=row.pk).state == "delivered")
    assert tasks.deliver_due_notifications() == 0  # nothing left for the sweep


PATIENT = {
    "given_name": "Zoraida",
    "family_name": "Quetzalcoatl",
    "birth_date": "1958-11-23",
    "sex": "female",
    "phone": "+15557654321",
    "email": "zoraida@example.org",
}


def private_values(course: TreatmentCourse, record, performer) -> list[str]:
    """Everything of the patient, the product, the staff and the clinic's own text in the record."""
    patient = course.case.patient
    return [
        patient.given_name,
        patient.family_name,
        patient.birth_date.isoformat(),
        patient.birth_date.strftime("%m/%d/%Y"),
        patient.mrn,
        patient.phone,
        patient.email,
        record.lot,
        record.distinct_code,
        record.product_kind,
        record.processing_facility,
        str(record.dose_tnc),
        performer.specialist_profile.full_name,
        record.signed_name,
        record.notes,
        record.route_reason,
        "Clinic's note: febrile, admitted.",  # the staff report's description
        "Ice and rest.",  # its action taken
        "All went well.",  # the note closing the course
        "The patient chose another clinic.",  # the reason cancelling one
    ]


@pytest.mark.parametrize("webhook_format", ["json", "fhir"])
@pytest.mark.django_db
def test_no_event_after_the_decision_carries_the_patient_the_product_a_name_or_the_clinics_text(
    webhook_format, receiver
):
    endpoint = receiver()
    partner, key = subscribed(TREATED, CLOSED, AE, webhook_url=endpoint.url, webhook_format=webhook_format)
    # Additional conditions: the ServiceRequest contains a Condition per condition, each with a subject.
    conditions = [{"icd10": "I10", "description": "Hypertension"}, {"icd10": "E11.9"}]
    course = make_course(partner=partner, patient=PATIENT, additional_conditions=conditions)
    cancelled = make_course(partner=partner, patient=PATIENT | {"email": "other@example.org"})
    performer = make_performer()
    record = make_signed_treatment(
        course, performer, notes="Tolerated well, mild discomfort at the needle site."
    )
    staff_report(course, **SERIOUS)
    complete_course(course_id=course.pk, actor=DESK, note="All went well.")
    cancel_course(course_id=cancelled.pk, actor=DESK, reason="The patient chose another clinic.")

    tasks.deliver_due_notifications()
    PartnerNotification.objects.update(feed_txid=0)  # the feed waits for the test's own transaction
    fed = client_for(key).get("/api/v1/events/", {"types": ",".join((TREATED, CLOSED, AE))}).json()

    sent = [json.loads(body) for _, body in endpoint.received]
    sent = [body for body in sent if body["type"] in (TREATED, CLOSED, AE)]
    assert sorted(body["type"] for body in sent) == sorted([TREATED, AE, CLOSED, CLOSED])
    assert sorted(event["type"] for event in fed["events"]) == sorted(body["type"] for body in sent)
    shape = "Bundle" if webhook_format == "fhir" else None
    assert {body["data"].get("resourceType") for body in sent} == {shape}
    secrets = [value for value in private_values(course, record, performer) if value]
    for body in sent + fed["events"]:
        text = json.dumps(body, ensure_ascii=False)
        assert [secret for secret in secrets if secret in text] == [], (body["type"], text)
