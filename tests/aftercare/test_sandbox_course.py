"""The sandbox's simulated course (DESIGN.md, "Partners: events after the decision", Sandbox): after
the automatic approval of a sandbox referral, the synthetic patient's baseline answers and a synthetic
treatment record signed by the sandbox's signer on day 0 (so a subscribed partner receives
referral.follow_up and referral.treated), for `approve-ae-` / `approve-sae-` an adverse event on day 1,
then each follow-up day of the protocol answered through the follow-up's own services until the course
completes, or, for `approve-lost-`, is lost to follow-up after the first time point; every step does
nothing the second time."""

import pytest
from rest_framework.test import APIClient
from standardwebhooks import Webhook

from clinic.aftercare import adverse_events, sandbox
from clinic.aftercare.courses import CourseMoved
from clinic.aftercare.instruments import SHIPPED, improvement
from clinic.aftercare.models import AdverseEvent, FormResponse, TimePoint, TreatmentCourse, TreatmentRecord
from clinic.celery import app
from intake.audit import verify_chains
from intake.models import PartnerNotification
from tests.aftercare.factories import make_course
from tests.factories import make_partner, referral_body
from tests.faults.conftest import RedisServer, _point_app_at
from tests.support import WorkerProcess, committed_db, wait_for

FOLLOW_UP = "referral.follow_up"

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
    assert sandbox.next_day(course.pk, after=-1) is None
    assert sandbox.simulate_follow_up(course_id=course.pk, day=42) is None


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


# --- The follow-up ---------------------------------------------------------------------------------

KNEE_DAYS = [0, 42, 91, 182, 365]  # the demo knee protocol's follow-up days
KNEE_INSTRUMENTS = ["koos_jr", "pain_nrs"]


def run_course(course_id) -> dict[int, list[str]]:
    """Every simulated day the course has, in order, as the task chain runs them (without a broker)."""
    days = {}
    day = sandbox.next_day(course_id, after=-1)
    while day is not None:
        days[day] = sandbox.simulate_day(course_id=course_id, day=day)
        day = sandbox.next_day(course_id, after=day)
    return days


def sent(course, event_type: str) -> list[dict]:
    rows = PartnerNotification.objects.filter(case=course.case, event_type=event_type).order_by("created_at")
    return [row.payload["data"] for row in rows]


def scored(course) -> list[tuple[int, str]]:
    return sorted(
        (data["follow_up"]["day"], data["follow_up"]["instrument"]) for data in sent(course, FOLLOW_UP)
    )


@pytest.mark.parametrize("key", list(SHIPPED))
def test_the_synthetic_answers_span_each_instrument_from_its_worst_score_to_its_best(key):
    spec = SHIPPED[key]

    worst = spec.score(sandbox.synthetic_answers(spec, 0.0))
    best = spec.score(sandbox.synthetic_answers(spec, 1.0))

    assert improvement(spec, worst, best) == spec.score_max - spec.score_min


@pytest.mark.django_db
def test_day_0_answers_the_baseline_before_the_treatment_and_tells_the_partner():
    partner, _ = make_partner(sandbox=True)
    course = make_course(partner=partner, sandbox=True, external_id="approve-10")

    sandbox.simulate_treatment(course_id=course.pk)

    baseline = TimePoint.objects.get(course=course, day=0)
    assert baseline.state == "completed"
    responses = FormResponse.objects.filter(time_point=baseline).order_by("instrument")
    assert [(r.instrument, r.source, r.responder) for r in responses] == [
        ("koos_jr", "sandbox", None),
        ("pain_nrs", "sandbox", None),
    ]
    assert all(r.score is not None for r in responses)
    types = list(
        PartnerNotification.objects.filter(case=course.case)
        .exclude(event_type="referral.decided")
        .order_by("created_at")
        .values_list("event_type", flat=True)
    )
    assert types == [FOLLOW_UP, FOLLOW_UP, "referral.treated"]


@pytest.mark.django_db
def test_a_sandbox_course_answers_each_follow_up_day_of_its_protocol_and_completes():
    partner, _ = make_partner(sandbox=True)
    course = make_course(partner=partner, sandbox=True, external_id="approve-21")

    days = run_course(course.pk)

    assert list(days) == KNEE_DAYS
    assert days[0] == ["treated"] and all(days[day] == ["answered"] for day in KNEE_DAYS[1:])
    course.refresh_from_db()
    assert course.state == "completed"
    points = TimePoint.objects.filter(course=course).order_by("day")
    assert [(p.day, p.state) for p in points] == [(day, "completed") for day in KNEE_DAYS]
    first = {
        r.instrument: r for r in FormResponse.objects.filter(time_point__course=course, time_point__day=42)
    }
    assert {key: (r.responder, r.improvement > 0) for key, r in first.items()} == {
        "koos_jr": (True, True),
        "pain_nrs": (True, True),
    }
    assert scored(course) == [(day, key) for day in KNEE_DAYS for key in KNEE_INSTRUMENTS]
    (closed,) = sent(course, "referral.course_closed")
    assert closed["treatment"]["state"] == "completed"
    # Run again, nothing changes.
    assert sandbox.next_day(course.pk, after=-1) is None
    assert sandbox.simulate_day(course_id=course.pk, day=42) == []
    assert len(sent(course, FOLLOW_UP)) == len(KNEE_DAYS) * 2
    assert list(verify_chains()) == []


@pytest.mark.django_db
def test_approve_lost_answers_the_first_follow_up_day_and_is_lost_on_the_next():
    partner, _ = make_partner(sandbox=True)
    course = make_course(partner=partner, sandbox=True, external_id="approve-lost-3")

    days = run_course(course.pk)

    assert days == {0: ["treated"], 42: ["answered"], 91: ["lost to follow-up"]}
    course.refresh_from_db()
    assert course.state == "lost_to_follow_up" and "no answer after day 42" in course.close_reason
    states = dict(TimePoint.objects.filter(course=course).values_list("day", "state"))
    assert states == {0: "completed", 42: "completed", 91: "closed", 182: "closed", 365: "closed"}
    assert scored(course) == [(day, key) for day in (0, 42) for key in KNEE_INSTRUMENTS]
    (closed,) = sent(course, "referral.course_closed")
    assert closed["treatment"]["state"] == "lost_to_follow_up"
    assert list(verify_chains()) == []


@needs_adverse_events
@pytest.mark.django_db
def test_the_adverse_event_day_comes_between_the_treatment_and_the_follow_up():
    course = make_course(sandbox=True, external_id="approve-sae-5")

    days = run_course(course.pk)

    assert list(days) == [0, 1, *KNEE_DAYS[1:]] and days[1] == ["adverse event"]
    assert TreatmentCourse.objects.get(pk=course.pk).state == "completed"


@pytest.mark.django_db
def test_a_course_whose_protocol_names_no_instruments_completes_on_day_1():
    partner, _ = make_partner(sandbox=True)
    course = make_course(partner=partner, route="intravenous", sandbox=True)  # heart failure: no instruments

    days = run_course(course.pk)

    assert days == {0: ["treated"], 1: ["completed"]}
    assert not TimePoint.objects.filter(course=course).exists()
    assert TreatmentCourse.objects.get(pk=course.pk).state == "completed"
    assert sent(course, FOLLOW_UP) == []


@pytest.fixture
def quick_sandbox(settings):
    """A worker of the test's own, on a Redis of its own, whose simulated day lasts 0.03 s: the knee
    protocol's year of follow-up in about eleven seconds."""
    server = RedisServer().start()
    before = (app.conf.broker_url, app.conf.broker_transport_options)
    _point_app_at(server.url, dict(settings.CELERY_BROKER_TRANSPORT_OPTIONS))
    quick = {"SANDBOX_TIME_SCALE": "0.03", "SANDBOX_DECISION_DELAY_SECONDS": "0"}
    worker = WorkerProcess(broker_url=server.url, name="sandbox-course", env=quick).start()
    try:
        yield worker
    finally:
        worker.stop()
        _point_app_at(*before)
        server.stop()


@pytest.mark.worker
@committed_db
def test_a_sandbox_referral_runs_its_follow_up_on_its_own(quick_sandbox, receiver):
    # Given a sandbox partner with a webhook endpoint
    endpoint = receiver()
    partner, key = make_partner(sandbox=True, webhook_url=endpoint.url)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")

    # When it posts a referral that the sandbox approves
    response = client.post("/api/v1/referrals/", referral_body(external_id="approve-77"), format="json")
    assert response.status_code == 201

    # Then, simulated day by simulated day, it receives every score and the course's end, signed
    def received() -> list[dict]:
        return [Webhook(partner.webhook_secret).verify(body, headers) for headers, body in endpoint.received]

    def closed() -> dict | None:
        return next((p for p in received() if p["type"] == "referral.course_closed"), None)

    assert wait_for(closed, timeout=90), quick_sandbox.log()[-3000:]
    follow_ups = [p["data"]["follow_up"] for p in received() if p["type"] == FOLLOW_UP]
    assert sorted((f["day"], f["instrument"]) for f in follow_ups) == [
        (day, key) for day in KNEE_DAYS for key in KNEE_INSTRUMENTS
    ]
    assert all(f["responder"] is True for f in follow_ups if f["day"] == 42)
    assert closed()["data"]["treatment"]["state"] == "completed"
    listed = client.get(f"/api/v1/referrals/{response.json()['id']}/follow-ups/").json()["results"]
    assert sorted(item["id"] for item in listed) == sorted(f["id"] for f in follow_ups)
    assert list(verify_chains()) == []
