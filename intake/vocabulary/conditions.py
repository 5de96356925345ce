"""The clinic's condition vocabulary: ICD-10-CM code prefixes mapped to a category.

The entries ship as data (`data/vocabulary_v1.json`); the longest matching
prefix wins. Each entry carries its label, its category (`localized` or
`systemic`), a source, and the regulatory status of stem cell therapy for it,
which every draft shows the specialist. `note` says why, where the category
differs from what the simple localized/systemic reading would give.
"""

import json
from dataclasses import dataclass
from pathlib import Path

VOCABULARY_FILE = Path(__file__).parent / "data" / "vocabulary_v1.json"
CATEGORIES = ("localized", "systemic")


@dataclass(frozen=True)
class VocabularyEntry:
    prefix: str
    label: str
    category: str
    source: str
    regulatory: str
    note: str = ""

    @property
    def key(self) -> str:
        return self.prefix.replace(".", "")


def _load() -> tuple[VocabularyEntry, ...]:
    data = json.loads(VOCABULARY_FILE.read_text(encoding="utf-8"))
    return tuple(VocabularyEntry(**entry) for entry in data["entries"])


ENTRIES: tuple[VocabularyEntry, ...] = _load()
_BY_KEY: dict[str, VocabularyEntry] = {entry.key: entry for entry in ENTRIES}
_LONGEST = max(len(key) for key in _BY_KEY)


def lookup(code: str) -> VocabularyEntry | None:
    """The entry whose prefix is the longest one matching `code` (any dot ignored)."""
    compact = code.replace(".", "").strip().upper()
    for length in range(min(len(compact), _LONGEST), 0, -1):
        entry = _BY_KEY.get(compact[:length])
        if entry is not None:
            return entry
    return None


def search(query: str) -> list[VocabularyEntry]:
    """Entries whose code starts with the query, or whose label holds every word of it."""
    query = query.strip()
    if not query:
        return list(ENTRIES)
    compact = query.replace(".", "").upper()
    words = query.lower().split()
    return [
        entry
        for entry in ENTRIES
        if entry.key.startswith(compact)
        or compact.startswith(entry.key)
        or all(word in entry.label.lower() for word in words)
    ]
