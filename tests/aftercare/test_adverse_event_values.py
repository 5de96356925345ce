"""What a report's values may hold (clinic.aftercare.adverse_event_values), as the partner contract
says: the checks that need no database."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from clinic.aftercare.adverse_event_values import clean_report_values


def partner_values(**reporter) -> dict:
    return dict(
        external_id="AE-1",
        onset=timezone.localdate().isoformat(),
        description="Swollen knee.",
        ctcae_grade=2,
        serious=False,
        seriousness_criteria=[],
        outcome="recovering",
        reporter={"qualification": "physician"} | reporter,
    )


def clean(values: dict) -> dict:
    return clean_report_values(values, source="partner", decided_on=timezone.localdate() - timedelta(days=1))


def test_a_reporter_name_takes_the_contracts_200_characters():
    name = "Dr. " + "Maria-Fernanda de los Santos Albuquerque " * 4  # 168 characters
    assert clean(partner_values(name=name.strip()))["reporter_name"] == name.strip()
    assert clean(partner_values(name="x" * 200))["reporter_name"] == "x" * 200

    with pytest.raises(ValidationError) as excinfo:
        clean(partner_values(name="x" * 201))
    (message,) = excinfo.value.message_dict["reporter.name"]
    assert "201 characters long; shorten it to at most 200" in message
