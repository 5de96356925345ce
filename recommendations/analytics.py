"""Agreement analytics: how often the specialists' decisions match the drafts, and how fast."""

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TextIO

from intake import exports
from recommendations.models import Decision, DraftRoute, FinalRoute, Outcome


@dataclass
class Rate:
    label: str
    total: int = 0
    matched: int = 0

    @property
    def percent(self) -> float:
        return 100 * self.matched / self.total if self.total else 0.0


def duration(hours: float) -> tuple[float, str]:
    """A time as a person reads it ("12 min", "7.5 h", "3.2 days"), and the hours that reading
    stands for, so that a bar drawn from it is exactly as long as its number says."""
    minutes = round(hours * 60)
    if minutes < 1:
        return 0, "under 1 min"
    if minutes < 60:
        return minutes / 60, f"{minutes} min"
    if hours < 48:
        shown = round(hours, 1)
        return shown, f"{shown:.1f} h"
    days = round(hours / 24, 1)
    return days * 24, f"{days:.1f} days"


@dataclass
class Week:
    week: str
    decisions: int
    median_hours: float
    p90_hours: float

    @property
    def median_label(self) -> str:
        return duration(self.median_hours)[1]

    @property
    def p90_label(self) -> str:
        return duration(self.p90_hours)[1]


@dataclass(frozen=True)
class WeekBar:
    week: Week
    median_percent: float  # of the longest 90th percentile shown, as read (duration)
    p90_percent: float


def week_bars(weeks: list[Week]) -> list[WeekBar]:
    """Each week's bars, on one scale for all weeks: the longest 90th percentile is the full width."""
    shown = [(duration(w.median_hours)[0], duration(w.p90_hours)[0]) for w in weeks]
    longest = max((p90 for _, p90 in shown), default=0) or 1
    return [
        WeekBar(week, 100 * median / longest, 100 * p90 / longest)
        for week, (median, p90) in zip(weeks, shown, strict=True)
    ]


@dataclass
class Agreement:
    overall: Rate
    by_route: list[Rate]
    by_rule: list[Rate]
    by_partner: list[Rate]
    by_week: list[Week]
    reasons: list[dict] = field(default_factory=list)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def agreement() -> Agreement:
    """One pass over the decisions (with their drafts and cases)."""
    overall = Rate("All decisions")
    routes: dict[str, Rate] = {}
    rules: dict[str, Rate] = {}
    partners: dict[str, Rate] = {}
    weeks: dict[str, list[float]] = defaultdict(list)
    reasons = []
    decisions = (
        Decision.objects.select_related("recommendation", "case__partner", "decided_by")
        .only(
            "route",
            "outcome",
            "reason",
            "decided_at",
            "decided_by__username",
            "recommendation__route",
            "recommendation__rules",
            "case__created_at",
            "case__partner__name",
        )
        # Sandbox decisions are automatic and about test patients: they say nothing of agreement.
        .filter(case__sandbox=False)
        .order_by("decided_at")
    )
    for decision in decisions.iterator(chunk_size=2000):
        draft = decision.recommendation
        matched = decision.route == draft.route
        groups = [
            overall,
            routes.setdefault(draft.route, Rate(DraftRoute(draft.route).label)),
            partners.setdefault(
                decision.case.partner.name if decision.case.partner else "Front desk",
                Rate(decision.case.partner.name if decision.case.partner else "Front desk"),
            ),
            *(rules.setdefault(rule["id"], Rate(rule["id"])) for rule in draft.rules),
        ]
        for rate in groups:
            rate.total += 1
            rate.matched += matched
        year, week, _ = decision.decided_at.isocalendar()
        weeks[f"{year}-W{week:02d}"].append(
            (decision.decided_at - decision.case.created_at).total_seconds() / 3600
        )
        if decision.outcome != Outcome.APPROVED:
            reasons.append(
                {
                    "decided_at": decision.decided_at,
                    "outcome": decision.get_outcome_display(),
                    "draft_route": DraftRoute(draft.route).label,
                    "final_route": FinalRoute(decision.route).label,
                    "reason": decision.reason,
                    "specialist": decision.decided_by.get_username(),
                }
            )
    return Agreement(
        overall=overall,
        by_route=sorted(routes.values(), key=lambda r: -r.total),
        by_rule=sorted(rules.values(), key=lambda r: -r.total),
        by_partner=sorted(partners.values(), key=lambda r: -r.total),
        by_week=[
            Week(week, len(hours), statistics.median(hours), _percentile(hours, 0.9))
            for week, hours in sorted(weeks.items())
        ],
        reasons=list(reversed(reasons))[:100],
    )


def write_csv(out: TextIO, report: Agreement) -> None:
    writer = exports.writer(out)
    writer.writerow(["section", "group", "decisions", "matching_draft", "percent"])
    for section, rates in (
        ("overall", [report.overall]),
        ("route", report.by_route),
        ("rule", report.by_rule),
        ("partner", report.by_partner),
    ):
        for rate in rates:
            writer.writerow([section, rate.label, rate.total, rate.matched, f"{rate.percent:.1f}"])
    writer.writerow([])
    writer.writerow(["week", "decisions", "median_hours_intake_to_decision", "p90_hours"])
    for week in report.by_week:
        writer.writerow([week.week, week.decisions, f"{week.median_hours:.1f}", f"{week.p90_hours:.1f}"])
    writer.writerow([])
    writer.writerow(["decided_at", "outcome", "draft_route", "final_route", "specialist", "reason"])
    for reason in report.reasons:
        writer.writerow(
            [
                reason["decided_at"].isoformat(),
                reason["outcome"],
                reason["draft_route"],
                reason["final_route"],
                reason["specialist"],
                reason["reason"],
            ]
        )
