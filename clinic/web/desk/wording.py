"""Text the system wrote, as a person reads it on the desk's pages.

A specialist's question is often the draft's own words ("right_knee lies outside the body region
of the given codes"), and timeline notes written before the services spoke in labels name fields
("affected_sites now ['left_knee']"). The page shows labels: "Right knee lies outside…",
"affected sites now left knee". The stored text is never changed (it is part of the audit chain).
"""

import re

from intake.vocabulary.body_sites import SITES
from intake.vocabulary.contraindications import CONTRAINDICATION_LABELS
from intake.vocabulary.findings import BY_KEY

# Internal names a person may meet in stored text, and the words for them (lower case: they
# read mid-sentence; a sentence that starts with one gets its capital back).
WORDS: dict[str, str] = {
    **{code: site.label.lower() for code, site in SITES.items() if "_" in code},
    **{key: finding.label for key, finding in BY_KEY.items() if "_" in key},
    **{name: label.lower() for name, label in CONTRAINDICATION_LABELS.items()},
    "affected_sites": "affected sites",
    "condition_code": "condition",
    "condition_text": "condition description",
    "additional_conditions": "other conditions",
    "consent_obtained": "consent obtained",
    "consent_by": "consent given by",
    "consent_form_version": "consent form version",
    "legal_representative": "a legal representative",
}
_NAME = re.compile(r"'?\b([a-z]+(?:_[a-z0-9]+)+)\b'?")
_LIST = re.compile(r"\[((?:'[a-z0-9_]+'(?:, )?)*)\]")
_NOW = re.compile(r"\bnow (True|False|None)\b")
_DICT = re.compile(r"\bnow \{([^{}]*)\}")
_SENTENCE_END = (".", "?", "!")
_NOTE_HEADS = ("Question:", "Answer:")  # how the timeline's notes of a question and its answer begin


def _word(match: re.Match, text: str) -> str:
    name = match.group(1)
    words = WORDS.get(name)
    if words is None:
        return match.group(0)
    before = text[: match.start()].rstrip()
    starts_sentence = not before or before.endswith(_SENTENCE_END) or before in _NOTE_HEADS
    return words[:1].upper() + words[1:] if starts_sentence else words


def _names(items: str) -> str:
    names = [item.strip("'") for item in items.split(", ") if item]
    return ", ".join(WORDS.get(name, name) for name in names) or "none"


def readable(text: str) -> str:
    """`text` with the internal names of body sites, findings and fields replaced by their labels,
    a Python list of them by a plain list, and True/False after "now" by yes/no."""
    if not text:
        return text
    text = _LIST.sub(lambda m: _names(m.group(1)), text)
    text = _DICT.sub(lambda m: "now " + (m.group(1).replace(": ", " ") or "none"), text)
    text = _NOW.sub(lambda m: "now " + {"True": "yes", "False": "no", "None": "not given"}[m.group(1)], text)
    return _NAME.sub(lambda m: _word(m, text), text)
