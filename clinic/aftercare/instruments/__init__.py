"""The follow-up instruments as data (DESIGN.md, "Follow-up"): items, answer options, scoring,
direction, MCID with its source and derivation population, licence status with its source.

Shipped, because each is free to ship: pain NRS (0-10), KOOS, JR., HOOS, JR., SANE (licence
`unknown`). Not shipped: WOMAC, ODI, EQ-5D, PROMIS, QuickDASH; a clinic adds an instrument it
holds a licence for from a FHIR Questionnaire file (clinic.aftercare.instrument_library), and
`imported_spec` turns that file into the same kind of InstrumentSpec.

Pure: no Django, so the scoring rules are tested without a database (import contract)."""

from __future__ import annotations

import re

from clinic.aftercare.instruments import hoos_jr, koos_jr, pain_nrs, sane
from clinic.aftercare.instruments.fhir import QuestionnaireProblem, questionnaire, read_items
from clinic.aftercare.instruments.scoring import (
    Better,
    InstrumentSpec,
    Item,
    LicenceStatus,
    Option,
    improvement,
    responder,
)

__all__ = [
    "NOT_SHIPPED",
    "SHIPPED",
    "Better",
    "InstrumentSpec",
    "Item",
    "LicenceStatus",
    "Option",
    "QuestionnaireProblem",
    "imported_spec",
    "improvement",
    "not_shipped_name",
    "questionnaire",
    "read_items",
    "responder",
]

SHIPPED: dict[str, InstrumentSpec] = {
    spec.key: spec for spec in (pain_nrs.SPEC, koos_jr.SPEC, hoos_jr.SPEC, sane.SPEC)
}

# Instruments this product does not ship, with what their owners ask (the project's research notes,
# "After the decision" section 2, which read these pages); an import naming one needs the licence.
NOT_SHIPPED: dict[str, tuple[str, str]] = {
    "WOMAC": (r"\bWOMAC\b|Western Ontario and McMaster", "proprietary; licences from its owner (womac.org)"),
    "ODI": (
        r"\bODI\b|Oswestry",
        "licensed by Mapi Research Trust; fees for funded and commercial use (https://www.mapi-trust.org/)",
    ),
    "EQ-5D": (r"EQ-?5D|EuroQol", "registration and a licence from EuroQol (https://euroqol.org/)"),
    "PROMIS": (
        r"\bPROMIS\b",
        "commercial or electronic use needs HealthMeasures' written permission "
        "(https://www.healthmeasures.net/explore-measurement-systems/promis/obtain-administer-measures)",
    ),
    "QuickDASH": (
        r"Quick\s*-?\s*DASH|\bDASH\b",
        "a commercial licence from the Institute for Work & Health (https://dash.iwh.on.ca/licences)",
    ),
}


def not_shipped_name(*texts: str) -> str | None:
    """Which of the not-shipped instruments these texts (a Questionnaire's title, name, url) name."""
    for name, (pattern, _terms) in NOT_SHIPPED.items():
        if any(re.search(pattern, text or "", flags=re.IGNORECASE) for text in texts):
            return name
    return None


def imported_spec(
    data: dict,
    *,
    key: str,
    title: str,
    better: Better,
    score_min: float | None,
    score_max: float | None,
    mcid: float | None,
    mcid_source: str,
    licence: str,
    licence_source: str,
) -> InstrumentSpec:
    """A clinic's Questionnaire as an instrument: the answers' scores summed and mapped linearly
    from the range the file's options allow (every item at its lowest .. at its highest) onto
    score_min..score_max (by default that range itself, i.e. the plain sum). Every item must be
    answered for a score. QuestionnaireProblem or ValueError name what cannot be used."""
    items = read_items(data)
    raw_min = sum(item.lowest for item in items)
    raw_max = sum(item.highest for item in items)
    if raw_max <= raw_min:
        raise QuestionnaireProblem("Questionnaire.item", "Every answer scores the same: nothing to measure.")
    low = raw_min if score_min is None else score_min
    high = raw_max if score_max is None else score_max
    if low >= high:
        raise ValueError("score_min must be below score_max.")
    return InstrumentSpec(
        key=key,
        title=title,
        items=items,
        better=better,
        score_min=low,
        score_max=high,
        mcid=mcid,
        mcid_percent=None,
        mcid_source=mcid_source,
        licence=licence,
        licence_status="licensed",
        licence_source=licence_source,
        population_note="Added by the clinic from its licensed copy; the MCID, if any, is the one "
        "the clinic recorded with its source.",
        scoring="scaled_sum",
        content_source="The clinic's Questionnaire file.",
    )
