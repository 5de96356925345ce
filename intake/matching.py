"""Likely-duplicate patients: the one rule set the desk's warning and the API's
conservative matching share.

A pair is a likely match when they share a birth date and have similar names,
or share a phone number, or share an email address. Every test is symmetric:
if A warns about B, B warns about A.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from difflib import SequenceMatcher

from django.db.models import Q

from intake.models import Patient

NAME_SIMILARITY = 0.8


def fold(text: str) -> str:
    """Lower case, no accents, letters and spaces only: "Jo-Ão  Sílva" -> "jo ao silva"."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^a-z ]", " ", plain.lower()).split())


def phone_key(phone: str) -> str:
    """The last nine digits: the same number written with or without a country code."""
    digits = re.sub(r"\D", "", phone or "")
    return digits[-9:] if len(digits) >= 7 else ""


def _similar(a: str, b: str) -> bool:
    # SequenceMatcher is not symmetric; taking both directions makes the test symmetric.
    return max(SequenceMatcher(None, a, b).ratio(), SequenceMatcher(None, b, a).ratio()) >= NAME_SIMILARITY


def names_similar(given_a: str, family_a: str, given_b: str, family_b: str) -> bool:
    a, b = f"{fold(given_a)} {fold(family_a)}", f"{fold(given_b)} {fold(family_b)}"
    swapped = f"{fold(family_b)} {fold(given_b)}"
    return _similar(a, b) or _similar(a, swapped)


def same_person_exactly(patient: Patient, *, given_name: str, family_name: str, birth_date: date) -> bool:
    return (
        patient.birth_date == birth_date
        and fold(patient.given_name) == fold(given_name)
        and fold(patient.family_name) == fold(family_name)
    )


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
        if patient.birth_date == birth_date and names_similar(
            given_name, family_name, patient.given_name, patient.family_name
        ):
            reasons.append("same birth date and a similar name")
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
