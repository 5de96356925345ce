"""What the faces read: a case through intake's selectors, its draft and decision through
recommendations'. Composed here, above both apps, so neither app names the other's tables."""

import uuid

from django.db.models import QuerySet

from intake import selectors as cases
from intake.models import Case, Partner
from recommendations.selectors import with_decision


def partner_referrals(*, partner: Partner, status: str | None = None) -> QuerySet[Case]:
    """The partner's own referrals, each with its decision and treatment course (one SELECT)."""
    return with_decision(cases.partner_referrals(partner=partner, status=status)).select_related(
        "treatment_course"
    )


def partner_case(*, partner: Partner, case_id: uuid.UUID | str) -> Case:
    """One of the partner's own referrals, with its decision; another partner's id is simply not
    found (Case.DoesNotExist)."""
    return partner_referrals(partner=partner).get(pk=case_id)


def board() -> list[cases.Group]:
    """The desk's board, a decided card showing its decision."""
    return cases.board(cards=with_decision)


def case_page(case_id: uuid.UUID | str) -> Case:
    """A case with what its desk page and print view show. Raises Case.DoesNotExist, also for a
    sandbox partner's test case."""
    return with_decision(cases.desk_cases()).get(pk=case_id)
