"""Finding a descriptor by the words a person types: the one rule the code list, the clinic's
vocabulary, the desk's condition field and the partner API share.

Every word typed must match the start of a word of the descriptor ("stroke" matches "Brain stem
stroke syndrome", never "Heatstroke"); small words (of, the, with) are left out on both sides,
so "osteoarthritis of right knee" reads "Unilateral primary osteoarthritis, right knee". The
last word may still be half typed. Matches rank by how well they match: the whole phrase at the
start of the descriptor, then the whole phrase anywhere, then every word whole, then word starts.

A word or phrase that is a known synonym (intake.vocabulary.synonyms) is also read as its
meaning ("ALS" as "amyotrophic lateral sclerosis") and as the codes it names (stroke: I63,
I69.3); a match by any reading counts, at its best rank. Written as a synonym, the term itself
matches only whole words: "MS" does not match "MSSA".
"""

import re
import unicodedata
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import product

from intake.vocabulary.synonyms import SYNONYMS, Synonym

STOPWORDS = frozenset({"a", "an", "and", "at", "by", "for", "in", "of", "on", "or", "the", "to", "with"})

# Ranks, best first. A code typed ("M17.11", "m171") ranks above any word match.
EXACT_CODE, CODE_PREFIX, START, PHRASE, WHOLE, PREFIX = range(6)

# Synonyms expanded per query (each reads three ways); any further ones are read as typed.
MAX_EXPANDED = 3

_APOSTROPHES = re.compile(r"['’`´]")
_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> tuple[str, ...]:
    """Lower case, accents off, apostrophes dropped (Crohn's is crohns), split at anything that
    is not a letter or a digit: "Graft-versus-host" gives graft, versus, host."""
    decomposed = unicodedata.normalize("NFKD", (text or "").casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return tuple(_WORD.findall(_APOSTROPHES.sub("", plain)))


def content(tokens: Iterable[str]) -> tuple[str, ...]:
    return tuple(token for token in tokens if token not in STOPWORDS)


@dataclass(frozen=True)
class Reading:
    """One way to read the query: words that must all match, some of them only as whole words,
    and groups of code specs the code must fall under (one spec of each group)."""

    words: tuple[str, ...]
    exact: frozenset[int] = frozenset()
    codes: tuple[tuple[str, ...], ...] = ()
    # (start, end) of words that must stand together, in order: a synonym's meaning is a phrase
    # ("multiple sclerosis", not "nodular sclerosis ... multiple sites"). Each may end a word early.
    phrases: tuple[tuple[int, int], ...] = ()


@cache
def _terms() -> dict[tuple[str, ...], Synonym]:
    return {content(words(term)): synonym for synonym in SYNONYMS for term in synonym.terms}


def _occurrences(tokens: tuple[str, ...]) -> list[tuple[int, int, Synonym]]:
    """Where synonyms stand in the query: the longest term at each position, none overlapping."""
    terms, longest = _terms(), max(map(len, _terms()))
    found, at = [], 0
    while at < len(tokens):
        for size in range(min(longest, len(tokens) - at), 0, -1):
            synonym = terms.get(tokens[at : at + size])
            if synonym is not None:
                found.append((at, at + size, synonym))
                at += size
                break
        else:
            at += 1
    return found[:MAX_EXPANDED]


def readings(query: str) -> list[Reading]:
    """The readings of a query: as typed, and with each synonym read as its meaning or its codes.
    A last word that may be a small word half typed ("osteoarthritis o") is also read without it."""
    typed = words(query)
    tokens = content(typed)
    if not tokens:
        return []
    found = _expanded(tokens)
    last = typed[-1]
    if len(tokens) > 1 and tokens[-1] == last and any(stop.startswith(last) for stop in STOPWORDS):
        found += _expanded(tokens[:-1])
    return found


def _expanded(tokens: tuple[str, ...]) -> list[Reading]:
    occurrences = _occurrences(tokens)
    options = [("typed", "meaning", "codes")] * len(occurrences)
    found = []
    for choice in product(*options):
        typed, exact, codes, phrases, at = [], set(), [], [], 0
        for (start, end, synonym), how in zip(occurrences, choice, strict=True):
            typed += tokens[at:start]
            if how == "typed":
                exact.update(range(len(typed), len(typed) + end - start))
                typed += tokens[start:end]
            elif how == "meaning":
                meaning = content(words(synonym.meaning))
                phrases.append((len(typed), len(typed) + len(meaning)))
                typed += meaning
            else:
                codes.append(synonym.codes)
            at = end
        typed += tokens[at:]
        found.append(Reading(tuple(typed), frozenset(exact), tuple(codes), tuple(phrases)))
    return found


def used_synonyms(query: str) -> list[Synonym]:
    """The synonyms a query uses, in the order typed."""
    return [synonym for _, _, synonym in _occurrences(content(words(query)))]


def rank(reading: Reading, tokens: tuple[str, ...]) -> int | None:
    """How well a descriptor (its content tokens) matches a reading; None when it does not."""
    wanted = reading.words
    if not wanted:
        return WHOLE  # codes alone (a synonym's codes) match like a whole word
    last = len(wanted) - 1

    def starts(i: int, token: str) -> bool:
        return i not in reading.exact and token.startswith(wanted[i])

    def fits(i: int, token: str) -> bool:  # whole, or the last word half typed
        return token == wanted[i] or (i == last and starts(i, token))

    if not all(any(token == word or starts(i, token) for token in tokens) for i, word in enumerate(wanted)):
        return None
    for start, end in reading.phrases:
        if not any(
            all(tokens[at + i - start].startswith(wanted[i]) for i in range(start, end))
            for at in range(len(tokens) - (end - start) + 1)
        ):
            return None
    for at in range(len(tokens) - last):
        if all(fits(i, tokens[at + i]) for i in range(last + 1)):
            return START if at == 0 else PHRASE
    if all(any(fits(i, token) for token in tokens) for i in range(last + 1)):
        return WHOLE
    return PREFIX


class WordIndex:
    """The words of many descriptors, for finding those a reading matches without reading them all."""

    def __init__(self, texts: Sequence[str]):
        self.tokens: list[tuple[str, ...]] = []
        postings: dict[str, list[int]] = {}
        for index, text in enumerate(texts):
            tokens = tuple(map(_intern, content(words(text))))
            self.tokens.append(tokens)
            for token in set(tokens):
                postings.setdefault(token, []).append(index)
        self._sorted = sorted(postings)
        self._postings = {token: array("I", ids) for token, ids in postings.items()}

    def having(self, word: str, *, whole: bool) -> set[int]:
        """The descriptors with a word that is `word` (or, unless `whole`, starts with it)."""
        if whole:
            return set(self._postings.get(word, ()))
        found: set[int] = set()
        at = bisect_left(self._sorted, word)
        while at < len(self._sorted) and self._sorted[at].startswith(word):
            found.update(self._postings[self._sorted[at]])
            at += 1
        return found

    def best(
        self, query_readings: Sequence[Reading], codes_in: Callable[[tuple[str, ...]], set[int]]
    ) -> dict[int, int]:
        """Each matching descriptor's index with its best rank over the readings. `codes_in`
        gives the descriptors whose code falls under one of a group's specs."""
        best: dict[int, int] = {}
        for reading in query_readings:
            candidates = self._candidates(reading, codes_in)
            for index in candidates:
                found = rank(reading, self.tokens[index])
                if found is not None and found < best.get(index, PREFIX + 1):
                    best[index] = found
        return best

    def _candidates(self, reading: Reading, codes_in: Callable[[tuple[str, ...]], set[int]]) -> set[int]:
        """The descriptors holding every word of the reading, under its codes. Longer words first
        (they are rarer), and none further once nothing is left: a long query stays quick."""
        candidates: set[int] | None = None
        for group in reading.codes:
            found = codes_in(group)
            candidates = set(found) if candidates is None else candidates & found
        order = sorted(
            range(len(reading.words)), key=lambda i: (i not in reading.exact, -len(reading.words[i]))
        )
        for i in order:
            if candidates is not None and not candidates:
                break
            found = self.having(reading.words[i], whole=i in reading.exact)
            candidates = found if candidates is None else candidates & found
        return candidates or set()


_interned: dict[str, str] = {}


def _intern(token: str) -> str:
    # The same word in many descriptors is one string in memory.
    return _interned.setdefault(token, token)
