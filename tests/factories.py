"""Small builders for test data; each test states what it changes."""

import itertools
from datetime import date

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from intake.models import CONTRAINDICATIONS, Case, Partner, Patient
from intake.partners import create_partner
from intake.services import create_case, create_patient
from intake.workflow import SYSTEM, Actor

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
    )
    return create_case(patient=patient or make_patient(), actor=actor, **(fields | overrides))


def make_user(username: str | None = None, *, group: str | None = None, **fields):
    user = get_user_model().objects.create_user(
        username=username or f"user{next(_seq)}", password="pw-for-tests-1", **fields
    )
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user
