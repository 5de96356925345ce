"""The sandbox's simulated course (DESIGN.md, "Partners: events after the decision", Sandbox): after
the automatic approval of a sandbox referral, a synthetic treatment record signed by the sandbox's
signer (so a subscribed partner receives referral.treated), and for `approve-ae-` / `approve-sae-`
an adverse event on day 1; every step does nothing the second time."""

import pytest
from rest_framework.test import APIClient
from standardwebhooks import Webhook

from clinic.aftercare import adverse_events, sandbox
from clinic.aftercare.courses import CourseMoved
from clinic.aftercare.models import AdverseEvent, TreatmentCourse, TreatmentRecord
from intake.audit import verify_chains
from intake.models import PartnerNotification
from tests.aftercare.factories import make_course
from tests.factories import make_partner, referral_body
from tests.support import committed_db, wait_for

# H2's adverse-event service (#25) reports the day-1 event; without it only the treatment is simulated.
needs_adverse_events = pytest.mark.skipif(
    not hasattr(adverse_events, "report_adverse_event"),
    reason="clinic.aftercare.adverse_events not written yet",
)


@pytest.mark.parametrize(
    ("external_id", "kind"),
    [
        ("approve-1", None),
        ("approve-ae-7", "non_serious"),
        ("APPROVE-SAE-7", "serious"),
        ("RF-1001", None),
        ("", None),
    ],
)
def test_the_external_ids_prefix_chooses_the_day_1_adverse_event(external_id, kind):
    assert sandbox.adverse_event_kind(external_id) == kind


def test_only_the_opening_of_a_sandbox_course_starts_the_simulation():
    opened = CourseMoved(
        course_id=None, case_id=None, from_state="", to_state="scheduled", actor_label="x", sandbox=True
    )

    assert sandbox.owes_simulation(opened)
    assert not sandbox.owes_simulation(opened.__class__(**{**opened.__dict__, "sandbox": False}))
    assert not sandbox.owes_simulation(opened.__class__(**{**opened.__dict__, "from_state": "scheduled"}))


@pytest.mark.django_db
def test_day_0_signs_a_synthetic_record_as_the_sandbox_and_only_once():
    course = make_course(sandbox=True)

    record = sandbox.simulate_treatment(course_id=course.pk)

    course.refresh_from_db()
    assert course.state == "treated" and course.treated_at == record.administered_at
    assert record.signed_credentials == "not a clinical decision"
    assert not record.performer.is_active  # the sandbox's signer cannot sign in
    assert record.distinct_code.startswith("SANDBOX-") and record.notes.startswith("Sandbox:")
    assert record.sites == course.decision.sites
    assert sandbox.simulate_treatment(course_id=course.pk) is None  # a second run changes nothing
    assert TreatmentRecord.objects.filter(course=course).count() == 1
    assert list(verify_chains()) == []


@pytest.mark.django_db
def test_the_sandbox_never_treats_a_live_course():
    course = make_course()

    assert sandbox.simulate_treatment(course_id=course.pk) is None
    assert TreatmentCourse.objects.get(pk=course.pk).state == "scheduled"
    assert not sandbox.owes_adverse_event(course.pk)


@pytest.mark.django_db
def test_a_subscribed_sandbox_partner_is_told_of_the_simulated_treatment():
    partner, _ = make_partner(sandbox=True)  # a sandbox partner starts subscribed to every type
    course = make_course(partner=partner, sandbox=True, external_id="approve-9")

    sandbox.simulate_treatment(course_id=course.pk)

    treated = PartnerNotification.objects.get(case=course.case, event_type="referral.treated")
    assert treated.payload["data"]["treatment"]["id"] == str(course.pk)


@needs_adverse_events
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("external_id", "grade", "serious", "criteria"),
    [("approve-ae-1", 2, False, []), ("approve-sae-1", 3, True, ["hospitalization"])],
)
def test_day_1_reports_the_adverse_event_the_prefix_asks_for_once(external_id, grade, serious, criteria):
    course = make_course(sandbox=True, external_id=external_id)
    sandbox.simulate_treatment(course_id=course.pk)
    assert sandbox.owes_adverse_event(course.pk)

    event = sandbox.simulate_adverse_event(course_id=course.pk)

    assert (event.ctcae_grade, event.serious, event.seriousness_criteria) == (grade, serious, criteria)
    assert (event.source, event.triage, event.sandbox) == ("staff", "confirmed", True)
    assert not event.clocks.exists()  # a sandbox event is a test: no reporting clock
    assert sandbox.simulate_adverse_event(course_id=course.pk) is None
    assert not sandbox.owes_adverse_event(course.pk)
    assert AdverseEvent.objects.filter(course=course).count() == 1
    sent = PartnerNotification.objects.filter(case=course.case, event_type="referral.adverse_event")
    assert sent.count() == (1 if serious else 0)  # the non-serious one sends nothing, as in production


@pytest.mark.worker
@committed_db
def test_a_sandbox_referral_reaches_a_signed_treatment_on_its_own(celery_worker_process, receiver):
    # Given a sandbox partner with a webhook endpoint
    endpoint = receiver()
    partner, key = make_partner(sandbox=True, webhook_url=endpoint.url)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")

    # When it posts a referral whose external_id asks for a serious adverse event
    response = client.post("/api/v1/referrals/", referral_body(external_id="approve-sae-42"), format="json")
    assert response.status_code == 201

    # Then the worker drafts it, the sandbox approves it, and a simulated day later treats it
    record = wait_for(
        lambda: TreatmentRecord.objects.filter(case_id=response.json()["id"]).first(), timeout=60
    )
    assert record is not None, "no treatment record was signed"
    assert record.signed_credentials == "not a clinical decision"
    assert TreatmentCourse.objects.get(pk=record.course_id).state == "treated"

    # and the partner receives referral.treated, signed, without the product's code, lot or dose
    def received(event_type: str) -> dict | None:
        for headers, body in endpoint.received:
            payload = Webhook(partner.webhook_secret).verify(body, headers)
            if payload["type"] == event_type:
                return payload
        return None

    treated = wait_for(lambda: received("referral.treated"), timeout=30)
    assert treated and treated["data"]["treatment"]["route"] == "local_injection"
    assert record.distinct_code not in str(treated) and record.lot not in str(treated)
    if hasattr(adverse_events, "report_adverse_event"):
        # and on day 1 the serious event, confirmed at once, is sent as well
        reported = wait_for(lambda: received("referral.adverse_event"), timeout=30)
        assert reported and reported["data"]["adverse_event"]["serious"] is True
    assert list(verify_chains()) == []
