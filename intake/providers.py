"""What the intake app asks of the apps above it, without importing them.

The partner API publishes which findings a protocol requires for a condition (rule set v3, rule 4),
but protocols belong to the recommendations app, which intake may not import. That app registers
the answer here in its `AppConfig.ready()`, as it registers what follows a status move
(intake.workflow.on_move). Until something is registered no finding is required.
"""

from collections.abc import Callable

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
