"""Ranges of ICD-10-CM codes by position in the code set's tabular order (rule set v3, rule 5).

A code lies in `A-B` when its position in the Tabular List falls between `A` and the last
descendant of `B`: never by comparing text (M1A, chronic gout, sorts after M19 as text but
lies in M05-M14 in the Tabular List; C4A, C7A and C7B lie in C00-C96), and never with the
library's `is_descendant` on a section (its section `C00-C96` has no children). The shipped
table (`icd10cm.tsv.gz`) lists the code set in tabular order, so a position is an index in it.
A single code, category or subcategory covers itself and its descendants, which in ICD-10-CM
are exactly the codes that begin with it.
"""

from functools import cache

from intake.vocabulary import icd10cm


def compact(code: str) -> str:
    return code.replace(".", "").strip().upper()


@cache
def _order() -> tuple[tuple[str, ...], dict[str, int]]:
    keys = tuple(compact(code) for code in icd10cm._codes())
    return keys, {key: index for index, key in enumerate(keys)}


def position(code: str) -> int | None:
    """The code's index in tabular order, or None when the code set has no such code."""
    return _order()[1].get(compact(code))


def last_descendant(code: str) -> int | None:
    """The tabular index of the last code that `code` covers (itself when it has no children)."""
    keys, index = _order()
    key = compact(code)
    at = index.get(key)
    if at is None:
        return None
    while at + 1 < len(keys) and keys[at + 1].startswith(key):
        at += 1
    return at


def is_range(spec: str) -> bool:
    return "-" in spec


def endpoints(spec: str) -> tuple[str, str]:
    low, _, high = spec.partition("-")
    return low.strip(), (high or low).strip()


def known(spec: str) -> bool:
    """Whether every end of `spec` is a code (category, subcategory or code) of the code set."""
    return all(position(end) is not None for end in endpoints(spec))


def in_spec(code: str, spec: str) -> bool:
    """Whether `code` falls under `spec`: a code, category or subcategory with its descendants,
    or a range `A-B` in tabular order."""
    if not is_range(spec):
        return compact(code).startswith(compact(spec))
    low, high = endpoints(spec)
    here, start, end = position(code), position(low), last_descendant(high)
    if here is None or start is None or end is None:
        return False
    return start <= here <= end
