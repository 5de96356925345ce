"""ICD-10 codes: their form, their canonical spelling, whether the code set has them, and the one
message for each way a code can be wrong."""

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


class CodeError(ValueError):
    """The value is not a usable condition code; the message says why, for a person to act on."""


def not_in_code_set_message(code: str) -> str:
    from intake.vocabulary.icd10cm import RELEASE

    return (
        f"“{code}” has the form of an ICD-10 code but is not a code in {RELEASE}. "
        "Check the code, or search the code list by words, for example “knee osteoarthritis”."
    )


def clean_icd10(raw: str, *, must_exist: bool = True) -> str:
    """The code in canonical form. Raises CodeError when it is not of ICD-10 form, or (with
    `must_exist`, as rule set v2 requires) not a code of the official ICD-10-CM code set."""
    from intake.vocabulary import icd10cm

    code = normalize_icd10(raw or "")
    if code is None:
        raise CodeError(not_icd10_message(raw))
    if must_exist and icd10cm.get(code) is None:
        raise CodeError(not_in_code_set_message(code))
    return code
