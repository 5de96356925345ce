"""The clinic's condition vocabulary: ICD-10-CM code prefixes mapped to a category.

The longest matching prefix wins. Each entry carries its label, its category
(`localized` or `systemic`), a source, and the regulatory status of stem cell
therapy for it, which every draft shows the specialist.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class VocabularyEntry:
    prefix: str
    label: str
    category: str
    source: str
    regulatory: str
    # Why the category differs from what the simple rule would give, when it does.
    note: str = ""

    @property
    def key(self) -> str:
        return self.prefix.replace(".", "")


INVESTIGATIONAL = (
    "Investigational: no FDA-approved stem cell product exists for this condition; "
    "treatment is offered only under the clinic's protocols and informed consent."
)
ICD = "ICD-10-CM 2025 tabular list"

ENTRIES: tuple[VocabularyEntry, ...] = (
    VocabularyEntry("M17", "Osteoarthritis of knee", "localized", ICD, INVESTIGATIONAL),
    VocabularyEntry("M16", "Osteoarthritis of hip", "localized", ICD, INVESTIGATIONAL),
    VocabularyEntry("G35", "Multiple sclerosis", "systemic", ICD, INVESTIGATIONAL),
    VocabularyEntry("M05", "Rheumatoid arthritis with rheumatoid factor", "systemic", ICD, INVESTIGATIONAL),
    VocabularyEntry("I50", "Heart failure", "systemic", ICD, INVESTIGATIONAL),
)

_BY_KEY: dict[str, VocabularyEntry] = {entry.key: entry for entry in ENTRIES}
_LONGEST = max(len(key) for key in _BY_KEY)


def lookup(code: str) -> VocabularyEntry | None:
    """The entry whose prefix is the longest one matching `code` (any dot ignored)."""
    compact = code.replace(".", "").upper()
    for length in range(min(len(compact), _LONGEST), 0, -1):
        entry = _BY_KEY.get(compact[:length])
        if entry is not None:
            return entry
    return None
