"""Likely-duplicate patients: the one rule set the desk's warning and the API's
conservative matching share.

A pair is a likely match when they share a birth date and have similar names,
or share a phone number, or share an email address. Every test is symmetric:
if A warns about B, B warns about A.

Names are compared in their own script: folding removes case, compatibility forms
(full-width letters, ligatures) and the accents of scripts where leaving an accent out
is ordinary spelling (Latin, Greek, Arabic and Hebrew vowel marks), and keeps every
letter. A transliteration to Latin (anyascii) is only a hint for names written in
different scripts: it adds a warning, never a match on its own.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from difflib import SequenceMatcher
from functools import lru_cache

from anyascii import anyascii
from django.db.models import Q

from intake.models import Patient

NAME_SIMILARITY = 0.8
# Fewer letters than this in a whole folded name is too little to tell people apart.
MIN_NAME_LETTERS = 2
SAME_NAME = "same birth date and a similar name"
OTHER_SCRIPT = "same birth date and a name that may be the same written in another script"

# Marks on letters of these scripts are left out when names are compared ("José" is "Jose",
# "Γιώργος" is "Γιωργος", vowelled Arabic is plain Arabic). Elsewhere a mark makes another
# letter (Cyrillic й is not и, Japanese が is not か, Devanagari vowel signs), so it stays.
ACCENT_FOLDED_SCRIPTS = frozenset({"LATIN", "GREEK", "ARABIC", "HEBREW"})
# Latin letters with a stroke or ligatures that Unicode does not decompose, written without
# them by the same people (Vietnamese Đặng is Dang, Danish Søren is Soren).
STROKED = str.maketrans({"đ": "d", "ð": "d", "ø": "o", "ł": "l", "ħ": "h", "ŧ": "t", "ı": "i"})
STROKED_LIGATURES = {"æ": "ae", "œ": "oe", "þ": "th"}
# The Arabic kashida only stretches a word: "محـمد" is "محمد".
TATWEEL = "\u0640"


def _script(char: str) -> str:
    """The first word of the character's Unicode name: LATIN, CYRILLIC, CJK, HANGUL, ..."""
    return unicodedata.name(char, "").partition(" ")[0]


# Names repeat across the up to 200 candidates of one check; folding is pure, so remember it.
@lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """Lower case, no accents, letters of every script and single spaces:
    "Jo-Ão  Sílva" -> "jo ao silva", "ΓΙΏΡΓΟΣ" -> "γιωργοσ", "Иван" -> "иван", "李 娜" -> "李 娜"."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text or "").casefold())
    kept, base = [], ""
    for char in decomposed:
        category = unicodedata.category(char)
        if category.startswith("M"):
            if base not in ACCENT_FOLDED_SCRIPTS:
                kept.append(char)
        elif char == TATWEEL:
            continue
        elif category.startswith("L"):
            base = _script(char)
            kept.append(char)
        else:  # punctuation, digits, symbols, spaces
            base = ""
            kept.append(" ")
    folded = unicodedata.normalize("NFC", "".join(kept)).translate(STROKED)
    for ligature, letters in STROKED_LIGATURES.items():
        folded = folded.replace(ligature, letters)
    return " ".join(folded.split())


def _letters(folded: str) -> int:
    return len(folded.replace(" ", ""))


def name_usable(given_name: str, family_name: str) -> bool:
    """Whether a name says enough to be matched on: both parts keep a letter once folded,
    and the whole has MIN_NAME_LETTERS. A name of punctuation or symbols never matches."""
    given, family = fold(given_name), fold(family_name)
    return bool(given and family) and _letters(f"{given}{family}") >= MIN_NAME_LETTERS


def _scripts(text: str) -> frozenset[str]:
    return frozenset(_script(char) for char in text if char != " ")


def phone_key(phone: str) -> str:
    """The last nine digits: the same number written with or without a country code."""
    digits = re.sub(r"\D", "", phone or "")
    return digits[-9:] if len(digits) >= 7 else ""


def _similar(a: str, b: str) -> bool:
    # SequenceMatcher is not symmetric; taking both directions makes the test symmetric.
    return max(SequenceMatcher(None, a, b).ratio(), SequenceMatcher(None, b, a).ratio()) >= NAME_SIMILARITY


def _alike(given_a: str, family_a: str, given_b: str, family_b: str) -> bool:
    """Similar in either order (given and family swapped), on already folded parts."""
    a = f"{given_a} {family_a}"
    return _similar(a, f"{given_b} {family_b}") or _similar(a, f"{family_b} {given_b}")


def names_similar(given_a: str, family_a: str, given_b: str, family_b: str) -> bool:
    if not (name_usable(given_a, family_a) and name_usable(given_b, family_b)):
        return False
    return _alike(fold(given_a), fold(family_a), fold(given_b), fold(family_b))


@lru_cache(maxsize=4096)
def _latin(text: str) -> str:
    # Transliterations differ in where they put spaces ("李娜" gives "LiNa"); compare letters only.
    return re.sub(r"[^a-z]", "", anyascii(fold(text)).lower())


def names_may_be_transliterations(given_a: str, family_a: str, given_b: str, family_b: str) -> bool:
    """The hint: two names in different scripts that read alike in Latin letters
    ("Иван Петров" and "Ivan Petrov"). Never a match on its own, only a warning."""
    if not (name_usable(given_a, family_a) and name_usable(given_b, family_b)):
        return False
    if _scripts(fold(f"{given_a} {family_a}")) == _scripts(fold(f"{given_b} {family_b}")):
        return False
    parts = [_latin(given_a), _latin(family_a), _latin(given_b), _latin(family_b)]
    return all(parts) and _alike(*parts)


def same_person_exactly(patient: Patient, *, given_name: str, family_name: str, birth_date: date) -> bool:
    """Same birth date and the same name once folded (case and accents aside)."""
    return (
        patient.birth_date == birth_date
        and name_usable(given_name, family_name)
        and fold(patient.given_name) == fold(given_name)
        and fold(patient.family_name) == fold(family_name)
    )


def same_text(a: str, b: str) -> bool:
    """The same characters as written (only Unicode's equivalent encodings aside): what the
    other side shows is then exactly what this side typed."""
    return unicodedata.normalize("NFC", a.strip()) == unicodedata.normalize("NFC", b.strip())


@dataclass(frozen=True)
class Match:
    patient: Patient
    reasons: tuple[str, ...]


def likely_duplicates(
    *,
    given_name: str,
    family_name: str,
    birth_date: date,
    phone: str = "",
    email: str = "",
    limit: int = 10,
    sandbox: bool = False,
) -> list[Match]:
    """Existing patients who may be the person described, with the reasons why. A sandbox
    partner's test patients and real patients are never candidates for each other."""
    key, email = phone_key(phone), (email or "").strip().lower()
    candidates = Q(birth_date=birth_date)
    if key:
        candidates |= Q(phone_key=key)
    if email:
        candidates |= Q(email=email)
    matches = []
    for patient in Patient.objects.filter(candidates, sandbox=sandbox).order_by("family_name", "given_name")[
        :200
    ]:
        reasons = []
        if patient.birth_date == birth_date:
            names = (given_name, family_name, patient.given_name, patient.family_name)
            if names_similar(*names):
                reasons.append(SAME_NAME)
            elif names_may_be_transliterations(*names):
                reasons.append(OTHER_SCRIPT)
        if key and patient.phone_key == key:
            reasons.append("same phone number")
        if email and patient.email == email:
            reasons.append("same email address")
        if reasons:
            matches.append(Match(patient=patient, reasons=tuple(reasons)))
    return matches[:limit]


def search_patients(query: str, *, limit: int = 20) -> list[Patient]:
    """Find patients by MRN, birth date (YYYY-MM-DD) or name words."""
    query = query.strip()
    if not query:
        return []
    filters = Q(mrn__iexact=query)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", query):
        try:
            filters |= Q(birth_date=date.fromisoformat(query))
        except ValueError:
            pass
    words = query.split()
    if words:
        by_name = Q()
        for word in words:
            by_name &= Q(family_name__icontains=word) | Q(given_name__icontains=word)
        filters |= by_name
    # Sandbox test patients are the partner's, not the clinic's.
    return list(Patient.objects.filter(filters, sandbox=False).order_by("family_name", "given_name")[:limit])
