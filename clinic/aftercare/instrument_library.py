"""The instruments the follow-up can use: the shipped ones (clinic.aftercare.instruments) and the
ones the clinic added from a FHIR R4 Questionnaire file with the licence it holds (Instrument
rows). `get_instrument` finds either by key; `import_questionnaire` adds one (the `instruments`
command and the admin call it)."""

from __future__ import annotations

import json
import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from fhir.resources.R4B.questionnaire import Questionnaire
from pydantic import ValidationError as FHIRValidationError

from clinic.aftercare.instruments import (
    NOT_SHIPPED,
    SHIPPED,
    InstrumentSpec,
    QuestionnaireProblem,
    imported_spec,
    not_shipped_name,
)
from clinic.aftercare.models import Instrument

KEY_LENGTH = Instrument._meta.get_field("key").max_length
SOURCE_LENGTH = Instrument._meta.get_field("licence_source").max_length
TITLE_LENGTH = Instrument._meta.get_field("title").max_length


class UnknownInstrument(LookupError):
    """No shipped or clinic-added instrument has this key."""


def get_instrument(key: str) -> InstrumentSpec:
    """The shipped instrument, or the clinic's Instrument row as one; UnknownInstrument if neither."""
    if key in SHIPPED:
        return SHIPPED[key]
    row = Instrument.objects.filter(key=key).first()
    if row is None:
        raise UnknownInstrument(f"There is no instrument {key!r}: use one of {', '.join(instrument_keys())}.")
    return spec_for(row)


def spec_for(row: Instrument) -> InstrumentSpec:
    return imported_spec(
        row.questionnaire,
        key=row.key,
        title=row.title,
        better=row.better,
        score_min=row.score_min,
        score_max=row.score_max,
        mcid=row.mcid,
        mcid_source=row.mcid_source,
        licence=row.licence,
        licence_source=row.licence_source,
    )


def instrument_keys() -> list[str]:
    return [*SHIPPED, *Instrument.objects.order_by("key").values_list("key", flat=True)]


def all_instruments() -> list[InstrumentSpec]:
    """Shipped first, then the clinic's, by key (the `instruments list` command, the admin)."""
    return [*SHIPPED.values(), *(spec_for(row) for row in Instrument.objects.order_by("key"))]


@transaction.atomic
def import_questionnaire(
    *,
    data: dict,
    licence: str,
    licence_source: str,
    better: str,
    mcid: float | None,
    mcid_source: str,
    user=None,
    score_min: float | None = None,
    score_max: float | None = None,
    key: str | None = None,
) -> Instrument:
    """Add an instrument the clinic holds a licence for, from a FHIR R4 Questionnaire (validated
    with fhir.resources' R4B model). Scoring: the answers' scores (ordinalValue/itemWeight) summed
    and mapped from the file's possible range onto score_min..score_max (default: that range).
    Refuses a file naming WOMAC, ODI, EQ-5D, PROMIS or QuickDASH unless the licence is given, as it
    is for every import. ValidationError {field: [message]} on anything it cannot use."""
    errors: dict[str, str] = {}
    licence, licence_source, mcid_source = licence.strip(), licence_source.strip(), mcid_source.strip()
    resource = _validated(data, errors)
    title = (resource or {}).get("title") or (resource or {}).get("name") or ""
    named = not_shipped_name(title, (resource or {}).get("name", ""), (resource or {}).get("url", ""))
    if not licence:
        errors["licence"] = (
            f"{named} is not shipped: {NOT_SHIPPED[named][1]}. Give the licence or written permission "
            "the clinic holds, with its date."
            if named
            else "Give the licence or written permission the clinic holds for this instrument, with its date."
        )
    if not licence_source:
        errors["licence_source"] = "Give where the licence can be read (a URL or a document reference)."
    elif len(licence_source) > SOURCE_LENGTH:
        errors["licence_source"] = f"Keep the licence source within {SOURCE_LENGTH} characters."
    if better not in ("higher", "lower"):
        errors["better"] = "Say which way is better: higher or lower."
    if mcid is not None and not mcid > 0:
        errors["mcid"] = (
            "An MCID is a positive change in the better direction; leave it out if none is known."
        )
    if mcid is not None and not mcid_source:
        errors["mcid_source"] = "Give the source of the MCID and the population it was derived in."
    if resource is not None and not title:
        errors["data"] = "Give the Questionnaire a title (what the desk and the patient will see)."
    elif len(title) > TITLE_LENGTH:
        errors["data"] = f"Keep the Questionnaire's title within {TITLE_LENGTH} characters."
    key = key or _key_from(resource or {})
    if resource is not None:
        _check_key(key, errors)
    if errors:
        raise ValidationError(errors)
    try:
        spec = imported_spec(
            resource,
            key=key,
            title=title,
            better=better,
            score_min=score_min,
            score_max=score_max,
            mcid=mcid,
            mcid_source=mcid_source,
            licence=licence,
            licence_source=licence_source,
        )
    except QuestionnaireProblem as problem:
        raise ValidationError({"data": problem.args[0]}) from None
    except ValueError as problem:
        raise ValidationError({"score_max": str(problem)}) from None
    if mcid is not None and mcid > spec.score_max - spec.score_min:
        raise ValidationError(
            {"mcid": f"The MCID is larger than the whole scale ({spec.score_min:g}-{spec.score_max:g})."}
        )
    try:
        return _store(spec, resource, mcid=mcid, user=user)
    except IntegrityError:
        # Another import took the key between the check and the insert.
        raise ValidationError({"key": f"The clinic has an instrument {key} already."}) from None


def _store(spec: InstrumentSpec, resource: dict, *, mcid: float | None, user) -> Instrument:
    return Instrument.objects.create(
        key=spec.key,
        title=spec.title,
        questionnaire=resource,
        better=spec.better,
        score_min=spec.score_min,
        score_max=spec.score_max,
        mcid=mcid,
        mcid_source=spec.mcid_source,
        licence=spec.licence,
        licence_source=spec.licence_source,
        added_by=user,
    )


def _validated(data: object, errors: dict[str, str]) -> dict | None:
    if not isinstance(data, dict) or data.get("resourceType") != "Questionnaire":
        errors["data"] = 'This is not a FHIR Questionnaire: its resourceType must be "Questionnaire".'
        return None
    try:
        resource = Questionnaire.model_validate(data)
    except FHIRValidationError as exc:
        first = exc.errors()[0]
        where = "Questionnaire" + "".join(
            f"[{part}]" if isinstance(part, int) else f".{part}" for part in first["loc"]
        )
        errors["data"] = (
            f"Not a valid FHIR R4 Questionnaire: {where}: {first['msg'].removeprefix('Value error, ')}"
        )
        return None
    except (TypeError, ValueError, KeyError) as exc:
        errors["data"] = f"Not readable as a FHIR R4 Questionnaire: {exc}."
        return None
    return json.loads(resource.model_dump_json(exclude_none=True))


def _key_from(resource: dict) -> str:
    source = resource.get("name") or resource.get("id") or resource.get("title") or ""
    # CamelCase names (FHIR's computable name) become words: "OxfordKneeScore" -> oxford_knee_score.
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", source)
    return re.sub(r"[^a-z0-9]+", "_", words.lower()).strip("_")[:KEY_LENGTH].rstrip("_")


def _check_key(key: str, errors: dict[str, str]) -> None:
    if not key:
        errors["key"] = "Give the Questionnaire a name or id to key the instrument by."
    elif not re.fullmatch(rf"[a-z0-9_]{{1,{KEY_LENGTH}}}", key):
        errors["key"] = f"A key is lower-case letters, digits and _, at most {KEY_LENGTH} characters."
    elif key in SHIPPED:
        errors["key"] = f"{key} is a shipped instrument; give the file another name (or pass a key)."
    elif Instrument.objects.filter(key=key).exists():
        errors["key"] = (
            f"The clinic has an instrument {key} already; give the file another name (or pass a key)."
        )
