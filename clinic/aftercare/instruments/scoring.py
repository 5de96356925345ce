"""What an instrument is as data, how its answers become a score, and DESIGN.md's responder rule
("Follow-up", "Scoring"). Pure: no Django, no database, so the rules are tested on their own and
the same code scores the shipped instruments and the ones a clinic imports."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Better = Literal["higher", "lower"]
LicenceStatus = Literal["free", "unknown", "licensed"]
# single: the score is the one item's answer (pain NRS, SANE). table: the answers' sum looked up
# in the developer's published table (KOOS JR, HOOS JR). scaled_sum: the answers' weights summed
# and mapped linearly from the items' possible range onto score_min..score_max (imported files).
Scoring = Literal["single", "table", "scaled_sum"]


@dataclass(frozen=True)
class Option:
    value: int | float
    label: str


@dataclass(frozen=True)
class Item:
    """One question. Either answer options (the answer is an option's value), or a numeric scale
    from `minimum` to `maximum` in whole steps with its anchors (the answer is the number)."""

    link_id: str
    text: str
    options: tuple[Option, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    min_label: str = ""
    max_label: str = ""
    # The instrument's own instruction for the questions from here on, shown before this one
    # (empty: the previous item's instruction still applies, or there is none).
    section: str = ""

    @property
    def is_scale(self) -> bool:
        return not self.options

    @property
    def lowest(self) -> float:
        return min(option.value for option in self.options) if self.options else self.minimum

    @property
    def highest(self) -> float:
        return max(option.value for option in self.options) if self.options else self.maximum

    def accepts(self, value: object) -> bool:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            return False
        if self.options:
            return any(value == option.value for option in self.options)
        return value == int(value) and self.minimum <= value <= self.maximum

    def label_for(self, value: int | float) -> str:
        """The answer as the patient saw it: the option's label, or the number on the scale."""
        for option in self.options:
            if option.value == value:
                return option.label
        return f"{value:g}"


@dataclass(frozen=True)
class InstrumentSpec:
    key: str
    title: str
    items: tuple[Item, ...]
    better: Better
    score_min: float
    score_max: float
    # Positive magnitudes in the better direction; None: none derived in a comparable population.
    mcid: float | None
    mcid_percent: float | None
    mcid_source: str
    licence: str
    licence_status: LicenceStatus
    licence_source: str
    population_note: str
    scoring: Scoring = "scaled_sum"
    # For scoring "table": the interval score for each raw sum 0, 1, 2, ... (index = raw sum).
    table: tuple[float, ...] = ()
    # Where the item text, options and table were read, for the page that shows the instrument.
    content_source: str = ""

    def __post_init__(self) -> None:
        if not self.items:
            raise ValueError(f"{self.key}: an instrument needs at least one item.")
        link_ids = [item.link_id for item in self.items]
        if len(set(link_ids)) != len(link_ids):
            raise ValueError(f"{self.key}: two items share a linkId.")
        if self.scoring == "single" and len(self.items) != 1:
            raise ValueError(f"{self.key}: a single-item score needs exactly one item.")
        if self.scoring == "table" and len(self.table) != self.raw_max - self.raw_min + 1:
            raise ValueError(
                f"{self.key}: the table needs one score per raw sum {self.raw_min}..{self.raw_max}."
            )
        if self.mcid is not None and self.mcid <= 0:
            raise ValueError(f"{self.key}: an MCID is a positive magnitude.")

    @property
    def raw_min(self) -> float:
        return sum(item.lowest for item in self.items)

    @property
    def raw_max(self) -> float:
        return sum(item.highest for item in self.items)

    def item(self, link_id: str) -> Item:
        for item in self.items:
            if item.link_id == link_id:
                return item
        raise KeyError(link_id)

    def check(self, link_id: str, value: object) -> int | float:
        """The answer if this item accepts it; ValueError with a sentence for the patient's page."""
        try:
            item = self.item(link_id)
        except KeyError:
            raise ValueError(f"{self.title} has no question {link_id!r}.") from None
        if not item.accepts(value):
            if item.options:
                allowed = ", ".join(f"{option.value:g} ({option.label})" for option in item.options)
                raise ValueError(f"Choose one of the answers offered: {allowed}.")
            raise ValueError(f"Give a whole number from {item.minimum} to {item.maximum}.")
        return value

    def score(self, answers: Mapping[str, int | float]) -> float | None:
        """The instrument's score, or None when an item is unanswered: no instrument shipped here
        publishes a rule for missing items that we could verify, so none is imputed."""
        values = []
        for item in self.items:
            if answers.get(item.link_id) is None:
                return None
            values.append(self.check(item.link_id, answers[item.link_id]))
        raw = sum(values)
        if self.scoring == "single":
            return float(raw)
        if self.scoring == "table":
            return self.table[int(raw - self.raw_min)]
        span = self.raw_max - self.raw_min
        return self.score_min + (raw - self.raw_min) * (self.score_max - self.score_min) / span


def improvement(spec: InstrumentSpec, baseline: float, score: float) -> float:
    """The change in the better direction: baseline − follow-up when lower is better, follow-up −
    baseline otherwise; positive means the patient is better."""
    return baseline - score if spec.better == "lower" else score - baseline


def responder(spec: InstrumentSpec, baseline: float | None, score: float) -> tuple[bool | None, bool]:
    """(responder, worsening) by DESIGN.md's rule. Responder when the improvement reaches the MCID
    (or, where the instrument has one, its percentage of the baseline: either threshold; with a
    baseline of 0 a percentage means nothing, so the points threshold only). Worsening when the
    improvement is at most minus the MCID in points, and then never a response. No baseline, or
    no MCID derived in a comparable population: responder None and no worsening flagged."""
    if baseline is None or (spec.mcid is None and spec.mcid_percent is None):
        return None, False
    change = improvement(spec, baseline, score)
    reached = spec.mcid is not None and change >= spec.mcid
    if spec.mcid_percent is not None and baseline != 0 and change > 0:
        # Multiplied out, so 3 points of a baseline of 10 is exactly 30 % (0.3 * 10 is not 3.0).
        reached = reached or change * 100 >= spec.mcid_percent * abs(baseline)
    worsening = spec.mcid is not None and change <= -spec.mcid
    return reached, worsening
