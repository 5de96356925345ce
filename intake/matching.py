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
from django.db import connection
from django.db.models import Q

from intake.models import Case, Patient
from intake.selectors import case_by_reference
from intake.vocabulary.names import fold, name_key, script

__all__ = ["fold", "name_key"]  # the folding lives with the names vocabulary; read here too

NAME_SIMILARITY = 0.8
# Fewer letters than this in a whole folded name is too little to tell people apart.
MIN_NAME_LETTERS = 2
SAME_NAME = "same birth date and a similar name"
OTHER_SCRIPT = "same birth date and a name that may be the same written in another script"


def _letters(folded: str) -> int:
    return len(folded.replace(" ", ""))


def name_usable(given_name: str, family_name: str) -> bool:
    """Whether a name says enough to be matched on: both parts keep a letter once folded,
    and the whole has MIN_NAME_LETTERS. A name of punctuation or symbols never matches."""
    given, family = fold(given_name), fold(family_name)
    return bool(given and family) and _letters(f"{given}{family}") >= MIN_NAME_LETTERS


def _scripts(text: str) -> frozenset[str]:
    return frozenset(script(char) for char in text if char != " ")


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


# The candidates' query compiled once per database and shape (which of phone and email are given,
# sandbox or not): every referral and every desk warning runs it, and compiling it cost more than
# running it.
_COMPILED: dict[tuple[str, bool, bool, bool], str] = {}


def _candidates(*, birth_date: date, key: str, email: str, sandbox: bool):
    # As the compiler hands them to the database (SQLite takes dates as text).
    born = connection.ops.adapt_datefield_value(birth_date)
    params = [born, *([key] if key else []), *([email] if email else [])]
    shape = (connection.vendor, bool(key), bool(email), sandbox)
    sql = _COMPILED.get(shape)
    if sql is None:
        candidates = Q(birth_date=birth_date)
        if key:
            candidates |= Q(phone_key=key)
        if email:
            candidates |= Q(email=email)
        query = Patient.objects.filter(candidates, sandbox=sandbox).order_by("family_name", "given_name")
        sql, compiled_params = query[:200].query.sql_with_params()
        if list(compiled_params) != params:  # the reuse below relies on this order
            raise RuntimeError(f"the candidates' query takes {compiled_params!r}, not {params!r}")
        _COMPILED[shape] = sql
    return Patient.objects.raw(sql, params)


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
    matches = []
    for patient in _candidates(birth_date=birth_date, key=key, email=email, sandbox=sandbox):
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


# The dates a desk types: ISO (1961-04-02), US style (04/02/1961, month first, as the clinic's
# forms and partners in the US write it) and the dotted day-first style (02.04.1961).
DATE_FORMS = (
    (re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"), ("year", "month", "day")),
    (re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})"), ("month", "day", "year")),
    (re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})"), ("day", "month", "year")),
)


def search_date(text: str) -> date | None:
    """The date `text` is, in one of DATE_FORMS, or None (also for a day that does not exist)."""
    for form, order in DATE_FORMS:
        match = form.fullmatch((text or "").strip())
        if match:
            parts = dict(zip(order, map(int, match.groups()), strict=True))
            try:
                return date(parts["year"], parts["month"], parts["day"])
            except ValueError:
                return None
    return None


def _named_by_reference(query: str) -> list:
    """The patients the whole query names: by MRN, by a partner's reference for one of their cases
    (Case.external_id), by a case reference. Small separate lookups, so that the name search
    beside them keeps its indexes."""
    if len(query.split()) != 1:
        return []
    ids = list(Patient.objects.filter(mrn__iexact=query).values_list("pk", flat=True)[:5])
    ids += Case.objects.filter(external_id__iexact=query, sandbox=False).values_list("patient_id", flat=True)[
        :20
    ]
    if case := case_by_reference(query):
        ids.append(case.patient_id)
    return ids


def search_patients(query: str, *, limit: int = 20) -> list[Patient]:
    """Patients a desk's search finds, by family and given name. Whole-query matches: an MRN, a
    partner's reference for one of the patient's cases (Case.external_id, LIVE-001), a case
    reference (C-2026-000010). Otherwise its words: dates (search_date) are the birth date, and
    every other word must begin a word of the name, in any order, case, accents and script aside
    ("nguyen" finds "Nguyễn", "ζωη" finds "Ζωή"). Never a sandbox partner's test patient."""
    query = (query or "").strip()
    if not query:
        return []
    found = Q(pk__in=_named_by_reference(query))
    by_words, names = Q(), []
    for word in query.split():
        born = search_date(word)
        if born is not None:
            by_words &= Q(birth_date=born)
        elif not any(char.isdigit() for char in word):  # no name has digits: C-2026-…, LIVE-001
            names += fold(word).split()
    for name in names:
        # Served on PostgreSQL by name_key's pattern index (a start) and trigram index (inside).
        by_words &= Q(name_key__startswith=name) | Q(name_key__contains=f" {name}")
    if by_words:  # a query of references, digits or marks alone names nobody by its words
        found |= by_words
    patients = Patient.objects.filter(found, sandbox=False).order_by("family_name", "given_name", "pk")
    return list(patients[:limit])
