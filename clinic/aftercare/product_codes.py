"""The distinct identification code check (21 CFR 1271.290(c)).

The code that makes an HCT/P traceable from donor to recipient must not be the patient's name,
Social Security number, medical record number or birth date, nor contain them. This module says
whether a code does, and which, without Django: the treatment service turns the reason into a
message. It never returns the patient's data itself, only what kind of data was found."""

import re
import unicodedata
from datetime import date

# Shorter name parts ("da", "Li") occur inside ordinary codes too often to refuse them.
MIN_NAME_LETTERS = 3
# A name part this short is refused only as a whole run of letters ("ANA-0042", not "BANANA").
SHORT_NAME_LETTERS = 4
# An MRN's number alone (MRN00012345 -> 00012345) is refused when it is at least this long.
MIN_MRN_DIGITS = 5
SSN = re.compile(r"(?<!\d)\d{3}[- ]\d{2}[- ]\d{4}(?!\d)")
LETTER_RUN = re.compile(r"[^\W\d_]+")  # letters of any script


def _plain(text: str) -> str:
    """Case-folded, accents removed ("José" -> "jose", "ИВАНОВА" -> "иванова"), every run of other
    characters one '-'. Letters of every script count (a name need not be written in A to Z)."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    letters = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return re.sub(r"[\W_]+", "-", letters).strip("-")


def _compact(text: str) -> str:
    return _plain(text).replace("-", "")


def _name_parts(name: str) -> list[str]:
    """Each part of the name, and the whole name without its punctuation ("O'Neil" is "oneil" in a
    code, not only "neil")."""
    parts = [part for part in _plain(name).split("-") if len(part) >= MIN_NAME_LETTERS and part.isalpha()]
    whole = _compact(name)
    if len(whole) >= MIN_NAME_LETTERS and whole.isalpha() and whole not in parts:
        parts.append(whole)
    return parts


def _contains_name(code: str, part: str) -> bool:
    runs = LETTER_RUN.findall(code)
    if len(part) <= SHORT_NAME_LETTERS:
        return part in runs
    return part in "".join(runs) or any(part in run for run in runs)


def _date_spellings(born: date) -> tuple[set[str], set[str]]:
    """(spellings with separators, compact spellings) of a birth date: year first, US month
    first, and day first, with four- and two-digit years."""
    years = (f"{born.year:04d}", f"{born.year % 100:02d}")
    months, days = (f"{born.month:02d}", str(born.month)), (f"{born.day:02d}", str(born.day))
    spaced: set[str] = set()
    compact: set[str] = set()
    for y in years:
        for m in months:
            for d in days:
                for order in ((y, m, d), (m, d, y), (d, m, y)):
                    spaced.add("-".join(order))
                    # Without separators only the zero-padded forms are unambiguous enough.
                    if len(m) == 2 and len(d) == 2:
                        compact.add("".join(order))
    return spaced, compact


MONTHS = "january february march april may june july august september october november december".split()
# Besides the three-letter abbreviations.
OTHER_ABBREVIATIONS = {9: ("sept",)}


def _month_name_spellings(born: date) -> re.Pattern:
    """02APR1961, 2-April-61, April 2, 1961, APR021961, 1961-APR-02 and the like, matched in the
    code without its separators, not inside a longer number (12APR1961 is another day)."""
    full = MONTHS[born.month - 1]
    names = (full, full[:3], *OTHER_ABBREVIATIONS.get(born.month, ()))
    years = (f"{born.year:04d}", f"{born.year % 100:02d}")
    days = (f"{born.day:02d}", str(born.day))
    spellings = {
        spelling
        for m in names
        for d in days
        for y in years
        for spelling in (f"{d}{m}{y}", f"{m}{d}{y}", f"{y}{m}{d}")
    }
    return re.compile(r"(?<!\d)(?:" + "|".join(sorted(spellings, key=len, reverse=True)) + r")(?!\d)")


def phi_in_code(code: str, *, given_name: str, family_name: str, mrn: str, birth_date: date) -> str | None:
    """What patient data the code contains ("the patient's family name"), or None."""
    plain, compact = _plain(code), _compact(code)
    for part in _name_parts(family_name):
        if _contains_name(plain, part):
            return "the patient's family name"
    for part in _name_parts(given_name):
        if _contains_name(plain, part):
            return "the patient's given name"
    mrn_compact = _compact(mrn)
    if mrn_compact and mrn_compact in compact:
        return "the patient's medical record number (MRN)"
    for digits in re.findall(r"\d+", mrn_compact):
        if len(digits) >= MIN_MRN_DIGITS and digits in compact:
            return "the number of the patient's medical record number (MRN)"
    if birth_date is not None:
        spaced, compact_dates = _date_spellings(birth_date)
        bounded = f"-{plain}-"
        digit_runs = re.findall(r"\d+", compact)
        if (
            any(f"-{spelling}-" in bounded for spelling in spaced)
            or any(spelling in run for spelling in compact_dates for run in digit_runs)
            or _month_name_spellings(birth_date).search(compact)
        ):
            return "the patient's birth date"
    if SSN.search(code or ""):
        return "a number written like a Social Security number (123-45-6789)"
    return None
