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

from intake.vocabulary import codesearch, tabular, wordsearch
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
    # The words of the labels (intake.vocabulary.wordsearch.WordIndex), built on the first search.
    _words: list = field(default_factory=list, repr=False, compare=False)

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
        """Entries for a code prefix, or for words of their label, of a synonym (ALS, stroke) or of a
        code they cover (intake.vocabulary.wordsearch's rules), the best matches first, then in the
        vocabulary's order. An empty query lists every entry."""
        query = (query or "").strip()
        if not query:
            return list(self.entries)
        if not self._words:
            self._words.append(wordsearch.WordIndex([entry.label for entry in self.entries]))
        best = self._words[0].best(
            wordsearch.readings(query),
            lambda specs: {i for i, entry in enumerate(self.entries) if _overlaps(entry, specs)},
        )
        # An entry also answers for the codes it covers: "osteoarthritis of right knee" is M17.11, in M17.
        at = {entry.prefix: i for i, entry in enumerate(self.entries)}
        for rank, code in codesearch.ranked(query):
            entry = self.lookup(code.code)
            if entry is not None and rank < best.get(at[entry.prefix], wordsearch.PREFIX + 1):
                best[at[entry.prefix]] = rank
        key = compact(query)
        for i, entry in enumerate(self.entries):
            if entry.key == key:
                best[i] = wordsearch.EXACT_CODE
            elif entry.key.startswith(key) or (key.startswith(entry.key) and not entry.seventh):
                best[i] = min(best.get(i, wordsearch.CODE_PREFIX), wordsearch.CODE_PREFIX)
        return [self.entries[i] for i in sorted(best, key=lambda i: (best[i], i))]


def _overlaps(entry: VocabularyEntry, specs: tuple[str, ...]) -> bool:
    """Whether a synonym's codes and the entry's prefix meet: the entry lies in a spec (I69.3 in
    stroke's I69.3, M17 in OA's M15-M19), or a spec lies in the entry."""
    if entry.seventh:
        return False
    return any(
        tabular.in_spec(entry.prefix, spec)
        or (not tabular.is_range(spec) and compact(spec).startswith(entry.key))
        for spec in specs
    )


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
    """Real, billable ICD-10-CM codes for a code prefix or words ("osteoarthritis of right knee",
    "stroke", "OA knee"), each with the vocabulary entry that covers it. The best matches first
    (intake.vocabulary.wordsearch); among equally good ones, the codes the clinic's vocabulary
    covers, in its own (curated) order, then the plainest (shortest) descriptor. No length cap;
    an empty query finds nothing."""
    vocab = vocabulary(version)
    order = {entry.prefix: index for index, entry in enumerate(vocab.entries)}
    found = []
    for rank, code in codesearch.ranked(query or ""):
        entry = vocab.lookup(code.code)
        found.append(
            ((rank, order[entry.prefix] if entry else len(order), len(code.descriptor)), code, entry)
        )
    found.sort(key=lambda item: item[0])
    return [(code, entry) for _, code, entry in found[:limit]]
