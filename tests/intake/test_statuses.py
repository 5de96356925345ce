"""The status table is the one place a status's meaning is written; these tests fail
when a status lacks a row, or a row lacks (or garbles) a fact."""

import dataclasses
import json
import subprocess
import sys

import pytest

from intake.statuses import BOARD_GROUPS, PROGRESS_STEPS, STATUS, CaseStatus, StatusFacts

# FHIR R4 value sets (hl7.org/fhir/R4/valueset-task-status.html, valueset-request-status.html).
FHIR_TASK_STATUSES = {
    "draft", "requested", "received", "accepted", "rejected", "ready", "cancelled",
    "in-progress", "on-hold", "failed", "completed", "entered-in-error",
}  # fmt: skip
FHIR_REQUEST_STATUSES = {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"}
# The partner contract (DESIGN.md): the statuses a partner is told of, and their event names.
CONTRACT_EVENTS = {
    "decided": "referral.decided",
    "needs_information": "referral.needs_information",
    "withdrawn": "referral.withdrawn",
}


def test_every_status_has_a_row_and_every_row_a_status():
    assert set(STATUS) == set(CaseStatus.values)


@pytest.mark.parametrize("status", CaseStatus.values)
def test_every_fact_of_every_status_is_present_and_meaningful(status):
    facts = STATUS[status]
    for fact in dataclasses.fields(StatusFacts):
        assert hasattr(facts, fact.name), f"{status} lacks {fact.name}"
    assert facts.next <= set(CaseStatus.values)
    assert facts.final == (not facts.next), "a final status allows no move, and only a final one"
    assert facts.partner_event == CONTRACT_EVENTS.get(status)
    assert facts.board_group in {group.key for group in BOARD_GROUPS}
    assert facts.progress_step is None or 0 <= facts.progress_step < len(PROGRESS_STEPS)
    assert facts.fhir_task in FHIR_TASK_STATUSES
    assert facts.fhir_request in FHIR_REQUEST_STATUSES
    assert isinstance(facts.desk_note, str) and isinstance(facts.awaits_draft, bool)


def test_a_row_without_a_fact_cannot_be_written():
    # Every fact is a required field: leaving one out is an error at import, not a gap at run time.
    facts = dataclasses.asdict(STATUS[CaseStatus.RECEIVED])
    del facts["fhir_task"]
    with pytest.raises(TypeError, match="fhir_task"):
        StatusFacts(**facts)


def test_every_board_group_holds_a_status():
    assert {group.key for group in BOARD_GROUPS} == {facts.board_group for facts in STATUS.values()}


# The case kernel stands alone: intake is the only app of ours installed, with its own ready().
IMPORT_WORKFLOW = """
import json, sys
import django
from django.conf import settings

settings.configure(
    INSTALLED_APPS=[
        "django.contrib.contenttypes",
        "django.contrib.auth",
        "rest_framework_api_key",
        "intake",
    ],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
)
django.setup()
import intake.workflow
print(json.dumps(sorted(m for m in sys.modules if m.startswith(("intake", "recommendations", "clinic")))))
"""
ADAPTERS = ("clinic", "recommendations", "intake.admin", "intake.management", "intake.tasks")


def test_the_state_machine_loads_with_intake_alone_and_imports_no_adapter_and_no_recommendations():
    run = subprocess.run([sys.executable, "-c", IMPORT_WORKFLOW], capture_output=True, text=True, check=True)
    loaded = json.loads(run.stdout)
    assert "intake.workflow" in loaded
    assert [module for module in loaded if module.startswith(ADAPTERS)] == []
