"""An instrument as a FHIR R4 Questionnaire, and back: `questionnaire(spec)` renders a shipped or
imported instrument; `read_items(data)` reads the scorable items of a Questionnaire a clinic
imports. Pure (plain dicts); the caller validates the resource with fhir.resources first.

What an imported Questionnaire may hold, and nothing else, so no answer goes unscored:
- `choice` items whose `answerOption`s each carry a score: the extension
  http://hl7.org/fhir/StructureDefinition/ordinalValue (R4) or .../itemWeight (R5), on the option
  or on its valueCoding, or an option that is itself a `valueInteger` (its own score). Within an
  item no two options may share a score (the stored answer is the score).
- `integer` items with the extensions .../minValue and .../maxValue (a whole-number scale); child
  `display` items with itemControl `lower`/`upper` label its ends.
- `display` items (an instruction shown before the next question) and `group`s of the above.
No enableWhen, no repeats, no answerValueSet (give the options in the file)."""

from __future__ import annotations

import re

from clinic.aftercare.instruments.scoring import InstrumentSpec, Item, Option

BASE = "https://clinic.example.org/fhir/"
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
ITEM_WEIGHT = "http://hl7.org/fhir/StructureDefinition/itemWeight"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
ITEM_CONTROL = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
ITEM_CONTROL_SYSTEM = "http://hl7.org/fhir/questionnaire-item-control"


class QuestionnaireProblem(ValueError):
    """A Questionnaire this import cannot score; `path` is the FHIRPath of the offending part."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


def resource_id(key: str) -> str:
    return key.replace("_", "-")


def questionnaire(spec: InstrumentSpec) -> dict:
    """The instrument as a FHIR R4 Questionnaire: one required question per item, the instrument's
    instructions as display items before the questions they introduce, each option's score as
    ordinalValue, a scale's ends as minValue/maxValue with lower/upper labels."""
    items: list[dict] = []
    for item in spec.items:
        if item.section:
            items.append({"linkId": f"{item.link_id}-intro", "type": "display", "text": item.section})
        items.append(_question(item))
    return {
        "resourceType": "Questionnaire",
        "id": resource_id(spec.key),
        "url": f"{BASE}Questionnaire/{resource_id(spec.key)}",
        "name": "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", spec.key) if part),
        "title": spec.title,
        "status": "active",
        "subjectType": ["Patient"],
        "description": spec.population_note,
        "copyright": f"{spec.licence} Source: {spec.licence_source}",
        "item": items,
    }


def _question(item: Item) -> dict:
    if item.options:
        return {
            "linkId": item.link_id,
            "text": item.text,
            "type": "choice",
            "required": True,
            "answerOption": [
                {
                    "valueCoding": {
                        "code": f"{option.value:g}",
                        "display": option.label,
                        "extension": [{"url": ORDINAL_VALUE, "valueDecimal": option.value}],
                    }
                }
                for option in item.options
            ],
        }
    anchors = [
        {
            "linkId": f"{item.link_id}-{end}",
            "type": "display",
            "text": label,
            "extension": [
                {
                    "url": ITEM_CONTROL,
                    "valueCodeableConcept": {"coding": [{"system": ITEM_CONTROL_SYSTEM, "code": end}]},
                }
            ],
        }
        for end, label in (("lower", item.min_label), ("upper", item.max_label))
        if label
    ]
    question = {
        "linkId": item.link_id,
        "text": item.text,
        "type": "integer",
        "required": True,
        "extension": [
            {"url": MIN_VALUE, "valueInteger": item.minimum},
            {"url": MAX_VALUE, "valueInteger": item.maximum},
        ],
    }
    if anchors:
        question["item"] = anchors
    return question


def read_items(data: dict) -> tuple[Item, ...]:
    """The scorable items of an imported Questionnaire, in order; QuestionnaireProblem naming the
    first part this import does not support (the module docstring lists what it does)."""
    items: list[Item] = []
    _walk(data.get("item") or [], "Questionnaire", items, pending=[""])
    if not items:
        raise QuestionnaireProblem("Questionnaire.item", "The file has no question to score.")
    seen: set[str] = set()
    for item in items:
        if item.link_id in seen:
            raise QuestionnaireProblem("Questionnaire.item", f"Two questions share linkId {item.link_id!r}.")
        seen.add(item.link_id)
    return tuple(items)


def _walk(raw_items: list[dict], parent: str, out: list[Item], pending: list[str]) -> None:
    for index, raw in enumerate(raw_items):
        path = f"{parent}.item[{index}]"
        if raw.get("enableWhen"):
            raise QuestionnaireProblem(path, "Conditional questions (enableWhen) cannot be scored here.")
        if raw.get("repeats"):
            raise QuestionnaireProblem(path, "Repeating questions cannot be scored here.")
        kind = raw.get("type")
        if kind == "display":
            pending[0] = raw.get("text", "")
        elif kind == "group":
            if raw.get("text"):
                pending[0] = raw["text"]
            _walk(raw.get("item") or [], path, out, pending)
        elif kind == "choice":
            out.append(_choice(raw, path, section=pending[0]))
            pending[0] = ""
        elif kind == "integer":
            out.append(_scale(raw, path, section=pending[0]))
            pending[0] = ""
        else:
            raise QuestionnaireProblem(
                path,
                f"Questions of type {kind!r} cannot be scored: use choice items whose options carry a "
                "score, or integer items with minValue and maxValue.",
            )


def _text(raw: dict, path: str) -> tuple[str, str]:
    link_id, text = raw.get("linkId"), raw.get("text")
    if not link_id or not text:
        raise QuestionnaireProblem(path, "Each question needs a linkId and the text the patient reads.")
    return link_id, text


def _choice(raw: dict, path: str, *, section: str) -> Item:
    link_id, text = _text(raw, path)
    if raw.get("answerValueSet") or not raw.get("answerOption"):
        raise QuestionnaireProblem(
            path, "Give the answer options in the file (answerOption), each with a score."
        )
    options = []
    for number, option in enumerate(raw["answerOption"]):
        where = f"{path}.answerOption[{number}]"
        coding = option.get("valueCoding") or {}
        weight = _weight(option)
        if weight is None:
            weight = _weight(coding)
        if weight is None and isinstance(option.get("valueInteger"), int):
            weight = option["valueInteger"]
        if weight is None:
            raise QuestionnaireProblem(
                where, "This option has no score: add an ordinalValue (or itemWeight) extension to it."
            )
        label = coding.get("display") or coding.get("code") or option.get("valueString")
        if label is None:
            label = f"{weight:g}"
        options.append(Option(int(weight) if float(weight).is_integer() else float(weight), str(label)))
    if len({option.value for option in options}) != len(options):
        raise QuestionnaireProblem(path, "Two options of this question have the same score.")
    return Item(link_id, text, tuple(options), section=section)


def _weight(element: dict) -> float | None:
    for extension in element.get("extension") or []:
        if extension.get("url") in (ORDINAL_VALUE, ITEM_WEIGHT):
            value = extension.get("valueDecimal", extension.get("valueInteger"))
            if isinstance(value, int | float) and not isinstance(value, bool):
                return value
    return None


def _scale(raw: dict, path: str, *, section: str) -> Item:
    link_id, text = _text(raw, path)
    ends = {
        extension["url"]: extension.get("valueInteger")
        for extension in raw.get("extension") or []
        if extension.get("url") in (MIN_VALUE, MAX_VALUE)
    }
    low, high = ends.get(MIN_VALUE), ends.get(MAX_VALUE)
    if not isinstance(low, int) or not isinstance(high, int) or low >= high:
        raise QuestionnaireProblem(
            path, "An integer question needs minValue and maxValue extensions (valueInteger, min < max)."
        )
    labels = {"lower": "", "upper": ""}
    for number, child in enumerate(raw.get("item") or []):
        control = _item_control(child)
        if child.get("type") != "display" or control not in labels:
            raise QuestionnaireProblem(
                f"{path}.item[{number}]", "Under a question only lower/upper display labels are supported."
            )
        labels[control] = child.get("text", "")
    return Item(
        link_id,
        text,
        minimum=low,
        maximum=high,
        min_label=labels["lower"],
        max_label=labels["upper"],
        section=section,
    )


def _item_control(raw: dict) -> str | None:
    for extension in raw.get("extension") or []:
        if extension.get("url") == ITEM_CONTROL:
            for coding in (extension.get("valueCodeableConcept") or {}).get("coding") or []:
                return coding.get("code")
    return None
