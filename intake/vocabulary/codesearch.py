"""Searching the official code set: billable ICD-10-CM codes for a code typed (M17.11, m171) or for
words (intake.vocabulary.wordsearch: word starts, synonyms, the whole phrase first). The desk's
condition field and the partner API read it through intake.vocabulary.conditions.find_codes and
Vocabulary.search, which put the clinic's own conditions first among equally good matches."""

import re
from functools import cache

from intake.vocabulary import icd10cm, tabular, wordsearch
from intake.vocabulary.icd10cm import Code

# What may be (the start of) a code: a letter and a digit, then up to five letters or digits.
CODE_LIKE = re.compile(r"[A-Z][0-9][0-9A-Z]{0,5}")


@cache
def _index() -> tuple[tuple[Code, ...], tuple[str, ...], wordsearch.WordIndex]:
    """The billable codes, their keys without the dot, and the words of their descriptors: built
    once per process (about a second, a few MB)."""
    billable = tuple(item for item in icd10cm._codes().values() if item.billable)
    return (
        billable,
        tuple(item.code.replace(".", "") for item in billable),
        wordsearch.WordIndex([item.descriptor for item in billable]),
    )


@cache
def _under(specs: tuple[str, ...]) -> frozenset[int]:
    """The billable codes (their index) under any of `specs`, a synonym's codes: a code, category or
    subcategory covers the codes that begin with it, a range `A-B` those between in tabular order."""
    _, keys, _ = _index()
    found: set[int] = set()
    for spec in specs:
        if tabular.is_range(spec):
            low, high = tabular.endpoints(spec)
            start, end = tabular.position(low), tabular.last_descendant(high)
            if start is not None and end is not None:
                found.update(i for i, key in enumerate(keys) if start <= (tabular.position(key) or -1) <= end)
        else:
            head = tabular.compact(spec)
            found.update(i for i, key in enumerate(keys) if key.startswith(head))
    return frozenset(found)


def ranked(text: str) -> list[tuple[int, Code]]:
    """Every billable code the text finds, with its rank (wordsearch's ranks: a code typed first,
    then the whole phrase, whole words, word starts), in tabular order. No length cap: a long query
    simply has to match every one of its words."""
    billable, keys, index = _index()
    text = text or ""
    best = index.best(wordsearch.readings(text), lambda specs: set(_under(specs)))
    compact = "".join(text.split()).replace(".", "").upper()
    if CODE_LIKE.fullmatch(compact):
        for at, key in enumerate(keys):
            if key.startswith(compact):
                best[at] = wordsearch.EXACT_CODE if key == compact else wordsearch.CODE_PREFIX
    return [(best[at], billable[at]) for at in sorted(best)]


def search(text: str, *, limit: int | None = 20) -> list[Code]:
    """Billable codes for a code prefix (M17.1) or words (knee osteoarthritis, stroke, ALS), the best
    matches first and the plainest (shortest) descriptor first among equals."""
    found = sorted(ranked(text), key=lambda pair: (pair[0], len(pair[1].descriptor)))
    return [code for _, code in found[:limit]]
