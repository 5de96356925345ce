"""Findings and additional conditions as a person reads them (desk pages, the review page).

The published list (intake.vocabulary.findings) speaks UCUM and lower-case labels for the
contract; a page shows "months", "× 10⁹/L" and a capitalised label. Pure: no Django.
"""

from dataclasses import dataclass

from intake.vocabulary import icd10cm
from intake.vocabulary.findings import BY_KEY, FINDINGS, Finding

# UCUM as written in the published list -> the words beside an input. An annotation such as
# {INR} is a dimensionless ratio: nothing is printed for it.
UNIT_WORDS = {
    "mo": "months",
    "{score}": "points",
    "%": "%",
    "10*9/L": "× 10⁹/L",
    "{INR}": "",
    "mL/min/{1.73_m2}": "mL/min/1.73 m²",
}


def unit_text(finding: Finding) -> str:
    if not finding.unit:
        return ""
    return UNIT_WORDS.get(finding.unit, finding.unit)


def label_text(finding: Finding) -> str:
    """The label with a capital, unless it starts with a mixed-case term such as eGFR."""
    label = finding.label
    if len(label) > 1 and label[0].islower() and label[1].islower():
        return label[0].upper() + label[1:]
    return label


def _number(value: float) -> str:
    return f"{value:g}"


def allowed_text(finding: Finding) -> str:
    """What may be typed, for the help line under an input."""
    unit = unit_text(finding)
    if finding.values is not None:
        return f"One of {', '.join(_number(v) for v in finding.values)}."
    if finding.type in ("integer", "decimal"):
        kind = "A whole number" if finding.type == "integer" else "A number"
        unit_part = f" {unit}" if unit and unit != "%" else unit
        return f"{kind} from {_number(finding.min)} to {_number(finding.max)}{unit_part}."
    if finding.type == "date":
        return "A date, not in the future."
    return "Text, up to 200 characters."


def error_text(key: str, message: str) -> str:
    """A validation message as shown at its own field: without the label the field already shows,
    with the unit in words."""
    finding = BY_KEY.get(key)
    if finding is None:
        return message
    message = message.removeprefix(f"{finding.label}: ")
    if finding.unit and unit_text(finding) != finding.unit:
        words = unit_text(finding)
        message = message.replace(f" {finding.unit}", f" {words}" if words else "")
    return message[:1].upper() + message[1:]


@dataclass(frozen=True)
class FindingRow:
    key: str
    label: str
    value: str


def finding_rows(findings: dict | None) -> list[FindingRow]:
    """The recorded findings in the published list's order, each with its unit; a key the list
    no longer knows (never expected: keys are never removed) is shown as recorded."""
    findings = findings or {}
    rows = []
    for finding in FINDINGS:
        if finding.key not in findings:
            continue
        value = findings[finding.key]
        text = (
            _number(value) if isinstance(value, int | float) and not isinstance(value, bool) else str(value)
        )
        unit = unit_text(finding)
        if unit:
            text = f"{text}{unit}" if unit == "%" else f"{text} {unit}"
        rows.append(FindingRow(finding.key, label_text(finding), text))
    rows += [FindingRow(key, key, str(value)) for key, value in findings.items() if key not in BY_KEY]
    return rows


@dataclass(frozen=True)
class ConditionRow:
    code: str
    descriptor: str
    description: str


def condition_rows(additional_conditions: list | None) -> list[ConditionRow]:
    """The additional conditions with their official ICD-10-CM descriptors."""
    rows = []
    for item in additional_conditions or []:
        code = str(item.get("icd10", ""))
        found = icd10cm.get(code)
        rows.append(ConditionRow(code, found.descriptor if found else "", str(item.get("description") or "")))
    return rows
