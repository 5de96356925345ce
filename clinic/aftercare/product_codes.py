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


def _plain(text: str) -> str:
    """Upper case, accents removed ("José" -> "JOSE"), every run of other characters one '-'."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    letters = "".join(c for c in decomposed if not unicodedata.combining(c)).upper()
    return re.sub(r"[^A-Z0-9]+", "-", letters).strip("-")


def _compact(text: str) -> str:
    return _plain(text).replace("-", "")


def _name_parts(name: str) -> list[str]:
    return [part for part in _plain(name).split("-") if len(part) >= MIN_NAME_LETTERS and part.isalpha()]


def _contains_name(code: str, part: str) -> bool:
    runs = re.findall(r"[A-Z]+", code)
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


MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def _month_name_spellings(born: date) -> set[str]:
    """02APR1961, 2APR61, APR021961 and the like (separators removed)."""
    month = MONTHS[born.month - 1]
    years = (f"{born.year:04d}", f"{born.year % 100:02d}")
    days = (f"{born.day:02d}", str(born.day))
    return {f"{d}{month}{y}" for d in days for y in years} | {f"{month}{d}{y}" for d in days for y in years}


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
            or any(spelling in compact for spelling in _month_name_spellings(birth_date))
        ):
            return "the patient's birth date"
    if SSN.search(code or ""):
        return "a number written like a Social Security number (123-45-6789)"
    return None
