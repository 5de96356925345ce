"""The stop lists of rule set v3 (DESIGN.md, rule 5), as data with a descriptor and a source beside
every entry (`data/stops_v3.json`), and the pure look-ups the draft engine makes in them.

Ranges are matched by position in the code set's tabular order (`tabular.in_spec`). Within a
class the first matching entry names it (D46 "a myelodysplastic syndrome" before D37-D48), and
an entry's `except` codes, or a class's `not_stops` (infection sequelae, post COVID-19 condition,
postherpetic neuralgia, history of infection), are not stops of that class.
"""

import json
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from intake.vocabulary.tabular import in_spec

STOPS_FILE = Path(__file__).parent / "data" / "stops_v3.json"
CLASS_ORDER = ("malignancy", "infection", "acute", "pregnancy")


@dataclass(frozen=True)
class StopEntry:
    codes: str  # a code, category, subcategory or range "A-B"
    label: str  # the class in its own words: "a myelodysplastic syndrome"
    descriptor: str
    source: str
    rule: str = ""  # empty: the class's rule
    excepted: tuple[str, ...] = ()

    def holds(self, code: str) -> bool:
        return in_spec(code, self.codes) and not any(in_spec(code, other) for other in self.excepted)


@dataclass(frozen=True)
class StopClass:
    kind: str  # malignancy, infection, acute, pregnancy
    rule: str
    answer: str | None  # the contraindication answer that fires it, if any
    entries: tuple[StopEntry, ...]
    not_stops: tuple[StopEntry, ...] = ()
    confirmed_by: str | None = None  # acute illness: the medical director's confirmation
    confirmed_on: str | None = None

    def entry_for(self, code: str) -> StopEntry | None:
        """The entry that makes `code` a stop of this class, or None."""
        if any(entry.holds(code) for entry in self.not_stops):
            return None
        return next((entry for entry in self.entries if entry.holds(code)), None)

    @property
    def confirmed(self) -> bool:
        return bool(self.confirmed_by and self.confirmed_on)


@dataclass(frozen=True)
class StopLists:
    classes: tuple[StopClass, ...]
    skin_cancer: tuple[str, ...]
    skin_cancer_history: tuple[str, ...]
    skin_stop_sites: tuple[str, ...]
    skin_source: str
    cancer_history: str
    cancer_history_except: tuple[str, ...]
    cancer_history_years: int
    cancer_history_source: str
    histology: str
    histology_source: str
    thromboembolism: tuple[str, ...]
    thromboembolism_source: str
    code_set: str

    def by_kind(self, kind: str) -> StopClass:
        return next(stop for stop in self.classes if stop.kind == kind)

    def is_skin_cancer(self, code: str) -> bool:
        """Non-melanoma skin cancer (C44, D04) or its history (Z85.828): flag `skin_cancer`."""
        return any(in_spec(code, spec) for spec in (*self.skin_cancer, *self.skin_cancer_history))

    def is_active_skin_cancer(self, code: str) -> bool:
        return any(in_spec(code, spec) for spec in self.skin_cancer)

    def asks_treatment_end(self, code: str) -> bool:
        """Personal history of malignancy other than of the skin: when did treatment end?"""
        excepted = any(in_spec(code, spec) for spec in self.cancer_history_except)
        return in_spec(code, self.cancer_history) and not excepted

    def asks_histology(self, code: str) -> bool:
        return in_spec(code, self.histology)

    def thromboembolic(self, code: str) -> bool:
        return any(in_spec(code, spec) for spec in self.thromboembolism)


def _entry(data: dict) -> StopEntry:
    return StopEntry(
        codes=data["codes"],
        label=data["label"],
        descriptor=data["descriptor"],
        source=data["source"],
        rule=data.get("rule", ""),
        excepted=tuple(data.get("except", ())),
    )


@cache
def stop_lists() -> StopLists:
    data = json.loads(STOPS_FILE.read_text(encoding="utf-8"))
    classes = []
    for item in data["classes"]:
        confirmation = item.get("confirmation") or {}
        classes.append(
            StopClass(
                kind=item["kind"],
                rule=item["rule"],
                answer=item.get("answer"),
                entries=tuple(_entry(entry) for entry in item["entries"]),
                not_stops=tuple(_entry(entry) for entry in item.get("not_stops", ())),
                confirmed_by=confirmation.get("medical_director"),
                confirmed_on=confirmation.get("date"),
            )
        )
    skin, history, histology, thrombo = (
        data["skin_cancer"],
        data["cancer_history"],
        data["histology"],
        data["thromboembolism"],
    )
    return StopLists(
        classes=tuple(sorted(classes, key=lambda stop: CLASS_ORDER.index(stop.kind))),
        skin_cancer=tuple(skin["codes"]),
        skin_cancer_history=tuple(skin["history"]),
        skin_stop_sites=tuple(skin["stop_sites"]),
        skin_source=skin["source"],
        cancer_history=history["codes"],
        cancer_history_except=tuple(history["except"]),
        cancer_history_years=history["years"],
        cancer_history_source=history["source"],
        histology=histology["codes"],
        histology_source=histology["source"],
        thromboembolism=tuple(thrombo["codes"]),
        thromboembolism_source=thrombo["source"],
        code_set=data["code_set"],
    )


def years_before(day: date, years: int) -> date:
    """The same calendar date `years` earlier (29 February falls back to the 28th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def treatment_ended_recently(ended: date, intake_date: date, years: int) -> bool:
    """Rule 5: an end date after the same calendar date `years` before intake stops."""
    return ended > years_before(intake_date, years)
