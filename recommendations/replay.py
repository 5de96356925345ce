"""Rule replay: re-draft decided cases in memory with a rule set version and compare, with the
specialists' decisions and, where patients were followed up, with how they did."""

import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from intake import providers
from recommendations import engine
from recommendations.models import Decision
from recommendations.selectors import active_protocols
from recommendations.services import engine_config

# `against` value: compare with each case's draft re-made by the rule set it was drafted with.
DRAFTED_WITH = "drafted"


@dataclass
class Difference:
    case_id: str
    old_route: str
    new_route: str
    decided_route: str
    old_flags: list[str]
    new_flags: list[str]


@dataclass
class Responders:
    """Of the patients whose draft matched the route given: how many have an outcome yet, and how
    many of those responded (clinic.aftercare.outcomes.responders_by_case says what that means)."""

    with_outcome: int = 0
    responders: int = 0

    @property
    def percent(self) -> float | None:
        return 100 * self.responders / self.with_outcome if self.with_outcome else None


@dataclass
class ReplayReport:
    ruleset: str
    total: int = 0
    same_as_old: int = 0
    old_agreed_with_specialist: int = 0
    new_agrees_with_specialist: int = 0
    changes: Counter = field(default_factory=Counter)
    drafted_with: Counter = field(default_factory=Counter)  # rule set -> cases drafted with it
    differences: list[Difference] = field(default_factory=list)
    old_responders: Responders = field(default_factory=Responders)
    new_responders: Responders = field(default_factory=Responders)


def _count_responders(report: ReplayReport, matched: dict[uuid.UUID, tuple[bool, bool]], batch: int) -> None:
    """Ask for the outcomes of the patients whose old or new draft matched the route given."""
    ids = list(matched)
    for start in range(0, len(ids), batch):
        for case_id, responded in providers.patient_outcomes(ids[start : start + batch]).items():
            old, new = matched[case_id]
            for counted, tally in ((old, report.old_responders), (new, report.new_responders)):
                if counted:
                    tally.with_outcome += 1
                    tally.responders += responded


def decided_count() -> int:
    return Decision.objects.count()


def _decisions(batch: int) -> Iterator[Decision]:
    return (
        Decision.objects.select_related("recommendation")
        .only(
            "case_id",
            "route",
            "recommendation__route",
            "recommendation__flags",
            "recommendation__engine_input",
            "recommendation__ruleset_version",
        )
        .order_by("decided_at")
        .iterator(chunk_size=batch)
    )


def replay(
    *,
    ruleset: str,
    against: str | None = None,
    progress: Callable[[int], None] = lambda n: None,
    batch: int = 1000,
) -> ReplayReport:
    """Re-draft every decided case with `ruleset` from the input its old draft saw, and compare
    with the stored draft, or (with `against`) with a draft of that version made the same way, or
    (`against` DRAFTED_WITH) with one made by the rule set the case was drafted with. Rule set v3
    drafts with the clinic's active and effective protocols."""
    for version in (ruleset, against):
        if version not in (None, DRAFTED_WITH) and version not in engine.RULESETS:
            raise KeyError(version)
    draft, report = engine.RULESETS[ruleset], ReplayReport(ruleset=ruleset)
    config = engine_config(active_protocols())
    matched: dict[uuid.UUID, tuple[bool, bool]] = {}  # case -> (old matched, new matched)
    for done, decision in enumerate(_decisions(batch), start=1):
        intake = engine.intake_from_snapshot(decision.recommendation.engine_input)
        if against == DRAFTED_WITH:
            old = engine.RULESETS[decision.recommendation.ruleset_version](intake, config)
            report.drafted_with[decision.recommendation.ruleset_version] += 1
        elif against:
            old = engine.RULESETS[against](intake, config)
        else:
            old = decision.recommendation
        new = draft(intake, config)
        report.total += 1
        same = new.route == old.route and list(new.flags) == list(old.flags)
        report.same_as_old += same
        old_matched, new_matched = old.route == decision.route, new.route == decision.route
        report.old_agreed_with_specialist += old_matched
        report.new_agrees_with_specialist += new_matched
        if old_matched or new_matched:
            matched[decision.case_id] = (old_matched, new_matched)
        if not same:
            report.changes[(old.route, new.route)] += 1
            report.differences.append(
                Difference(
                    str(decision.case_id),
                    old.route,
                    new.route,
                    decision.route,
                    list(old.flags),
                    list(new.flags),
                )
            )
        if done % 100 == 0:
            progress(done)
    progress(report.total)
    _count_responders(report, matched, batch)
    return report
