"""What a report's values may hold (clinic.aftercare.adverse_event_values), as the partner contract
says: the checks that need no database."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from clinic.aftercare import adverse_events
from clinic.aftercare.adverse_event_values import clean_report_values
from clinic.aftercare.models import AdverseEvent
from tests.aftercare.factories import make_course


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


@pytest.mark.django_db
def test_a_patients_flag_with_a_nul_character_is_refused_in_words_not_a_500():
    course = make_course()

    with pytest.raises(ValidationError) as refused:
        adverse_events.flag_from_patient(course_id=course.pk, description="knee swelled\x00 up")

    assert "NUL character" in str(refused.value.message_dict["description"])
    assert not AdverseEvent.objects.filter(course=course).exists()
