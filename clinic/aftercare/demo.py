"""The quick start's outcome data: treated patients followed up, so the outcomes page, its CSV and
`replay_rules --against` have something to show (README, "Outcomes").

Every row is made through the services the desk, the drafting worker, a specialist and the performer
use: a referral opened at the desk and drafted (rule set RULESET_LIVE, with rule set v2 stored as
its shadow, as RULESET_SHADOW=2 would), decided, its course's baseline answered at the desk, the
first session signed, the later time points answered by phone or marked unreachable, and a few
adverse events reported by staff (one flagged by a patient, awaiting triage). No time passes: each
time point is answered as the seed runs, the latest (day 365) is left for later, so the courses
stand "following up". Patients are made once, known by their demo MRN (DEMO-OUT-...).

The answers are invented to give a spread of outcomes (responders, non-responders, one worsening,
some unreachable); they describe no real patient and no real treatment effect."""

from dataclasses import dataclass
from datetime import date

from django.utils import timezone

from clinic.aftercare import adverse_events, follow_up
from clinic.aftercare.models import TimePoint, TreatmentCourse
from clinic.aftercare.treatments import sign_treatment
from intake.models import CONTRAINDICATIONS, Patient
from intake.services import create_case, create_patient
from intake.workflow import Actor
from recommendations import review
from recommendations.demo import DEMO_NOTE, Demo
from recommendations.models import FinalRoute
from recommendations.services import make_draft

MRN_PREFIX = "DEMO-OUT-"
SHADOW = "v2"  # the rule set the demo drafts in shadow, beside the live one
LEFT_FOR_LATER = 365  # not answered by the seed: the courses stay "following up"

# (pain 0-10, sum of the KOOS JR / HOOS JR item answers, 0 = no difficulty) at baseline, then at each
# later day the seed answers; None: unreachable at that day.
TRAJECTORIES: dict[str, tuple] = {
    "responder": ((7, 16), (4, 9), (3, 8), (2, 7)),
    "slow responder": ((6, 15), (5, 14), (4, 10), (3, 8)),
    "pain only": ((8, 14), (5, 13), (5, 13), (5, 12)),
    "no change": ((6, 14), (6, 14), (5, 13), (6, 14)),
    "worse": ((5, 12), (6, 14), (7, 16), (7, 17)),
    "dropped out": ((7, 17), (5, 13), None, None),
}

GIVEN = ("Ada", "Bruno", "Clara", "Dev", "Elin", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Kaya",
         "Luis", "Mona", "Nils", "Olga", "Pavel", "Quinn", "Rita", "Sami", "Tove")  # fmt: skip
FAMILY = ("Ahlberg", "Brandt", "Castro", "Dahl", "Ekman", "Fischer", "Gomez", "Holm", "Iversen",
          "Jansen", "Keller", "Larsen", "Moreau", "Nyberg", "Ortiz", "Pihl")  # fmt: skip


@dataclass(frozen=True)
class DemoPatient:
    number: int
    code: str  # ICD-10-CM: M17.11 right knee / M16.11 right hip (recommendations.demo's codes)
    site: str
    trajectory: str
    findings: dict
    # The specialist's call when the live draft asks for information (the demo's disagreements).
    amend: bool = False
    adverse_event: str = ""  # "staff" (grade 1-2, confirmed as entered) or "patient" (untriaged)


READY = {"kl_grade": 2, "conservative_care_months": 6}
# No months of conservative care: rule set v3 asks for them (needs information), v2 drafts the
# injection; the specialist, who has the referral letter, amends to the injection.
ASKS = {"kl_grade": 2}
KNEE, HIP = ("M17.11", "right_knee"), ("M16.11", "right_hip")
COHORT: tuple[DemoPatient, ...] = tuple(
    DemoPatient(n, *joint, trajectory, findings, amend=findings is ASKS, adverse_event=event)
    for n, (joint, trajectory, findings, event) in enumerate(
        [
            (KNEE, "responder", READY, ""), (KNEE, "responder", READY, "staff"),
            (KNEE, "slow responder", READY, ""), (KNEE, "pain only", READY, ""),
            (KNEE, "no change", READY, "staff"), (KNEE, "worse", READY, "patient"),
            (KNEE, "dropped out", READY, ""), (KNEE, "responder", READY, ""),
            (KNEE, "responder", ASKS, ""), (KNEE, "no change", ASKS, ""),
            (KNEE, "slow responder", ASKS, "staff"), (KNEE, "responder", READY, ""),
            (KNEE, "pain only", READY, ""), (KNEE, "dropped out", READY, ""),
            (HIP, "responder", READY, ""), (HIP, "slow responder", READY, ""),
            (HIP, "no change", READY, "staff"), (HIP, "responder", READY, ""),
            (HIP, "dropped out", READY, ""), (HIP, "pain only", READY, ""),
            (HIP, "responder", ASKS, ""), (HIP, "worse", READY, ""),
        ],
        start=1,
    )
)  # fmt: skip


def _items(instrument: str, total: int) -> dict[str, int]:
    """Item answers (0-4 each) adding up to `total`, spread evenly over the instrument's items."""
    count = 7 if instrument == "koos_jr" else 6
    return {f"{instrument}_{i + 1}": total // count + (1 if i < total % count else 0) for i in range(count)}


def _answers(point: TimePoint, pain: int, joint_sum: int) -> dict[str, dict]:
    answers: dict[str, dict] = {}
    for instrument in point.instruments:
        if instrument == "pain_nrs":
            answers[instrument] = {"pain_nrs": pain}
        elif instrument in ("koos_jr", "hoos_jr"):
            answers[instrument] = _items(instrument, joint_sum)
    return answers


def _open_case(demo: Demo, patient: DemoPatient):
    person = create_patient(
        mrn=f"{MRN_PREFIX}{patient.number:04d}",
        given_name=GIVEN[patient.number % len(GIVEN)],
        family_name=FAMILY[(patient.number * 7) % len(FAMILY)],
        birth_date=date(1950 + patient.number % 20, 1 + patient.number % 12, 1 + patient.number % 27),
        sex="female" if patient.number % 2 else "male",
    )
    return create_case(
        patient=person,
        actor=Actor.of_user(demo.desk),
        condition_code=patient.code,
        affected_sites=[patient.site],
        contraindications=dict.fromkeys(CONTRAINDICATIONS, False),
        consent_obtained=True,
        findings=dict(patient.findings),
        notes=DEMO_NOTE,
    )


def _decide(demo: Demo, patient: DemoPatient, case) -> None:
    draft = make_draft(case_id=case.pk, shadow_ruleset=SHADOW)
    # Under rule set v2 live (RULESET_LIVE=2) nothing is asked: the draft is approved as it stands.
    if patient.amend and draft.route != FinalRoute.LOCAL_INJECTION:
        review.amend_draft(
            case_id=case.pk,
            user=demo.specialist,
            route=FinalRoute.LOCAL_INJECTION,
            reason="Demo amendment: the referral letter documents six months of physiotherapy and "
            "weight loss, the months of conservative care the protocol asks for.",
        )
    else:
        review.approve_draft(case_id=case.pk, user=demo.specialist)


def _treat(demo: Demo, course: TreatmentCourse, number: int) -> None:
    performer = demo.specialist
    sign_treatment(
        user=performer,
        course_id=course.pk,
        values={
            "session": 1,
            "performer": performer.pk,
            "performer_role": "physician",
            "administered_at": timezone.now(),
            "route": course.route,
            "sites": list(course.decision.sites),
            "image_guidance": "ultrasound",
            "product_kind": "Bone marrow aspirate concentrate (demo)",
            "product_source": "autologous",
            "processing_facility": "Demo cell processing room",
            "lot": f"DEMO-LOT-{number:03d}",
            "distinct_code": f"BMAC-7Q4K-{9000 + number}",
            "label_legends": ["FOR AUTOLOGOUS USE ONLY"],
            "dose_tnc": 1_000_000_000 + 10_000_000 * number,
            "viability_percent": 90.0,
            "volume_ml": 6.0,
            "notes": DEMO_NOTE,
        },
    )


def _follow(demo: Demo, course: TreatmentCourse, patient: DemoPatient) -> None:
    steps = TRAJECTORIES[patient.trajectory]
    points = {point.day: point for point in TimePoint.objects.filter(course=course)}
    baseline, later = points[0], [points[day] for day in sorted(points) if 0 < day < LEFT_FOR_LATER]
    follow_up.record_desk_answers(
        time_point_id=baseline.pk, user=demo.desk, answers_by_instrument=_answers(baseline, *steps[0]),
        source="desk",
    )  # fmt: skip
    _treat(demo, TreatmentCourse.objects.select_related("decision").get(pk=course.pk), patient.number)
    for point, step in zip(later, steps[1:], strict=False):
        if step is None:
            follow_up.mark_unreachable(
                time_point_id=point.pk, user=demo.desk, note="Demo: called three times, no answer."
            )
        else:
            follow_up.record_desk_answers(
                time_point_id=point.pk, user=demo.desk, answers_by_instrument=_answers(point, *step),
                source="phone",
            )  # fmt: skip


def _adverse_event(demo: Demo, course: TreatmentCourse, kind: str) -> None:
    if kind == "patient":
        adverse_events.flag_from_patient(
            course_id=course.pk, description="Demo: my knee was swollen and warm for two days after."
        )
        return
    adverse_events.report_adverse_event(
        course_id=course.pk,
        source="staff",
        actor=Actor.of_user(demo.specialist),
        values={
            "onset": timezone.localdate(),
            "description": "Demo: post-injection joint effusion, settled with rest and ice.",
            "ctcae_grade": 1,
            "serious": False,
            "seriousness_criteria": [],
            "outcome": "resolved",
            "action_taken": "",
        },
    )


def seed_outcomes(demo: Demo) -> list[str]:
    """Make each demo patient of the cohort not made yet (in the caller's transaction); return what
    seed_demo prints."""
    made = 0
    for patient in COHORT:
        if Patient.objects.filter(mrn=f"{MRN_PREFIX}{patient.number:04d}").exists():
            continue
        case = _open_case(demo, patient)
        _decide(demo, patient, case)
        course = TreatmentCourse.objects.get(case=case)
        _follow(demo, course, patient)
        if patient.adverse_event:
            _adverse_event(demo, course, patient.adverse_event)
        made += 1
    if not made:
        return ["Demo outcomes already there"]
    return [
        f"Demo outcomes {made} treated patients followed up (knee and hip protocols; rule set {SHADOW} "
        "drafted in shadow beside the live drafts): the review desk's Outcomes page, and "
        "`manage.py replay_rules --against 2`"
    ]
