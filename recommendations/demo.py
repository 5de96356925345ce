"""The quick start's demo cases: one or more in every status the desk board and the review queue show,
made through the same services the desk, a partner, the drafting worker and a specialist use.

Drafts are made here, synchronously, so the cases stand where they should before any worker starts
(each case's queued draft task then finds it drafted and does nothing). A case is made once: desk
cases are known by their patient's demo MRN, the partner's by its external_id, so running the quick
start again adds only what is missing.

The clinical data is what the demo protocols (recommendations/data/demo_protocols.json) ask for:
`kl_grade` (Kellgren-Lawrence, 0-4, at most 3) and `conservative_care_months` (at least 3), keys from
the published findings list (intake/vocabulary/findings.py). The codes and their descriptors are the
project's ICD-10-CM table (intake/vocabulary, built from simple-icd-10-cm): M17.11/M17.12 unilateral
primary osteoarthritis of the right/left knee, M16.11/M16.12 of the right/left hip.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from intake.models import CONTRAINDICATIONS, Case, Partner, Patient, Priority
from intake.referrals import submit_referral
from intake.services import create_case, create_patient, withdraw_case
from intake.workflow import Actor
from recommendations import review
from recommendations.models import FinalRoute
from recommendations.services import make_draft, mark_draft_failed

DEMO_NOTE = "Demo case made by the quick start (seed_demo); no real patient."
# What the timeline and the desk show for the demo's failed draft: nothing failed, and it says so.
DEMO_DRAFT_FAILURE = (
    "(demo) nothing failed: seed_demo put this case here to show what the desk sees when a draft "
    "cannot be made; withdraw it to try the desk's action."
)
NO_CONTRAINDICATIONS = dict.fromkeys(CONTRAINDICATIONS, False)
KNEE_READY = {"kl_grade": 2, "conservative_care_months": 6}


@dataclass(frozen=True)
class DemoCase:
    key: str  # the patient's MRN (a desk case) or the referral's external_id (the partner's case)
    shows: str  # what the case demonstrates, printed by seed_demo
    given_name: str
    family_name: str
    birth_date: date
    sex: str
    condition_code: str
    affected_sites: list[str]
    findings: dict = field(default_factory=dict)
    priority: int = Priority.ROUTINE
    from_partner: bool = False
    # Not drafted here: left received (the worker drafts it when it starts), or failed by `then`.
    drafted: bool = True
    # What the specialist or the desk does next, through its own service.
    then: Callable[["Demo", Case], object] | None = None


@dataclass(frozen=True)
class Demo:
    desk: AbstractBaseUser
    specialist: AbstractBaseUser
    partner: Partner


# More demo data from the apps above this one (the outcomes of treated patients, clinic.aftercare),
# registered in their AppConfig.ready(): each makes what is missing and returns the lines seed_demo
# prints. Run after the demo cases, in the same transaction.
DemoSeeder = Callable[[Demo], list[str]]
_seeders: list[DemoSeeder] = []


def register_demo_seeder(seeder: DemoSeeder) -> None:
    """Registering the same seeder twice is a no-op."""
    if seeder not in _seeders:
        _seeders.append(seeder)


@transaction.atomic
def seed_registered_demos(
    *, desk: AbstractBaseUser, specialist: AbstractBaseUser, partner: Partner
) -> list[str]:
    demo = Demo(desk=desk, specialist=specialist, partner=partner)
    return [line for seeder in _seeders for line in seeder(demo)]


def _ask(demo: Demo, case: Case) -> object:
    return review.request_information(
        case_id=case.pk,
        user=demo.specialist,
        question=(
            "How many months of conservative care (physiotherapy, weight loss, pain relief) has the "
            "patient tried? The knee protocol needs it."
        ),
    )


def _fail(demo: Demo, case: Case) -> object:
    return mark_draft_failed(case_id=case.pk, error=DEMO_DRAFT_FAILURE, error_type="demo, nothing failed")


def _approve(demo: Demo, case: Case) -> object:
    return review.approve_draft(case_id=case.pk, user=demo.specialist)


def _amend(demo: Demo, case: Case) -> object:
    return review.amend_draft(
        case_id=case.pk,
        user=demo.specialist,
        route=FinalRoute.NOT_RECOMMENDED,
        reason=(
            "Demo amendment: on examination the pain comes mostly from the lower back, not the hip; "
            "see again after the spine is assessed."
        ),
    )


def _decline(demo: Demo, case: Case) -> object:
    return review.decline_case(
        case_id=case.pk,
        user=demo.specialist,
        reason="Demo decline: the patient prefers three more months of physiotherapy; refer again after.",
    )


def _withdraw(demo: Demo, case: Case) -> object:
    return withdraw_case(
        case=case,
        actor=Actor.of_user(demo.desk),
        reason="Demo withdrawal: the patient will be treated at a clinic nearer home.",
    )


DEMO_CASES: tuple[DemoCase, ...] = (
    DemoCase(
        "DEMO-0001", "received: the drafting worker drafts it when it starts",
        "Nora", "Lindqvist", date(1964, 5, 9), "female", "M17.11", ["right_knee"], KNEE_READY,
        drafted=False,
    ),
    DemoCase(
        "DEMO-0002", "awaiting review, urgent",
        "Helen", "Marsh", date(1958, 3, 14), "female", "M17.11", ["right_knee"],
        {"kl_grade": 3, "conservative_care_months": 8}, priority=Priority.URGENT,
    ),
    DemoCase(
        "DEMO-RF-0001", "awaiting review, routine, referred by the demo partner",
        "Tomas", "Berg", date(1966, 9, 2), "male", "M16.11", ["right_hip"],
        {"kl_grade": 2, "conservative_care_months": 6}, from_partner=True,
    ),
    DemoCase(
        "DEMO-0003", "needs information: the desk answers the specialist's question",
        "Grace", "Whitfield", date(1971, 1, 20), "female", "M17.12", ["left_knee"], {"kl_grade": 2},
        then=_ask,
    ),
    DemoCase(
        "DEMO-0004", "draft failed (staged: nothing failed, its timeline says so)",
        "Walter", "Price", date(1949, 6, 30), "male", "M17.11", ["right_knee"], KNEE_READY,
        drafted=False, then=_fail,
    ),
    DemoCase(
        "DEMO-0005", "decided: approved as drafted",
        "Rosa", "Alvarez", date(1963, 11, 5), "female", "M17.12", ["left_knee"], KNEE_READY,
        then=_approve,
    ),
    DemoCase(
        "DEMO-0006", "decided: amended to not recommended",
        "Samuel", "Okoro", date(1955, 2, 17), "male", "M16.12", ["left_hip"],
        {"kl_grade": 3, "conservative_care_months": 12}, then=_amend,
    ),
    DemoCase(
        "DEMO-0007", "decided: declined",
        "Irene", "Novak", date(1968, 7, 22), "female", "M17.11", ["right_knee"], KNEE_READY,
        then=_decline,
    ),
    DemoCase(
        "DEMO-0008", "withdrawn by the desk",
        "Peter", "Lund", date(1960, 12, 1), "male", "M17.12", ["left_knee"], KNEE_READY,
        then=_withdraw,
    ),
)  # fmt: skip


def _exists(demo: Demo, item: DemoCase) -> bool:
    if item.from_partner:
        return Case.objects.filter(partner=demo.partner, external_id=item.key).exists()
    return Patient.objects.filter(mrn=item.key).exists()


def _open(demo: Demo, item: DemoCase) -> Case:
    person = dict(
        given_name=item.given_name, family_name=item.family_name, birth_date=item.birth_date, sex=item.sex
    )
    clinical = dict(
        condition_code=item.condition_code,
        affected_sites=item.affected_sites,
        contraindications=NO_CONTRAINDICATIONS,
        consent_obtained=True,
        findings=item.findings,
        priority=item.priority,
        notes=DEMO_NOTE,
    )
    if item.from_partner:
        # The body as the API's serializer hands it to the partner door (intake.referrals).
        referral = {
            "external_id": item.key,
            "patient": person,
            "condition": {"icd10": item.condition_code},
            **{key: value for key, value in clinical.items() if key != "condition_code"},
        }
        return submit_referral(partner=demo.partner, referral=referral)
    patient = create_patient(mrn=item.key, **person)
    return create_case(patient=patient, actor=Actor.of_user(demo.desk), **clinical)


@transaction.atomic
def seed_demo_cases(
    *, desk: AbstractBaseUser, specialist: AbstractBaseUser, partner: Partner
) -> list[tuple[Case, str]]:
    """Make each demo case that does not exist yet; return the cases made, each with what it shows.
    All or none; the draft tasks the intakes queue are published once the outermost transaction
    commits, and find their cases already drafted."""
    demo = Demo(desk=desk, specialist=specialist, partner=partner)
    made = []
    for item in DEMO_CASES:
        if _exists(demo, item):
            continue
        case = _open(demo, item)
        if item.drafted:
            make_draft(case_id=case.pk)
        if item.then is not None:
            # As the desk or the specialist would find it: drafted by now (a move is a compare-and-set).
            item.then(demo, Case.objects.get(pk=case.pk))
        made.append((Case.objects.get(pk=case.pk), item.shows))
    return made
