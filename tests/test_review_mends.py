"""Mends from the review of this round's work: each a defect a reviewer reproduced."""

from datetime import date

import pytest

from clinic.logs import without_query
from intake.audit import verify_chains
from intake.vocabulary.findings import BY_KEY, check_value
from recommendations.models import Protocol
from recommendations.protocols import save_protocol
from recommendations.selectors import active_protocols
from tests.factories import make_case, make_demo_protocols


@pytest.mark.django_db
def test_a_case_with_several_findings_verifies_although_the_database_reorders_their_keys():
    make_case(findings={"imaging_date": "2025-01-01", "kl_grade": 3, "conservative_care_months": 6})

    assert list(verify_chains()) == []


@pytest.mark.django_db
def test_saving_a_protocol_unticked_switches_it_off():
    make_demo_protocols()
    knee = Protocol.objects.get(protocol_id="knee-oa-bmac", active=True)

    save_protocol(protocol_id="knee-oa-bmac", data={**knee.as_dict(), "active": False})

    versions = sorted(Protocol.objects.filter(protocol_id="knee-oa-bmac").values_list("version", "active"))
    assert versions == [(1, False), (2, False)]
    assert "knee-oa-bmac" not in {protocol.id for protocol in active_protocols()}


@pytest.mark.parametrize(
    ("key", "value"), [("kl_grade", 10**400), ("lvef_percent", -(10**30)), ("imaging_date", "2020-W01-1")]
)
def test_a_finding_too_large_to_write_or_a_week_date_is_a_field_error_not_a_crash(key, value):
    checked, error = check_value(BY_KEY[key], value, today=date(2026, 12, 6))

    assert checked is None and error.startswith(BY_KEY[key].label)


def test_a_query_holding_a_quote_is_still_left_out_of_a_log_line():
    line = without_query("POST /desk/patients/?q=O'Brien+1961-04-02 HTTP/1.1")

    assert "Brien" not in line and "1961" not in line
