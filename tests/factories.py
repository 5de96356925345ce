"""Small builders for test data; each test states what it changes."""

import itertools
from datetime import date

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from clinic.web.api.serializers import ReferralSerializer
from intake.models import CONTRAINDICATIONS, Case, Partner, Patient
from intake.partners import create_partner
from intake.referrals import submit_referral
from intake.roles import SPECIALISTS
from intake.services import create_case, create_patient
from intake.workflow import SYSTEM, Actor
from recommendations.models import Protocol, SpecialistProfile
from recommendations.protocols import import_demo_protocols, import_protocols

_seq = itertools.count(1)


def no_contraindications(**overrides: bool) -> dict[str, bool]:
    return {name: False for name in CONTRAINDICATIONS} | overrides


def make_patient(**overrides) -> Patient:
    n = next(_seq)
    fields = dict(given_name=f"Ana{n}", family_name="Silva", birth_date=date(1961, 4, 2), sex="female")
    return create_patient(**(fields | overrides))


def make_partner(name: str | None = None, **overrides) -> tuple[Partner, str]:
    return create_partner(name=name or f"Partner {next(_seq)}", **overrides)


def make_case(*, patient: Patient | None = None, actor: Actor = SYSTEM, **overrides) -> Case:
    """A knee-osteoarthritis case; contraindications may be given one by one (pregnant=True)."""
    answers = {name: overrides.pop(name) for name in CONTRAINDICATIONS if name in overrides}
    fields = dict(
        condition_code="M17.11",
        affected_sites=["right_knee"],
        contraindications=no_contraindications(**answers),
        consent_obtained=True,
        # What the knee protocol (rule set v3) requires, as DESIGN.md's sample referral sends it.
        findings={"kl_grade": 2, "conservative_care_months": 6},
    )
    return create_case(patient=patient or make_patient(), actor=actor, **(fields | overrides))


def make_user(username: str | None = None, *, group: str | None = None, signs: bool = True, **fields):
    user = get_user_model().objects.create_user(
        username=username or f"user{next(_seq)}", password="pw-for-tests-1", **fields
    )
    if group:
        user.groups.add(Group.objects.get(name=group))
    if group == SPECIALISTS and signs:
        # A specialist signs decisions with a full name and credentials.
        SpecialistProfile.objects.create(
            user=user, full_name=f"Dr. {user.username.title()}", credentials="MD"
        )
    return user


def referral_body(**changes) -> dict:
    """The contract's sample referral (DESIGN.md), as a partner sends it."""
    body = {
        "external_id": "RF-1001",
        "patient": {
            "given_name": "Ana",
            "family_name": "Silva",
            "birth_date": "1961-04-02",
            "sex": "female",
            "phone": "+15551234567",
            "email": "ana@example.org",
        },
        "condition": {"icd10": "M17.11", "description": "Primary OA, right knee"},
        "affected_sites": ["right_knee"],
        "contraindications": {name: False for name in CONTRAINDICATIONS},
        "consent_obtained": True,
        "findings": {"kl_grade": 2, "conservative_care_months": 6},
        "goals": "walk without pain",
        "notes": "",
    }
    return body | changes


def make_referral(partner: Partner, **changes) -> Case:
    """A partner's referral, through the same validation and service as the API."""
    serializer = ReferralSerializer(data=referral_body(**changes))
    serializer.is_valid(raise_exception=True)
    return submit_referral(partner=partner, referral=serializer.validated_data)


def make_demo_protocols() -> list[Protocol]:
    """The published demo protocols, imported through the import service (as the quick start does)."""
    import_demo_protocols()
    return list(Protocol.objects.filter(active=True).order_by("protocol_id"))


# How a decision under make_knee_infusion_protocol() names its protocol (the API, webhooks).
KNEE_INFUSION_AS_DECIDED = {
    "id": "knee-oa-msc-ind",
    "version": 1,
    "title": "TEST ONLY: stromal cells, intravenous, knee osteoarthritis, under an IND",
    "basis": "ind",
    "reference": "TEST ONLY: IND 000001",
}


def make_knee_infusion_protocol() -> Protocol:
    """A test-only protocol that covers intravenous cells for knee osteoarthritis (the demo set covers
    only local injection), for tests where a specialist amends a knee draft to an infusion."""
    import_protocols(
        data={
            "protocols": [
                KNEE_INFUSION_AS_DECIDED
                | {
                    "route": "intravenous",
                    "indications": ["M17"],
                    "age": {"min": 18, "max": None},
                    "basis_rationale": "",
                    "clinic_role": "sponsor_investigator",
                    "irb_report_days": 10,
                    "requires": [],
                    "limits": {},
                    "follow_up": {"instruments": [], "days": [0, 30]},
                    "active": True,
                }
            ]
        }
    )
    return Protocol.objects.get(protocol_id="knee-oa-msc-ind", active=True)
