from datetime import date

import pytest
from django.db import IntegrityError, transaction

from intake import chain
from intake.models import Case, CaseEvent, ImmutableRecordError, Patient
from recommendations.models import Addendum, Decision, Recommendation
from recommendations.services import make_draft
from tests.factories import make_case, make_partner, make_patient, make_user


def refused_by_database(fn) -> bool:
    try:
        with transaction.atomic():
            fn()
    except IntegrityError:
        return True
    return False


@pytest.mark.django_db
def test_status_outside_the_state_machine_is_refused_by_the_database():
    case = make_case()
    assert refused_by_database(lambda: Case.objects.filter(pk=case.pk).update(status="approved"))


@pytest.mark.django_db
def test_mrn_is_unique():
    make_patient(mrn="MRN-1")
    assert refused_by_database(
        lambda: Patient.objects.create(
            mrn="MRN-1", given_name="B", family_name="C", birth_date=date(1990, 1, 1), sex="male"
        )
    )


@pytest.mark.django_db
def test_issued_mrns_are_distinct():
    mrns = {make_patient().mrn for _ in range(20)}
    assert len(mrns) == 20


@pytest.mark.django_db
def test_external_id_is_unique_per_partner_only():
    partner_a, _ = make_partner()
    partner_b, _ = make_partner()
    make_case(partner=partner_a, external_id="RF-1")
    make_case(partner=partner_b, external_id="RF-1")  # another partner may reuse it

    assert refused_by_database(lambda: make_case(partner=partner_a, external_id="RF-1"))
    assert Case.objects.filter(external_id="RF-1").count() == 2


@pytest.mark.django_db
def test_a_partner_case_must_name_its_partner():
    case = make_case()
    assert refused_by_database(lambda: Case.objects.filter(pk=case.pk).update(source="partner"))


def drafted_case() -> tuple[Case, Recommendation]:
    case = make_case()
    return case, make_draft(case_id=case.pk)


@pytest.mark.django_db
def test_one_decision_per_case():
    case, draft = drafted_case()
    specialist = make_user()
    chain.append(
        Decision(
            case=case,
            recommendation=draft,
            route="local_injection",
            outcome="approved",
            decided_by=specialist,
        )
    )

    assert refused_by_database(
        lambda: chain.append(
            Decision(
                case=case,
                recommendation=draft,
                route="intravenous",
                outcome="amended",
                reason="second",
                decided_by=specialist,
            )
        )
    )


@pytest.mark.django_db
def test_a_decision_other_than_approval_needs_a_reason():
    case, draft = drafted_case()
    assert refused_by_database(
        lambda: chain.append(
            Decision(
                case=case,
                recommendation=draft,
                route="intravenous",
                outcome="amended",
                reason="",
                decided_by=make_user(),
            )
        )
    )


@pytest.mark.django_db
def test_the_permanent_record_cannot_be_changed_or_deleted_through_the_models():
    case, draft = drafted_case()
    user = make_user()
    decision = chain.append(
        Decision(
            case=case, recommendation=draft, route="local_injection", outcome="approved", decided_by=user
        )
    )
    addendum = chain.append(Addendum(decision=decision, author=user, reason="typo in note"))
    event = case.events.first()

    for row in (draft, decision, addendum, event):
        with pytest.raises(ImmutableRecordError, match="cannot be changed"):
            row.save()
        with pytest.raises(ImmutableRecordError, match="cannot be deleted"):
            row.delete()
    for model in (Recommendation, Decision, Addendum, CaseEvent):
        with pytest.raises(ImmutableRecordError):
            model.objects.all().update()
        with pytest.raises(ImmutableRecordError):
            model.objects.all().delete()

    decision.refresh_from_db()
    assert (decision.outcome, decision.reason) == ("approved", "")
