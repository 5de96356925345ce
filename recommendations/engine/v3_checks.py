"""Rule set v3, steps (a), (b), (d) and (e): validation, hard stops from the answers and every given
code, the body-region and side checks of the listed sites, and what NO-PROTOCOL says is missing. Pure."""

import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import quote_plus

from intake.vocabulary import icd10cm
from intake.vocabulary.body_sites import SITES
from intake.vocabulary.findings import validate_findings
from intake.vocabulary.regions import regions_named, sites_of
from intake.vocabulary.stops import StopClass, StopLists, treatment_ended_recently
from recommendations.engine.common import FiredRule, Intake, Route, age_on
from recommendations.engine.protocols import Protocol, by_specificity, live
from recommendations.engine.v3_rules import TRIALS_CAVEAT, TRIALS_SEARCH, fire

MAX_ADDITIONAL = 5
CONSENT_BY = ("patient", "guardian", "legal_representative")
_SIDE = re.compile(r"\b(right|left)\b", re.IGNORECASE)
ROUTE_WORDS = {Route.LOCAL_INJECTION: "local injection of cells", Route.INTRAVENOUS: "intravenous cells"}


class InvalidIntake(ValueError):
    """Step (a): field errors, by JSON pointer, in words a person can act on."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors


def validate(intake: Intake) -> dict[str, str]:
    errors: dict[str, str] = {}
    if icd10cm.get(intake.condition_code) is None:
        errors["#/condition/icd10"] = (
            f"“{intake.condition_code}” is not a code in {icd10cm.RELEASE}: give the condition's real code."
        )
    if len(intake.additional_conditions) > MAX_ADDITIONAL:
        errors["#/additional_conditions"] = f"At most {MAX_ADDITIONAL} additional conditions."
    seen = {intake.condition_code}
    for index, code in enumerate(intake.additional_conditions):
        where = f"#/additional_conditions/{index}/icd10"
        if icd10cm.get(code) is None:
            errors[where] = f"“{code}” is not a code in {icd10cm.RELEASE}: give the condition's real code."
        elif code in seen:
            errors[where] = f"{code} is already given (as the main condition or above): give each code once."
        seen.add(code)
    for index, site in enumerate(intake.affected_sites):
        if site not in SITES:
            errors[f"#/affected_sites/{index}"] = f"“{site}” is not a body site; see GET /api/v1/body-sites/."
    _, finding_errors = validate_findings(
        intake.findings, today=intake.intake_date, anticoagulant_therapy=intake.anticoagulant_therapy
    )
    errors |= finding_errors
    if intake.consent_by is not None and intake.consent_by not in CONSENT_BY:
        errors["#/consent/by"] = f"Who gave consent: one of {', '.join(CONSENT_BY)}."
    elif intake.consent_by is not None and not intake.consent_obtained:
        errors["#/consent/by"] = "Consent is not obtained, so nobody gave it: leave `by` null."
    return errors


def descriptor(code: str) -> str:
    found = icd10cm.get(code)
    return found.descriptor if found else ""


def code_side(text: str) -> str | None:
    """The one side a descriptor names ("right" or "left"); None for none, both, or bilateral."""
    if "bilateral" in text.lower():
        return None
    sides = {side.lower() for side in _SIDE.findall(text)}
    return sides.pop() if len(sides) == 1 else None


# --- (b) hard stops ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StopHit:
    kind: str
    fired: FiredRule
    by_main_only: bool  # fired by the main code alone (an answer on its own class aside)
    answered: bool  # the class's answer was yes


def _code_hit(code: str, stop: StopClass, lists: StopLists, intake: Intake, sites: tuple[str, ...]):
    """(rule id, what the code is in the class's own words) when `code` fires `stop`, else None."""
    if stop.kind == "malignancy":
        if lists.is_active_skin_cancer(code):
            at = set(lists.skin_stop_sites) | sites_of(descriptor(code))
            hit = sorted(set(sites) & at)
            return ("HS-MALIGNANCY", f"a skin cancer at a listed site ({', '.join(hit)})") if hit else None
        ended = intake.findings.get("cancer_treatment_ended")
        if lists.asks_treatment_end(code) and ended:
            recent = treatment_ended_recently(
                date.fromisoformat(ended), intake.intake_date, lists.cancer_history_years
            )
            return ("HS-CANCER-HISTORY", f"a cancer whose treatment ended {ended}") if recent else None
    entry = stop.entry_for(code)
    return (entry.rule or stop.rule, entry.label) if entry else None


def first_stop(intake: Intake, codes: tuple[str, ...], sites: tuple[str, ...], lists: StopLists):
    """The first class that fires, in rule 5's order, and whether a later class fires too."""
    found: list[StopHit] = []
    for stop in lists.classes:
        answered = bool(stop.answer and getattr(intake, stop.answer))
        lactating = stop.kind == "pregnancy" and bool(intake.breastfeeding)
        hits = [(code, _code_hit(code, stop, lists, intake, sites)) for code in codes]
        hits = [(code, hit) for code, hit in hits if hit]
        if not (answered or lactating or hits):
            continue
        rules = [rule for _, (rule, _) in hits]
        if answered or stop.rule in rules:
            # the class's own words whenever they are true (a malignant code beside an uncertain one)
            rule_id = stop.rule
        elif rules:
            rule_id = rules[0]
        else:
            rule_id = "HS-LACTATION"
        detail = _stop_detail(stop, hits, intake, lactating)
        found.append(
            StopHit(
                kind=stop.kind,
                fired=fire(rule_id, detail),
                by_main_only=[code for code, _ in hits] == [codes[0]] and not lactating,
                answered=answered,
            )
        )
    return (found[0], len(found) > 1) if found else (None, False)


def _contradicted(stop: StopClass, rule_id: str, intake: Intake) -> str | None:
    """The answer of "no" a code on the list contradicts, if any. A cancer history is not an active
    malignancy; lactation contradicts only `breastfeeding` (None is "not asked", not no)."""
    if rule_id == "HS-CANCER-HISTORY":
        return None
    if rule_id == "HS-LACTATION":
        return "breastfeeding" if intake.breastfeeding is False else None
    return stop.answer if stop.answer and not getattr(intake, stop.answer) else None


def _stop_detail(stop: StopClass, hits: list, intake: Intake, lactating: bool) -> str:
    parts = []
    answered = bool(stop.answer and getattr(intake, stop.answer))
    for code, (rule_id, label) in hits:
        text = f"the code {code} ({descriptor(code)}) is {label}"
        contradicted = _contradicted(stop, rule_id, intake)
        if contradicted:
            to = f" to {contradicted}" if contradicted != stop.answer else ""
            text += f" although the answer was no{to}"
        parts.append(text)
    if answered:
        parts.append(f"the answer {stop.answer} was yes")
    if lactating:
        parts.append("the answer breastfeeding was yes")
    if stop.kind == "acute" and not stop.confirmed:
        parts.append("unconfirmed list: the medical director's confirmation is not yet recorded")
    return "; ".join(parts)


# --- (d) sites belong to the coded condition ----------------------------------------------------


def sites_outside(codes: tuple[str, ...], sites: tuple[str, ...]) -> list[str]:
    """Listed sites outside every region a given code names (none when no code names a region)."""
    regions = [sites_of(descriptor(code)) for code in codes]
    if not any(regions):
        return []
    return [site for site in sites if not any(site in region for region in regions)]


def sites_on_wrong_side(codes: tuple[str, ...], sites: tuple[str, ...]) -> list[tuple[str, str]]:
    """(site, the side the codes name) for each sided site every code whose region holds it puts on
    the other side. With no region named anywhere, every code holds every site (v2 rule 4)."""
    named = {code: sites_of(descriptor(code)) for code in codes}
    any_region = any(named.values())
    wrong = []
    for site in sites:
        side = SITES[site].side
        holders = [code for code in codes if not any_region or site in named[code]]
        if side is None or not holders:
            continue
        sides = [code_side(descriptor(code)) for code in holders]
        if all(named_side is not None and named_side != side for named_side in sides):
            wrong.append((site, sides[0]))
    return wrong


def region_text(code: str) -> str:
    regions = regions_named(descriptor(code))
    return ", ".join(regions) if regions else "no region"


# --- (e) no covering protocol: what is missing ----------------------------------------------------


def no_protocol(code: str, route: str | None, why: str) -> FiredRule:
    text = descriptor(code)
    what = ROUTE_WORDS.get(route, "cells")
    detail = (
        f"This clinic has no protocol for {what} in {code} {text} ({why}); outside a protocol this use is "
        f"investigational. Studies: {TRIALS_SEARCH}{quote_plus(text)} — {TRIALS_CAVEAT}"
    )
    return fire("NO-PROTOCOL", detail)


def why_uncovered(
    intake: Intake, route: str, sites: tuple[str, ...], protocols: list[Protocol], majority: int
):
    """Why no protocol covers: the sites it would need, the age, or that none lists the code for the route."""
    why, outside, _ = uncovered(intake, route, sites, protocols, majority)
    return why, outside


def uncovered(intake: Intake, route: str, sites: tuple[str, ...], protocols: list[Protocol], majority: int):
    """(why, the sites outside the nearest protocol, that protocol) when no protocol covers."""
    listed = [p for p in by_specificity(live(protocols), intake.condition_code) if p.route == route]
    if not listed:
        return f"no active protocol lists it for {route}", [], None
    aged = [p for p in listed if p.admits_age(intake.birth_date, intake.intake_date, majority)]
    if not aged:
        ages = "; ".join(f"{p.id}: {p.age_text(majority)}" for p in listed)
        age = age_on(intake.birth_date, intake.intake_date)
        return f"none admits a patient aged {age} at intake ({ages})", [], None
    nearest = min(aged, key=lambda p: len(set(sites) - set(p.sites)))
    outside = sorted(set(sites) - set(nearest.sites))
    return f"{nearest.id} does not allow the site(s) {', '.join(outside)}", outside, nearest


def site_not_covered(code: str, nearest: Protocol, outside: list[str]) -> FiredRule:
    """Rule 3: a protocol would cover the draft but for listed sites, so the sites are what is missing."""
    named = ", ".join(f"{SITES[site].label} ({site})" for site in outside)
    return fire(
        "NO-PROTOCOL",
        f"The protocol {nearest.id} for {code} does not cover the site(s) {named}: list only the sites it "
        f"covers, or the clinic needs a protocol for {named}; outside a protocol this use is "
        "investigational.",
    )
