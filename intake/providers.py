"""What the intake app asks of the apps above it, without importing them.

The partner API publishes which findings a protocol requires for a condition (rule set v3, rule 4),
but protocols belong to the recommendations app, which intake may not import. That app registers
the answer here in its `AppConfig.ready()`, as it registers what follows a status move
(intake.workflow.on_move). Until something is registered no finding is required.

Likewise how patients did after treatment belongs to clinic.aftercare, above the recommendations
app whose `replay_rules` scores rule sets against it: that app registers it here. Until something
is registered no case has an outcome.
"""

import uuid
from collections.abc import Callable, Iterable

RequiredFindings = Callable[[str], set[str]]
_required_findings: list[RequiredFindings] = []


def register_required_findings(provider: RequiredFindings) -> None:
    """Register `provider(code) -> keys`. Registering the same provider twice is a no-op."""
    if provider not in _required_findings:
        _required_findings.append(provider)


def required_findings(code: str) -> set[str]:
    """The finding keys an active protocol listing the ICD-10-CM `code` (canonical form) requires."""
    keys: set[str] = set()
    for provider in _required_findings:
        keys |= provider(code)
    return keys


# case ids -> {case id: True (a responder) or False}, for those of the cases with an outcome.
PatientOutcomes = Callable[[Iterable[uuid.UUID]], dict[uuid.UUID, bool]]
_patient_outcomes: list[PatientOutcomes] = []


def register_patient_outcomes(provider: PatientOutcomes) -> None:
    """Register `provider(case_ids) -> {case_id: responder}`. Registering it twice is a no-op."""
    if provider not in _patient_outcomes:
        _patient_outcomes.append(provider)


def patient_outcomes(case_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, bool]:
    """Whether each patient treated in `case_ids` responded, for those with an outcome yet."""
    case_ids = list(case_ids)
    found: dict[uuid.UUID, bool] = {}
    for provider in _patient_outcomes:
        found |= provider(case_ids)
    return found
