"""The sandbox's simulated course (DESIGN.md, "Partners: events after the decision", Sandbox).

After the automatic approval of a sandbox partner's referral opens its course, the sandbox treats
it on synthetic data, one simulated day lasting SANDBOX_TIME_SCALE seconds: a treatment record
signed by the sandbox's signer on day 0 (so a subscribed partner receives referral.treated), and,
as the external_id's prefix says, an adverse event on day 1: `approve-ae-` a grade 2 non-serious
one, `approve-sae-` a serious one (hospitalization), reported as staff report it, so it counts as
confirmed at once. Each step is idempotent: a task that runs twice changes nothing the second time.
Nothing here is ever a clinical record: the course, its record and its event are flagged sandbox."""

import uuid

from django.db import transaction
from django.utils import timezone

from clinic.aftercare import adverse_events
from clinic.aftercare.courses import CourseMoved
from clinic.aftercare.models import AdverseEvent, TreatmentCourse, TreatmentRecord
from clinic.aftercare.product_codes import phi_in_code
from clinic.aftercare.statuses import CourseState
from clinic.aftercare.treatments import sign_treatment
from intake.workflow import Actor
from recommendations.sandbox import _robot

# external_id prefix (case-insensitive) -> the adverse event the sandbox reports on day 1.
AE_PREFIXES = {"approve-sae-": "serious", "approve-ae-": "non_serious"}
AE_DAY = 1
NOT_REAL = "Sandbox: synthetic data, not a real treatment."


def owes_simulation(moved: CourseMoved) -> bool:
    """A sandbox course was just opened: the sandbox treats it."""
    return moved.sandbox and moved.from_state == "" and moved.to_state == CourseState.SCHEDULED


def adverse_event_kind(external_id: str | None) -> str | None:
    """serious, non_serious, or None: what the external_id's prefix asks for on day 1."""
    external_id = (external_id or "").lower()
    return next((kind for prefix, kind in AE_PREFIXES.items() if external_id.startswith(prefix)), None)


def _distinct_code(course: TreatmentCourse) -> str:
    # A synthetic code that, like a real one, never holds the (synthetic) patient's data.
    patient = course.case.patient
    for attempt in range(10):
        code = f"SANDBOX-{(course.pk.int >> (attempt * 8)) % 10**9:09d}"
        if not phi_in_code(
            code,
            given_name=patient.given_name,
            family_name=patient.family_name,
            mrn=patient.mrn,
            birth_date=patient.birth_date,
        ):
            return code
    return "SANDBOX"


def synthetic_values(course: TreatmentCourse, performer) -> dict:
    return {
        "session": 1,
        "performer": performer.pk,
        "performer_role": "physician",
        "administered_at": timezone.now(),
        "route": course.route,
        "sites": list(course.decision.sites) if course.route == "local_injection" else [],
        "image_guidance": "ultrasound" if course.route == "local_injection" else "none",
        "product_kind": "Sandbox synthetic cell product",
        "product_source": "autologous",
        "processing_facility": "Sandbox (no facility)",
        "lot": "SANDBOX-LOT-1",
        "distinct_code": _distinct_code(course),
        "label_legends": ["FOR AUTOLOGOUS USE ONLY"],
        "dose_tnc": 1_000_000_000,
        "viability_percent": 90.0,
        "volume_ml": 5.0,
        "notes": NOT_REAL,
    }


@transaction.atomic
def simulate_treatment(*, course_id: uuid.UUID | str) -> TreatmentRecord | None:
    """Day 0: the sandbox's signer signs a synthetic first session. None when there is nothing to
    do (not a sandbox course, or no longer scheduled: treated already, or cancelled)."""
    course = (
        TreatmentCourse.objects.select_for_update(of=("self",))
        .select_related("decision", "case__patient")
        .filter(pk=course_id, sandbox=True)
        .first()
    )
    if course is None or course.state != CourseState.SCHEDULED:
        return None
    robot = _robot()
    return sign_treatment(user=robot, course_id=course.pk, values=synthetic_values(course, robot))


def owes_adverse_event(course_id: uuid.UUID | str) -> bool:
    """The course's external_id asks for an adverse event and none has been reported yet."""
    course = TreatmentCourse.objects.select_related("case").filter(pk=course_id, sandbox=True).first()
    return bool(
        course is not None
        and adverse_event_kind(course.case.external_id)
        and not AdverseEvent.objects.filter(course=course).exists()
    )


def synthetic_report(kind: str) -> dict:
    serious = kind == "serious"
    return {
        "onset": timezone.localdate(),
        "description": (
            "Sandbox: synthetic serious adverse event (hospitalization), not a real event."
            if serious
            else "Sandbox: synthetic grade 2 adverse event, not a real event."
        ),
        "ctcae_grade": 3 if serious else 2,
        "serious": serious,
        "seriousness_criteria": ["hospitalization"] if serious else [],
        "outcome": "recovering",
        "action_taken": "",
    }


@transaction.atomic
def simulate_adverse_event(*, course_id: uuid.UUID | str) -> AdverseEvent | None:
    """Day 1: the adverse event the external_id asks for, reported as staff report it. None when
    there is nothing to do (no prefix asks for one, or one was reported already)."""
    course = (
        TreatmentCourse.objects.select_for_update(of=("self",))
        .select_related("case")
        .filter(pk=course_id, sandbox=True)
        .first()
    )
    kind = adverse_event_kind(course.case.external_id) if course else None
    if kind is None or AdverseEvent.objects.filter(course=course).exists():
        return None
    robot = _robot()
    return adverse_events.report_adverse_event(
        course_id=course.pk, source="staff", actor=Actor.of_user(robot), values=synthetic_report(kind)
    )
