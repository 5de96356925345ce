"""ICD-10 codes: their form, their canonical spelling, and the one message for a bad one."""

import re

ICD10_FORM = re.compile(r"^[A-Z][0-9][0-9A-Z](?:[0-9A-Z]{1,4})?$")


def normalize_icd10(raw: str) -> str | None:
    """The code in canonical form (upper case, dot after the third character), or None
    when it is not of ICD-10 form. Accepts any case, with or without the dot, padded."""
    compact = raw.strip().upper().replace(".", "", 1)
    if not ICD10_FORM.match(compact):
        return None
    return compact if len(compact) == 3 else f"{compact[:3]}.{compact[3:]}"


def not_icd10_message(value: str) -> str:
    """What every door (API, FHIR, desk, services) says about a value of the wrong form."""
    return (
        f"“{value}” is not an ICD-10 code: a letter, a digit, then a digit or a letter, "
        "optionally followed by a dot and up to four more letters or digits, for example M17.11."
    )
