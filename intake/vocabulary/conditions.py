"""The clinic's condition vocabulary: ICD-10-CM codes mapped to a category, per rule set.

Each version ships as data (`data/vocabulary_v1.json`, `data/vocabulary_v2.json`);
the longest matching prefix wins. Each entry carries its label, its category
(`localized` or `systemic`), a source, and the regulatory status of stem cell
therapy for it, which every draft shows the specialist. `note` says why, where the
category differs from what the simple localized/systemic reading would give.

Version 2 adds, as data with their sources: the hard-stop code ranges (`stops`),
the regulatory notice every draft carries (`notice`), each entry's evidence and the
route its trials used (`evidence`, `trial_route`), and entries that match a range
by 7th character (fracture nonunion: S42-S92 with 7th character K).
"""

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from intake.vocabulary import icd10cm
from intake.vocabulary.icd10cm import Code

DATA = Path(__file__).parent / "data"
VOCABULARY_FILE = DATA / "vocabulary_v1.json"
CATEGORIES = ("localized", "systemic")


@dataclass(frozen=True)
class VocabularyEntry:
    prefix: str
    label: str
    category: str
    source: str
    regulatory: str
    note: str = ""
    evidence: str = ""
    trial_route: str = ""
    # With `seventh`, `prefix` is a range of categories ("S42-S92") and the entry
    # matches codes in it whose 7th character is this one.
    seventh: str = ""

    @property
    def key(self) -> str:
        return self.prefix.replace(".", "")


def compact(code: str) -> str:
    return code.replace(".", "").strip().upper()


def matches(code: str, spec: str) -> bool:
    """Whether `code` falls under `spec`: a prefix ("M86", "J44.0"), a range of prefixes
    of one length ("C00-C96", "T84.5-T84.7"), or a prefix with `x` standing for any one
    character ("K50.x14")."""
    code, spec = compact(code), spec.replace(".", "").strip()
    if "-" in spec:
        low, high = (part.upper() for part in spec.split("-"))
        head = code[: len(low)]
        return len(head) == len(low) and low <= head <= high
    if len(code) < len(spec):
        return False
    return all(want == "x" or want.upper() == got for want, got in zip(spec, code, strict=False))


@dataclass(frozen=True)
class Stop:
    kind: str  # malignancy, infection, pregnancy
    ranges: tuple[str, ...]
    label: str  # "a malignant neoplasm"
    source: str

    def matched(self, code: str) -> str | None:
        """The range `code` falls in, or None."""
        return next((spec for spec in self.ranges if matches(code, spec)), None)


@dataclass(frozen=True)
class Vocabulary:
    version: str
    entries: tuple[VocabularyEntry, ...]
    stops: tuple[Stop, ...] = ()
    notice: str = ""
    notice_sources: tuple[str, ...] = ()
    _by_key: dict[str, VocabularyEntry] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_key.update({e.key: e for e in self.entries if not e.seventh})

    def lookup(self, code: str) -> VocabularyEntry | None:
        """The entry for `code`: a 7th-character entry first, else the longest matching prefix."""
        key = compact(code)
        for entry in self.entries:
            if entry.seventh and len(key) == 7 and key[6] == entry.seventh and matches(key, entry.prefix):
                return entry
        for length in range(len(key), 0, -1):
            entry = self._by_key.get(key[:length])
            if entry is not None:
                return entry
        return None

    def search(self, query: str) -> list[VocabularyEntry]:
        """Entries whose code starts with the query, or whose label holds every word of it."""
        query = query.strip()
        if not query:
            return list(self.entries)
        key, words = compact(query), query.lower().split()
        return [
            entry
            for entry in self.entries
            if entry.key.startswith(key)
            or (key.startswith(entry.key) and not entry.seventh)
            or all(word in entry.label.lower() for word in words)
        ]


@cache
def vocabulary(version: str) -> Vocabulary:
    data = json.loads((DATA / f"vocabulary_{version}.json").read_text(encoding="utf-8"))
    notice = data.get("notice") or {}
    return Vocabulary(
        version=data["version"],
        entries=tuple(VocabularyEntry(**entry) for entry in data["entries"]),
        stops=tuple(
            Stop(kind, tuple(stop["ranges"]), stop["label"], stop["source"])
            for kind, stop in data.get("stops", {}).items()
        ),
        notice=notice.get("text", ""),
        notice_sources=tuple(notice.get("sources", ())),
    )


# The current vocabulary, as served (`GET /api/v1/conditions/`) and offered on the desk.
CURRENT = "v2"
ENTRIES: tuple[VocabularyEntry, ...] = vocabulary("v1").entries  # v1's, kept for its tests and replay


def lookup(code: str, version: str = "v1") -> VocabularyEntry | None:
    return vocabulary(version).lookup(code)


def search(query: str, version: str = CURRENT) -> list[VocabularyEntry]:
    return vocabulary(version).search(query)


def find_codes(
    query: str, *, limit: int = 20, version: str = CURRENT
) -> list[tuple[Code, VocabularyEntry | None]]:
    """Real, billable ICD-10-CM codes for a code prefix or words ("knee osteoarthritis"), each with
    the vocabulary entry that covers it; codes the clinic's vocabulary covers come first."""
    vocab = vocabulary(version)
    found = [(code, vocab.lookup(code.code)) for code in icd10cm.search(query, limit=None)]
    # The clinic's conditions first, in the vocabulary's own (curated) order, then the rest;
    # the plainest (shortest) descriptor first within each entry.
    order = {entry.prefix: index for index, entry in enumerate(vocab.entries)}
    found.sort(key=lambda pair: (order[pair[1].prefix] if pair[1] else len(order), len(pair[0].descriptor)))
    return found[:limit]
