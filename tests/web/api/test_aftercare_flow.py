"""Issue #25's API path, end to end through the real services: a partner's referral is decided, its
treatment course is scheduled and treated, the partner reports a serious adverse event over the API
(a retry makes one record), staff triage and assess it, a reporting clock runs and shows on the
desk's page of the event, the MedWatch data sheet prints, and the subscribed partner's outbox holds
`referral.treated` and `referral.adverse_event` with the right data and nothing private."""

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from clinic.aftercare.adverse_events import assess_adverse_event, triage_adverse_event
from clinic.aftercare.courses import schedule_course
from clinic.aftercare.models import AdverseEvent, ReportingClock, TreatmentCourse
from clinic.aftercare.treatments import sign_treatment
from clinic.web.api import throttle
from intake import event_types
from intake.models import PartnerNotification
from intake.workflow import Actor
from recommendations import review
from recommendations.services import make_draft
from tests.aftercare.factories import HEART_FAILURE_REFERRAL, make_course, make_performer, treatment_values
from tests.factories import make_partner, make_user, referral_body
from tests.support import at_once, committed_db
from tests.web.api.test_adverse_events_api import report_body

TREATED, ADVERSE_EVENT = event_types.TREATED, event_types.ADVERSE_EVENT


@pytest.fixture(autouse=True)
def fresh_throttle():
    throttle.store(settings.CACHE_URL).reset()


def client_for(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def outbox(partner, event_type: str) -> dict:
    (row,) = PartnerNotification.objects.filter(partner=partner, event_type=event_type)
    return row.payload


@pytest.mark.django_db
def test_a_referral_goes_from_decision_to_a_printed_medwatch_sheet_over_the_api(client):
    partner, key = make_partner(events=[TREATED, ADVERSE_EVENT])
    api = client_for(key)
    desk = make_user(group="Front desk")
    specialist = make_performer()

    # The partner refers a heart-failure patient; the draft says infusion under the IND protocol.
    sent = referral_body(external_id="RF-FLOW", **HEART_FAILURE_REFERRAL)
    created = api.post("/api/v1/referrals/", sent, format="json")
    assert created.status_code == 201, created.content
    referral = f"/api/v1/referrals/{created.json()['id']}/"
    make_draft(case_id=created.json()["id"])
    review.approve_draft(case_id=created.json()["id"], user=specialist)
    decided = api.get(referral).json()
    assert (decided["decision"]["route"], decided["decision"]["protocol"]["id"]) == (
        "intravenous",
        "hf-msc-ind",
    )
    assert decided["treatment"]["state"] == "scheduled"

    # The desk books the session; the performer signs the treatment record.
    course = TreatmentCourse.objects.get(case_id=created.json()["id"])
    schedule_course(course_id=course.pk, actor=Actor.of_user(desk), appointment_at=timezone.now())
    sign_treatment(user=specialist, course_id=course.pk, values=treatment_values(course, specialist))
    assert api.get(referral).json()["treatment"]["state"] == "treated"

    # Two days later the partner reports a hospitalization, and its client retries the POST.
    serious = {"serious": True, "seriousness_criteria": ["hospitalization"], "ctcae_grade": 3}
    body = report_body("AE-FLOW", **serious)
    key_header = {"Idempotency-Key": "ae-flow-1"}
    first = api.post(f"{referral}adverse-events/", body, format="json", headers=key_header)
    retry = api.post(f"{referral}adverse-events/", body, format="json", headers=key_header)
    assert first.status_code == 201, first.content
    assert (retry.status_code, retry.json(), retry["Idempotent-Replayed"]) == (201, first.json(), "true")
    (ae,) = AdverseEvent.objects.filter(case_id=course.case_id)
    assert str(ae.pk) == first.json()["id"] and ae.triage == "received"

    # Staff confirm it; the specialist finds it unexpected and possibly related: an IND safety report.
    ae = triage_adverse_event(adverse_event_id=ae.pk, user=desk, version=ae.version, confirm=True)
    ae = assess_adverse_event(
        adverse_event_id=ae.pk,
        user=specialist,
        version=ae.version,
        values={"expected": False, "relatedness_product": "possible"},
    )
    clock = ReportingClock.objects.get(adverse_event=ae, rule="ind_safety_report_15_day")
    days = timezone.localtime(clock.due_at).date() - timezone.localtime(clock.starts_at).date()
    assert clock.state == "open" and days == timedelta(days=15)

    # The desk's page of the event shows the clock; the data sheet prints with the case reference.
    client.force_login(desk)
    page = client.get(reverse("desk:adverse-event", kwargs={"ae_id": ae.pk}))
    sheet = client.get(reverse("desk:medwatch", kwargs={"ae_id": ae.pk}))
    assert page.status_code == 200 and sheet.status_code == 200
    shown = page.content.decode()
    assert clock.citation in shown and clock.recipient in shown
    assert f"{timezone.localtime(clock.due_at):%Y-%m-%d}" in shown
    assert course.case.reference in sheet.content.decode() and "3500A" in sheet.content.decode()

    # The partner was told of the treatment and of the confirmed serious event, and of nothing private.
    treated, adverse = outbox(partner, TREATED), outbox(partner, ADVERSE_EVENT)
    assert treated["data"]["treatment"] | {"state_changed_at": "", "treated_at": ""} == {
        "id": str(course.pk),
        "state": "treated",
        "state_changed_at": "",
        "treated_at": "",
        "route": "intravenous",
        "sites": [],
        "protocol": {"id": "hf-msc-ind", "version": 1},
    }
    assert adverse["data"]["adverse_event"] | {"received_at": ""} == {
        "id": str(ae.pk),
        "onset": body["onset"],
        "ctcae_grade": 3,
        "serious": True,
        "seriousness_criteria": ["hospitalization"],
        "outcome": "recovering",
        "received_at": "",
        "source": "partner",
    }
    said = json.dumps([treated, adverse])
    patient = course.case.patient
    for private in (
        patient.family_name,
        patient.given_name,
        f"{patient.birth_date:%Y-%m-%d}",
        "LOT-2026-0142",
        "BMAC-7Q4K-0091",
        "1200000000",
        specialist.specialist_profile.full_name,
        body["description"],
        body["reporter"]["name"],
    ):
        assert private not in said, private


@committed_db
def test_the_same_report_posted_at_once_without_a_key_is_stored_once():
    assert connection.vendor == "postgresql"
    partner, key = make_partner()
    course = make_course(partner=partner)
    path = f"/api/v1/referrals/{course.case_id}/adverse-events/"
    body = report_body("AE-RACE")

    def send():
        response = client_for(key).post(path, body, format="json")
        return response.status_code, response.json()

    results = at_once(*[send] * 6)

    (created,) = [data for status, data in results if status == 201]
    refused = [data for status, data in results if status != 201]
    assert len(refused) == 5, results
    assert {data["type"] for data in refused} == {
        "https://clinic.example.org/problems/duplicate-adverse-event"
    }
    assert {data["adverse_event_id"] for data in refused} == {created["id"]}
    assert AdverseEvent.objects.filter(partner=partner, external_id="AE-RACE").count() == 1
