"""Small builders for what follows the decision: a decided case made through the real review (so
its course is opened by the real handler), a performer who can sign, and valid treatment values.
Each test states what it changes."""

import itertools
from datetime import timedelta

from django.utils import timezone

from clinic.aftercare.models import TreatmentCourse, TreatmentRecord
from clinic.aftercare.treatments import sign_treatment
from intake.models import Case, Partner
from intake.roles import SPECIALISTS
from recommendations import review
from recommendations.models import Decision
from recommendations.sandbox import decide_sandbox_case
from recommendations.services import make_draft
from tests.factories import (
    make_case,
    make_knee_infusion_protocol,
    make_partner,
    make_referral,
    make_user,
)

_seq = itertools.count(1)

# A heart-failure case: the demo protocol hf-msc-ind drafts it as an intravenous infusion.
HEART_FAILURE_CASE = dict(
    condition_code="I50.22", affected_sites=[], findings={"lvef_percent": 30, "nyha_class": 3}
)
HEART_FAILURE_REFERRAL = dict(
    condition={"icd10": "I50.22", "description": "Chronic systolic heart failure"},
    affected_sites=[],
    findings={"lvef_percent": 30, "nyha_class": 3},
)


def make_performer(username: str | None = None, **fields):
    """A clinician who may sign a treatment record: a user with a complete signing profile."""
    return make_user(username or f"performer{next(_seq)}", group=SPECIALISTS, **fields)


def _case(*, route: str, outcome: str, partner: Partner | None, sandbox: bool, **overrides) -> Case:
    # An approved infusion needs a draft that says infusion (heart failure); everything else starts
    # from the knee case, drafted as a local injection.
    infusion_draft = route == "intravenous" and outcome == "approved"
    if sandbox and partner is None:
        partner, _ = make_partner(sandbox=True)
    if partner is not None:
        overrides.setdefault("external_id", f"approve-{next(_seq)}" if sandbox else f"RF-{next(_seq)}")
        fields = (HEART_FAILURE_REFERRAL if infusion_draft else {}) | overrides
        case = make_referral(partner, **fields)
    else:
        case = make_case(**((HEART_FAILURE_CASE if infusion_draft else {}) | overrides))
    make_draft(case_id=case.pk)
    return case


def make_decided_case(
    *,
    route: str = "local_injection",
    outcome: str = "approved",
    partner: Partner | None = None,
    sandbox: bool = False,
    protocol_id: str | None = None,
    **case_overrides,
) -> tuple[Case, Decision]:
    """A case decided through the real review services (the sandbox's for sandbox=True, which
    approves as the external_id says). outcome approved: route local_injection (knee) or
    intravenous (heart failure); amended: the knee draft amended to `route` (intravenous under the
    test-only knee infusion protocol, or `protocol_id`); declined: not recommended."""
    case = _case(route=route, outcome=outcome, partner=partner, sandbox=sandbox, **case_overrides)
    if sandbox:
        decide_sandbox_case(case_id=case.pk)
        return Case.objects.get(pk=case.pk), Decision.objects.get(case=case)
    doctor = make_performer()
    if outcome == "approved":
        decision = review.approve_draft(case_id=case.pk, user=doctor)
    elif outcome == "amended":
        if route == "intravenous" and protocol_id is None:
            make_knee_infusion_protocol()
        decision = review.amend_draft(
            case_id=case.pk,
            user=doctor,
            route=route,
            reason="Factory: amended for the test.",
            protocol=protocol_id or "",
        )
    elif outcome == "declined":
        decision = review.decline_case(case_id=case.pk, user=doctor, reason="Factory: declined.")
    else:
        raise ValueError(f"make_decided_case does not make {outcome!r} decisions")
    assert decision.route == route, f"the review decided {decision.route}, not {route}"
    return Case.objects.get(pk=case.pk), decision


def make_course(**kw) -> TreatmentCourse:
    """The course a treatment decision opened (make_decided_case's arguments)."""
    case, _ = make_decided_case(**kw)
    return TreatmentCourse.objects.get(case=case)


def treatment_values(course: TreatmentCourse, performer, /, **overrides) -> dict:
    """Values clean_treatment accepts for `course`, as a form or the API gives them."""
    values = dict(
        session=1,
        performer=performer.pk,
        performer_role="physician",
        administered_at=max(timezone.now() - timedelta(minutes=1), course.decision.decided_at),
        route=course.route,
        route_reason="",
        sites=list(course.decision.sites) if course.route == "local_injection" else [],
        image_guidance="ultrasound",
        product_kind="Bone marrow aspirate concentrate",
        product_source="autologous",
        processing_facility="Clinic cell processing room 2",
        lot="LOT-2026-0142",
        distinct_code="BMAC-7Q4K-0091",
        label_legends=["FOR AUTOLOGOUS USE ONLY"],
        dose_tnc=1_200_000_000,
        viability_percent=92.5,
        volume_ml=6.0,
        notes="",
    )
    return values | overrides


def make_signed_treatment(course: TreatmentCourse, performer=None, **overrides) -> TreatmentRecord:
    """A treatment record signed by its performer (the first session unless told)."""
    performer = performer or make_performer()
    return sign_treatment(
        user=performer, course_id=course.pk, values=treatment_values(course, performer, **overrides)
    )
