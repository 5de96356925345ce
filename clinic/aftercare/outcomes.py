"""How treated patients did, per protocol and route (DESIGN.md, "Learning"): responders per time point
and instrument with a 95 % confidence interval, completion per time point, adverse events per 100
treatments; and, for each rule set, how the patients whose drafted route matched the route given did
(live drafts beside shadow drafts, RULESET_SHADOW). Reads only; sandbox courses never count.

Definitions (the page and its CSV say the same):
- a **treatment** is a treated course (its first session signed); only treated courses count here;
- a time point is **due** once its date has come, or earlier when it was answered or closed; it is
  **answered** when its form was submitted (at the link, the desk or by phone); completion is
  answered / due, and the due ones still open (link sent, on the call list) are shown beside;
- **responders** at a time point: the submitted responses with a responder value (the instrument has
  an MCID for the population: DESIGN.md, "Scoring") that are responders; a response without one
  (SANE, a baseline of 0 on a points-only rule) is counted as scored, never as a non-responder;
- **adverse events** are those staff confirmed (staff-entered ones are confirmed as entered); the
  ones still awaiting triage are shown beside, never counted;
- a **patient's outcome** (for the rule-set comparison and `replay_rules --against`) is the
  responder value at their latest answered follow-up time point, on the first instrument the time
  point lists that has one (pain_nrs on the demo knee and hip protocols).

The interval is Wilson's score interval: Wilson EB, "Probable inference, the law of succession, and
statistical inference", J Am Stat Assoc 1927;22(158):209-212, doi:10.1080/01621459.1927.10502953;
method 3 of Newcombe RG, "Two-sided confidence intervals for the single proportion: comparison of
seven methods", Stat Med 1998;17(8):857-872, which recommends it over the textbook
p ± 1.96·sqrt(p(1-p)/n): it stays inside 0-100 % and keeps its coverage in the small groups a
clinic has. The tests reproduce R's binom.confint(method = "wilson")."""

import math
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TextIO

from django.db.models import Count, F, Max, Q, QuerySet
from django.db.models.fields.json import KeyTextTransform
from django.utils import timezone

from clinic.aftercare.models import AdverseEvent, FormResponse, TimePoint, TreatmentCourse
from clinic.aftercare.vocabulary import Triage
from intake import exports
from recommendations.selectors import decided_drafts

# The standard normal quantile for a two-sided 95 % interval.
Z_95 = 1.959963984540054
State = TimePoint.State
ENDED = (State.COMPLETED, State.UNREACHABLE, State.CLOSED)
OPEN = (State.WAITING, State.INVITED, State.CALL)


def wilson(k: int, n: int, z: float = Z_95) -> tuple[float, float] | None:
    """Wilson's score interval for k successes in n trials, as fractions; None when n is 0.

    centre = (p + z²/2n) / (1 + z²/n), half-width = z·sqrt(p(1-p)/n + z²/4n²) / (1 + z²/n)."""
    if n <= 0:
        return None
    if not 0 <= k <= n:
        raise ValueError(f"{k} successes out of {n} trials")
    p, z2 = k / n, z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    # At k = 0 or k = n a bound is exactly 0 or 1; rounding must not put it a hair outside.
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Proportion:
    k: int
    n: int

    @property
    def percent(self) -> float | None:
        return 100 * self.k / self.n if self.n else None

    @property
    def interval(self) -> tuple[float, float] | None:
        """The 95 % Wilson interval, in percent."""
        bounds = wilson(self.k, self.n)
        return (100 * bounds[0], 100 * bounds[1]) if bounds else None


@dataclass
class InstrumentDay:
    instrument: str
    scored: int = 0  # submitted and scored
    with_value: int = 0  # of those, with a responder value
    responders: int = 0

    @property
    def responder_rate(self) -> Proportion:
        return Proportion(self.responders, self.with_value)


@dataclass
class DayRow:
    day: int
    due: int = 0
    answered: int = 0
    still_open: int = 0
    instruments: dict[str, InstrumentDay] = field(default_factory=dict)

    @property
    def completion(self) -> Proportion:
        return Proportion(self.answered, self.due)


@dataclass
class Group:
    """One protocol (all its versions) and route given."""

    protocol_id: str
    protocol_title: str
    route: str
    treated: int = 0
    adverse_events: int = 0  # confirmed
    serious: int = 0
    courses_with_event: int = 0
    awaiting_triage: int = 0
    days: dict[int, DayRow] = field(default_factory=dict)

    @property
    def per_100(self) -> float | None:
        return 100 * self.adverse_events / self.treated if self.treated else None

    @property
    def serious_per_100(self) -> float | None:
        return 100 * self.serious / self.treated if self.treated else None

    @property
    def event_courses(self) -> Proportion:
        return Proportion(self.courses_with_event, self.treated)

    @property
    def instruments(self) -> list[str]:
        seen: dict[str, None] = {}
        for row in self.day_rows:
            seen.update(dict.fromkeys(row.instruments))
        return list(seen)

    @property
    def day_rows(self) -> list[DayRow]:
        return [self.days[day] for day in sorted(self.days)]


@dataclass
class RulesetOutcome:
    """A rule set's drafts, live or shadow, on the cases compared."""

    ruleset: str
    shadow: bool
    drafted: int = 0
    matched: int = 0  # drafted the route the specialist gave
    followed: int = 0  # of those, patients with an outcome
    responders: int = 0

    @property
    def agreement(self) -> Proportion:
        return Proportion(self.matched, self.drafted)

    @property
    def responder_rate(self) -> Proportion:
        return Proportion(self.responders, self.followed)


@dataclass
class Comparison:
    rows: list[RulesetOutcome]
    cases: int  # decided clinic cases compared
    with_shadow: bool  # False: no shadow draft yet, the live rule sets on every decided case


@dataclass
class Outcomes:
    groups: list[Group]
    comparison: Comparison


def _treated() -> QuerySet[TreatmentCourse]:
    return TreatmentCourse.objects.filter(sandbox=False, treated_at__isnull=False)


def _key(values: dict) -> tuple[str, str]:
    return values["pid"] or "", values["route"]


def outcome_groups() -> list[Group]:
    """Every protocol and route with a treated course: five grouped queries."""
    courses = _treated()
    groups: dict[tuple[str, str], Group] = {}
    for row in (
        courses.values(pid=KeyTextTransform("id", "protocol"), route_given=F("route"))
        .annotate(n=Count("id"), title=Max(KeyTextTransform("title", "protocol")))
        .order_by()
    ):
        key = (row["pid"] or "", row["route_given"])
        groups[key] = Group(key[0], row["title"] or "", key[1], treated=row["n"])

    today = timezone.localdate()
    due = Q(due_on__lte=today) | Q(state__in=ENDED)
    for row in (
        TimePoint.objects.filter(course__in=courses)
        .values("day", pid=KeyTextTransform("id", "course__protocol"), route=F("course__route"))
        .annotate(
            due=Count("id", filter=due),
            answered=Count("id", filter=Q(state=State.COMPLETED)),
            still_open=Count("id", filter=due & Q(state__in=OPEN)),
        )
        .order_by()
    ):
        groups[_key(row)].days[row["day"]] = DayRow(
            row["day"], due=row["due"], answered=row["answered"], still_open=row["still_open"]
        )

    scored = FormResponse.objects.filter(
        time_point__course__in=courses,
        time_point__day__gt=0,
        submitted_at__isnull=False,
        score__isnull=False,
    )
    for row in (
        scored.values(
            "instrument",
            day=F("time_point__day"),
            pid=KeyTextTransform("id", "time_point__course__protocol"),
            route=F("time_point__course__route"),
        )
        .annotate(
            scored=Count("id"),
            with_value=Count("id", filter=Q(responder__isnull=False)),
            responders=Count("id", filter=Q(responder=True)),
        )
        .order_by()
    ):
        day = groups[_key(row)].days.setdefault(row["day"], DayRow(row["day"]))
        day.instruments[row["instrument"]] = InstrumentDay(
            row["instrument"], row["scored"], row["with_value"], row["responders"]
        )

    _in_listed_order(groups, courses)
    confirmed = Q(triage=Triage.CONFIRMED)
    for row in (
        AdverseEvent.objects.filter(course__in=courses, sandbox=False)
        .values(pid=KeyTextTransform("id", "course__protocol"), route=F("course__route"))
        .annotate(
            confirmed=Count("id", filter=confirmed),
            serious=Count("id", filter=confirmed & Q(serious=True)),
            courses=Count("course", filter=confirmed, distinct=True),
            awaiting=Count("id", filter=Q(triage=Triage.RECEIVED)),
        )
        .order_by()
    ):
        group = groups[_key(row)]
        group.adverse_events, group.serious = row["confirmed"], row["serious"]
        group.courses_with_event, group.awaiting_triage = row["courses"], row["awaiting"]
    return [groups[key] for key in sorted(groups)]


def _in_listed_order(groups: dict[tuple[str, str], Group], courses: QuerySet[TreatmentCourse]) -> None:
    """Each day's instruments in the order the protocol lists them (pain first on the demo ones)."""
    listed: dict[tuple[str, str], dict[str, int]] = {}
    for row in (
        TimePoint.objects.filter(course__in=courses)
        .values("instruments", pid=KeyTextTransform("id", "course__protocol"), route=F("course__route"))
        .distinct()
        .order_by()
    ):
        order = listed.setdefault(_key(row), {})
        for instrument in row["instruments"] or []:
            order.setdefault(instrument, len(order))
    for key, group in groups.items():
        order = listed.get(key, {})
        for day in group.days.values():
            ranked = sorted(
                day.instruments.items(), key=lambda item: (order.get(item[0], len(order)), item[0])
            )
            day.instruments = dict(ranked)


def responders_by_case(case_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, bool]:
    """Each treated patient's outcome among `case_ids` (see the module's definitions): True for a
    responder, False for not; a patient with no responder value yet is left out."""
    rows = (
        FormResponse.objects.filter(
            case_id__in=list(case_ids),
            time_point__course__sandbox=False,
            time_point__day__gt=0,
            submitted_at__isnull=False,
            responder__isnull=False,
        )
        .order_by("case_id", "-time_point__day")
        .values_list("case_id", "time_point__day", "time_point__instruments", "instrument", "responder")
    )
    best: dict[uuid.UUID, tuple[int, int, bool]] = {}  # case -> (day, -rank in the list, responder)
    for case_id, day, listed, instrument, responder in rows:
        rank = listed.index(instrument) if instrument in (listed or []) else len(listed or [])
        candidate = (day, -rank, responder)
        if case_id not in best or candidate[:2] > best[case_id][:2]:
            best[case_id] = candidate
    return {case_id: found[2] for case_id, found in best.items()}


def compare_rulesets() -> Comparison:
    """For each rule set, live and shadow: on the decided clinic cases that have a shadow draft (or,
    before any, on every decided case), how often its draft matched the route given, and the
    responder rate of those patients."""
    decided = decided_drafts()
    with_shadow = [d for d in decided if d.shadows]
    compared = with_shadow or decided
    outcomes = responders_by_case(d.case_id for d in compared)
    rows: dict[tuple[str, bool], RulesetOutcome] = {}
    for case in compared:
        drafts = [(case.live[0], False, case.live[1])]
        drafts += [(ruleset, True, route) for ruleset, route in case.shadows.items()]
        for ruleset, shadow, route in drafts:
            row = rows.setdefault((ruleset, shadow), RulesetOutcome(ruleset, shadow))
            row.drafted += 1
            if route == case.route_given:
                row.matched += 1
                if case.case_id in outcomes:
                    row.followed += 1
                    row.responders += outcomes[case.case_id]
    ordered = sorted(rows.values(), key=lambda r: (r.shadow, r.ruleset))
    return Comparison(ordered, cases=len(compared), with_shadow=bool(with_shadow))


def outcomes() -> Outcomes:
    return Outcomes(groups=outcome_groups(), comparison=compare_rulesets())


def _figures(proportion: Proportion) -> list:
    interval = proportion.interval
    return [
        proportion.k,
        proportion.n,
        round(proportion.percent, 1) if proportion.percent is not None else "",
        round(interval[0], 1) if interval else "",
        round(interval[1], 1) if interval else "",
    ]


def write_csv(out: TextIO, report: Outcomes) -> None:
    """One table: each figure with its numerator, denominator, percent and 95 % Wilson interval."""
    writer = exports.writer(out)
    writer.writerow(
        ["section", "protocol", "route", "day", "instrument_or_ruleset", "numerator", "denominator",
         "percent", "ci95_low", "ci95_high"]
    )  # fmt: skip
    for group in report.groups:
        where = [group.protocol_id or "none", group.route]
        for row in group.day_rows:
            writer.writerow(["completion", *where, row.day, "", *_figures(row.completion)])
            for item in row.instruments.values():
                writer.writerow(
                    ["responders", *where, row.day, item.instrument, *_figures(item.responder_rate)]
                )
        writer.writerow(["courses_with_adverse_event", *where, "", "", *_figures(group.event_courses)])
        per_100 = round(group.per_100, 1) if group.per_100 is not None else ""
        writer.writerow(["adverse_events_per_100_treatments", *where, "", "", group.adverse_events,
                         group.treated, per_100, "", ""])  # fmt: skip
        serious = round(group.serious_per_100, 1) if group.serious_per_100 is not None else ""
        writer.writerow(["serious_adverse_events_per_100_treatments", *where, "", "", group.serious,
                         group.treated, serious, "", ""])  # fmt: skip
    for row in report.comparison.rows:
        name = f"{row.ruleset} ({'shadow' if row.shadow else 'live'})"
        writer.writerow(["ruleset_agreement", "", "", "", name, *_figures(row.agreement)])
        writer.writerow(["ruleset_responders_when_matched", "", "", "", name, *_figures(row.responder_rate)])
