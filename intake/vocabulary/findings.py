"""Findings: the minimum clinical data a protocol needs (rule set v3, rule 4), and their validation.

The published list (`GET /api/v1/findings/`) is the table of DESIGN.md rule 4, with units in UCUM.
A LOINC code is given only where one was checked (DESIGN.md rule 4: pain NRS 72514-3, NYHA class
88020-3, eGFR CKD-EPI 2021 98979-8), else None, never a guessed code. Keys are never removed (a
retired key is `deprecated` and still accepted) and ranges are never narrowed.

Validation is pure: `validate_findings` returns the field errors, each named by its JSON pointer
(`#/findings/kl_grade`), in words a person can act on.
"""

import re
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal

SOURCE = "DESIGN.md, rule set v3, rule 4 (Findings: the minimum clinical data a protocol needs)"
MAX_STRING = 200
LARGEST_NUMBER = 10**15
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
EDSS_VALUES: tuple[float, ...] = (0, *(float(Decimal(n) / 2) for n in range(2, 20)), 10)


@dataclass(frozen=True)
class Finding:
    key: str
    label: str
    type: str  # integer | decimal | date | string
    unit: str | None = None
    min: float | None = None
    max: float | None = None
    step: float | None = None
    values: tuple[float, ...] | None = None
    loinc: str | None = None
    deprecated: bool = False
    source: str = SOURCE

    def as_dict(self) -> dict:
        data = asdict(self)
        data["values"] = list(self.values) if self.values is not None else None
        del data["source"]
        return data


FINDINGS: tuple[Finding, ...] = (
    Finding("kl_grade", "Kellgren–Lawrence grade", "integer", None, 0, 4, 1),
    Finding("imaging_date", "date of the imaging graded", "date"),
    Finding("conservative_care_months", "months of conservative care tried", "integer", "mo", 0, 600, 1),
    Finding("pain_nrs", "pain, numeric rating scale", "integer", "{score}", 0, 10, 1, loinc="72514-3"),
    Finding("koos_jr", "KOOS JR interval score", "decimal", "{score}", 0, 100),
    Finding("edss", "Expanded Disability Status Scale", "decimal", "{score}", 0, 10, None, EDSS_VALUES),
    Finding("lvef_percent", "left ventricular ejection fraction", "decimal", "%", 5, 90),
    Finding("nyha_class", "NYHA functional class", "integer", None, 1, 4, 1, loinc="88020-3"),
    Finding("platelets_10e9_per_l", "platelet count", "decimal", "10*9/L", 0, 2000),
    Finding("inr", "INR", "decimal", "{INR}", 0.5, 20),
    Finding(
        "egfr_ckd_epi_2021", "eGFR (CKD-EPI 2021)", "decimal", "mL/min/{1.73_m2}", 0, 200, loinc="98979-8"
    ),
    Finding("hba1c_percent", "HbA1c", "decimal", "%", 3, 20),
    Finding("anticoagulant", "anticoagulant taken (drug name)", "string"),
    Finding("cancer_treatment_ended", "date the cancer treatment ended", "date"),
)
BY_KEY: dict[str, Finding] = {finding.key: finding for finding in FINDINGS}
FIELD = "#/findings"


def pointer(key: str) -> str:
    return f"{FIELD}/{key}"


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _range_text(finding: Finding) -> str:
    unit = f" {finding.unit}" if finding.unit else ""
    if finding.values is not None:
        return "one of " + ", ".join(f"{v:g}" for v in finding.values)
    return f"from {finding.min:g} to {finding.max:g}{unit}"


def check_value(finding: Finding, value: object, *, today: date) -> tuple[object, str | None]:
    """(the value as the rules read it, or None; the error for a person, or None)."""
    label = finding.label
    if finding.type in ("integer", "decimal"):
        if not _number(value):
            kind = "a whole number" if finding.type == "integer" else "a number"
            return None, f"{label}: give {kind} (not text, not null), {_range_text(finding)}."
        if abs(value) > LARGEST_NUMBER:
            # Beyond any published range, and too large to write back (or to format): 1e400.
            return (
                None,
                f"{label}: that number is far outside the range; give a value {_range_text(finding)}.",
            )
        if finding.type == "integer":
            if isinstance(value, float) and not value.is_integer():
                return None, f"{label}: give a whole number, {_range_text(finding)}."
            value = int(value)
        if finding.values is not None and value not in finding.values:
            return None, f"{label}: {value:g} is not an allowed value; give {_range_text(finding)}."
        if (finding.min is not None and value < finding.min) or (
            finding.max is not None and value > finding.max
        ):
            return None, f"{label}: {value:g} is outside the range; give a value {_range_text(finding)}."
        return value, None
    if finding.type == "date":
        if not isinstance(value, str):
            return None, f"{label}: give a date as YYYY-MM-DD."
        if not ISO_DATE.fullmatch(value):
            # YYYY-MM-DD in ASCII digits only: not a week date (2020-W01-1) nor other digits.
            return None, f"{label}: give the date as YYYY-MM-DD."
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return None, f"{label}: “{value}” is not a day of the calendar; give it as YYYY-MM-DD."
        if day > today:
            return None, f"{label}: {value} is in the future; give the date it happened."
        return value, None
    if not isinstance(value, str) or not value.strip():
        return None, f"{label}: give it as text."
    if len(value) > MAX_STRING:
        return None, f"{label}: at most {MAX_STRING} characters (got {len(value)})."
    return value, None


def validate_findings(
    values: object, *, today: date, anticoagulant_therapy: bool | None = None
) -> tuple[dict[str, object], dict[str, str]]:
    """(the valid findings, the field errors by pointer). `today` is the day dates may not pass;
    `anticoagulant_therapy` is the contraindication answer the `anticoagulant` finding must not
    contradict (None: not answered)."""
    if values is None:
        return {}, {}
    if not isinstance(values, dict):
        return {}, {FIELD: "Findings must be an object of finding keys and values (GET /api/v1/findings/)."}
    clean: dict[str, object] = {}
    errors: dict[str, str] = {}
    for key, value in values.items():
        finding = BY_KEY.get(key)
        if finding is None:
            errors[pointer(key)] = f"“{key}” is not a finding key; the list is at GET /api/v1/findings/."
            continue
        checked, error = check_value(finding, value, today=today)
        if error:
            errors[pointer(key)] = error
        else:
            clean[key] = checked
    if "anticoagulant" in clean and anticoagulant_therapy is False:
        errors[pointer("anticoagulant")] = (
            "An anticoagulant is named but the answer on anticoagulant therapy is no: correct one of the two."
        )
        del clean["anticoagulant"]
    return clean, errors


def labels(keys: list[str] | tuple[str, ...]) -> str:
    return ", ".join(BY_KEY[key].label if key in BY_KEY else key for key in keys)
