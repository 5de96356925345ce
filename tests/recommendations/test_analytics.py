import csv
from datetime import timedelta
from io import StringIO

import pytest

from intake.models import Case
from recommendations import review
from recommendations.analytics import agreement
from recommendations.models import Decision
from recommendations.services import make_draft
from tests.factories import make_case, make_partner, make_referral, make_user


@pytest.fixture(autouse=True)
def _infusion_covered(knee_infusion_protocol):
    """Specialists here amend knee drafts to an infusion, which rule set v3 takes under a protocol."""


URL = "/admin/recommendations/decision/analytics/"


def decide(case, *, amend_to: str | None = None, hours_after_intake: float = 2):
    make_draft(case_id=case.pk)
    doctor = make_user(group="Specialists")
    if amend_to:
        review.amend_draft(case_id=case.pk, user=doctor, route=amend_to, reason="Both knees, and the hip")
    else:
        review.approve_draft(case_id=case.pk, user=doctor)
    # Place the intake so long before the decision.
    decided_at = Decision.objects.get(case=case).decided_at
    Case.objects.filter(pk=case.pk).update(created_at=decided_at - timedelta(hours=hours_after_intake))


@pytest.mark.django_db
def test_agreement_overall_by_route_rule_partner_and_week():
    partner, _ = make_partner("Porto Ortho")
    decide(make_case(), hours_after_intake=2)
    decide(make_case(), hours_after_intake=4)
    # A systemic condition under the demo heart-failure protocol, with the findings it requires.
    heart = {"lvef_percent": 30, "nyha_class": 3}
    decide(make_case(condition_code="I50.22", affected_sites=[], findings=heart), hours_after_intake=10)
    decide(make_referral(partner), amend_to="intravenous", hours_after_intake=30)

    report = agreement()

    assert (report.overall.total, report.overall.matched) == (4, 3)
    routes = {r.label: (r.total, r.matched) for r in report.by_route}
    assert routes == {"Local injection": (3, 2), "Intravenous infusion": (1, 1)}
    rules = {r.label: (r.total, r.matched) for r in report.by_rule}
    assert rules == {"COND-LOCALIZED": (3, 2), "COND-SYSTEMIC": (1, 1), "PROTOCOL-COVERS": (4, 3)}
    partners = {r.label: (r.total, r.matched) for r in report.by_partner}
    assert partners == {"Front desk": (3, 3), "Porto Ortho": (1, 0)}
    (week,) = report.by_week
    assert (week.decisions, week.median_hours) == (4, 7.0)
    assert week.p90_hours == 30.0
    assert [r["reason"] for r in report.reasons] == ["Both knees, and the hip"]


@pytest.mark.django_db
def test_the_admin_page_shows_tables_and_charts_and_exports_csv(client):
    decide(make_case())
    decide(make_case(), amend_to="intravenous")
    client.force_login(make_user("dr_director", group="Specialists", is_staff=True))

    page = client.get(URL).content.decode()
    exported = client.get(URL, {"format": "csv"})

    assert "<strong>1</strong> of <strong>2</strong> decisions chose the drafted route" in page
    assert "<svg" in page and "COND-LOCALIZED" in page and "Both knees, and the hip" in page
    assert "cdn" not in page.lower()
    rows = list(csv.reader(StringIO(exported.content.decode())))
    assert exported["Content-Type"].startswith("text/csv")
    assert ["overall", "All decisions", "2", "1", "50.0"] in rows


@pytest.mark.django_db
def test_only_specialists_see_the_analytics(client):
    client.force_login(make_user(is_staff=True))
    assert client.get(URL).status_code == 403
    client.force_login(make_user(group="Front desk"))
    assert client.get(URL).status_code == 302
