"""Rule set v3 (DESIGN.md, "Rule set v3" and "Order and edges (v3)"): the clinic's protocols gate
every route, localized disease never becomes intravenous, sites belong to the coded condition,
findings a protocol needs, corrected stop lists, and consent that says who gave it.

Pure: the code set, vocabulary, stop lists and regions are shipped data, the protocols come in
with the config; no ORM, no Celery, no clock. Invalid input raises `InvalidIntake` (step a).
"""

import math
from dataclasses import dataclass, field

from intake.vocabulary.body_sites import BODY_SITES
from intake.vocabulary.conditions import VocabularyEntry, vocabulary
from intake.vocabulary.contraindications import CONTRAINDICATION_LABELS
from intake.vocabulary.findings import labels
from intake.vocabulary.needs import empty_needs
from intake.vocabulary.stops import stop_lists
from recommendations.engine.common import Draft, EngineConfig, FiredRule, Flag, Intake, Route, age_on
from recommendations.engine.protocols import (
    ASSENT_BASES,
    LIFTING_BASES,
    Protocol,
    covering,
    live,
    routes_listing,
)
from recommendations.engine.v3_checks import (
    ROUTE_WORDS,
    InvalidIntake,
    descriptor,
    first_stop,
    no_protocol,
    region_text,
    site_not_covered,
    sites_on_wrong_side,
    sites_outside,
    uncovered,
    validate,
    why_uncovered,
)
from recommendations.engine.v3_rules import (
    CODE_SET,
    FISCHER,
    RULES_BY_ID,
    RULESET_VERSION,
    fire,
)

__all__ = [
    "ROUTE_WORDS",
    "RULES_BY_ID",
    "RULESET_VERSION",
    "InvalidIntake",
    "draft",
    "empty_needs",
    "why_uncovered",
]
GUARDIANS = ("guardian", "legal_representative")


@dataclass
class _Work:
    """What the steps build up: the rules in order, what to ask, and the protocol used."""

    rules: list[FiredRule] = field(default_factory=list)
    needs: dict = field(default_factory=empty_needs)
    asks: list[str] = field(default_factory=list)
    protocol: Protocol | None = None
    candidate: str | None = None


def _candidate(code: str, entry: VocabularyEntry | None, protocols: list[Protocol], work: _Work):
    """Step (c): the candidate route, or the route that ends the draft here."""
    if entry is not None:
        matched = f"{code} ({descriptor(code)}) matched {entry.prefix} {entry.label} ({entry.category})"
        if entry.category == "systemic":
            return Route.INTRAVENOUS, fire("COND-SYSTEMIC", matched), None
        return Route.LOCAL_INJECTION, fire("COND-LOCALIZED", matched), None
    listing = routes_listing(protocols, code)
    if len(listing) > 1:
        ids = [pid for route in sorted(listing) for pid in listing[route]]
        named = "; ".join(f"{route}: {', '.join(listing[route])}" for route in sorted(listing))
        work.needs["protocols"] = ids
        work.asks.append(
            f"Which protocol applies to {code} ({descriptor(code)})? Both routes are listed: {named}."
        )
        return None, fire("PROTOCOL-AMBIGUOUS", named), Route.NEEDS_INFORMATION
    if listing:
        route, ids = next(iter(listing.items()))
        return route, fire("COND-PROTOCOL-ROUTE", f"{code}: listed by {', '.join(ids)} ({route})"), None
    return None, no_protocol(code, None, "no active protocol lists this condition"), Route.NOT_RECOMMENDED


def _site_words(codes: list[str]) -> str:
    """Sites as a sentence names them: "right knee, left hip"."""
    return ", ".join(BODY_SITES.get(code, code).lower() for code in codes)


def _local_sites(intake: Intake, codes: tuple[str, ...], sites: tuple[str, ...], work: _Work) -> str | None:
    """Step (d): no site, then sites outside the code's region, then sites on the wrong side."""
    if not sites:
        work.needs["sites"] = True
        work.asks.append("Which body sites are affected? The condition is localized and no site was named.")
        work.rules.append(fire("LOC-NO-SITE", intake.condition_code))
        return Route.NEEDS_INFORMATION
    outside = sites_outside(codes, sites)
    if outside:
        named = "; ".join(f"{code}: {region_text(code)}" for code in codes)
        work.needs["sites_without_condition"] = outside
        # The question is read by people (the desk, the partner): sites by their labels.
        said = _site_words(outside)
        work.asks.append(
            f"{said[0].upper()}{said[1:]} {'lies' if len(outside) == 1 else 'lie'} outside the body region "
            f"of the given codes ({named}): give a code for that site, or correct the sites."
        )
        work.rules.append(fire("LOC-SITE-MISMATCH", f"sites outside the coded regions: {', '.join(outside)}"))
    wrong = sites_on_wrong_side(codes, sites)
    if wrong:
        names = [site for site, _ in wrong]
        work.needs["sites_on_wrong_side"] = names
        work.asks.append(
            f"The codes name the {wrong[0][1]} side but {_site_words(names)} "
            f"{'is' if len(names) == 1 else 'are'} on the other: which side is affected?"
        )
        work.rules.append(
            fire("LOC-SIDE-MISMATCH", "; ".join(f"{s}: the code names {side}" for s, side in wrong))
        )
    return Route.NEEDS_INFORMATION if outside or wrong else None


def _protocol_checks(intake: Intake, protocol: Protocol, work: _Work) -> str | None:
    """Step (f): limits first (a limit that excludes ends the draft), then required findings."""
    excluded = [
        f"{key} {intake.findings[key]:g} (the protocol allows {limit.text()})"
        for key, limit in protocol.limits
        if isinstance(intake.findings.get(key), int | float) and limit.excludes(intake.findings[key])
    ]
    if excluded:
        work.rules.append(
            fire("PROTOCOL-EXCLUDES", f"{protocol.id} v{protocol.version}: {'; '.join(excluded)}")
        )
        return Route.NOT_RECOMMENDED
    missing = [key for key in protocol.requires if key not in intake.findings]
    if missing:
        work.needs["findings"] = missing
        work.asks.append(f"The protocol {protocol.title} needs: {labels(missing)}.")
        work.rules.append(
            fire("PROTOCOL-DATA", f"{protocol.id} v{protocol.version} requires {labels(missing)}")
        )
        return Route.NEEDS_INFORMATION
    return None


def _route(intake: Intake, config: EngineConfig, work: _Work) -> str:
    """Steps (b) to (f): the route, with the fired rules and what to ask in `work`."""
    lists = stop_lists()
    protocols = live(config.protocols)
    codes = (intake.condition_code, *intake.additional_conditions)
    sites = tuple(sorted(set(intake.affected_sites)))
    entry = vocabulary(RULESET_VERSION).lookup(intake.condition_code)
    majority = config.age_of_majority

    def cover(route: str | None) -> Protocol | None:
        if route is None:
            return None
        return covering(
            protocols,
            code=intake.condition_code,
            route=route,
            birth_date=intake.birth_date,
            intake_date=intake.intake_date,
            sites=sites,
            age_of_majority=majority,
        )

    stop, more = first_stop(intake, codes, sites, lists)
    if stop is not None:
        lifter = None
        if stop.kind in ("malignancy", "acute") and stop.by_main_only and not more:
            candidate, _, _ = _candidate(intake.condition_code, entry, protocols, _Work())
            lifter = cover(candidate)
        work.rules.append(stop.fired)
        if lifter is None or lifter.basis not in LIFTING_BASES:
            return Route.NOT_RECOMMENDED
        work.rules.append(
            fire("PROTOCOL-LIFTS-STOP", f"{lifter.id} v{lifter.version}, {lifter.basis}: {lifter.reference}")
        )
    else:
        histology = [code for code in codes if lists.asks_histology(code)]
        history = [code for code in codes if lists.asks_treatment_end(code)]
        if histology:
            work.needs["histology"] = True
            work.asks.append(
                f"What is the histology of {', '.join(histology)} (a neoplasm of unspecified behaviour)?"
            )
            work.rules.append(fire("COND-HISTOLOGY", ", ".join(histology)))
        if history and "cancer_treatment_ended" not in intake.findings:
            work.needs["cancer_treatment_ended"] = True
            work.asks.append(
                f"When did the cancer treatment end ({', '.join(history)})? Give the finding date."
            )
            work.rules.append(fire("COND-TREATMENT-END", ", ".join(history)))
        if work.rules:
            return Route.NEEDS_INFORMATION

    candidate, rule, ends = _candidate(intake.condition_code, entry, protocols, work)
    work.rules.append(rule)
    work.candidate = candidate
    if ends:
        return ends
    if candidate == Route.LOCAL_INJECTION:
        ends = _local_sites(intake, codes, sites, work)
        if ends:
            return ends
    protocol = cover(candidate)
    if protocol is None:
        why, outside, nearest = uncovered(intake, candidate, sites, protocols, majority)
        work.rules.append(
            site_not_covered(intake.condition_code, nearest, outside)
            if nearest and outside
            else no_protocol(intake.condition_code, candidate, why)
        )
        return Route.NOT_RECOMMENDED
    work.protocol = protocol
    ends = _protocol_checks(intake, protocol, work)
    if ends:
        return ends
    staged = _sessions(protocol, sites)
    work.rules.append(
        fire(
            "PROTOCOL-COVERS",
            f"{protocol.id} v{protocol.version} ({protocol.title}; {protocol.basis}"
            + (f": {protocol.reference}" if protocol.reference else "")
            + ")"
            + (f"; {staged}" if staged else ""),
        )
    )
    return candidate


def _sessions(protocol: Protocol, sites: tuple[str, ...] | list[str]) -> str:
    """Rule 2: more sites than the protocol allows per session means several sessions, said as a number."""
    per = protocol.max_sites_per_session
    if not per or len(sites) <= per:
        return ""
    return f"{math.ceil(len(sites) / per)} sessions, at most {per} site(s) per session"


def _flags(intake: Intake, config: EngineConfig, route: str, work: _Work) -> list[str]:
    """Step (g)."""
    lists = stop_lists()
    codes = (intake.condition_code, *intake.additional_conditions)
    sites = sorted(set(intake.affected_sites))
    flags: list[str] = []
    if route != Route.NOT_RECOMMENDED and (intake.anticoagulant_therapy or intake.bleeding_disorder):
        flags.append(Flag.BLEEDING_RISK)
        work.rules.append(fire("FLAG-BLEEDING-RISK"))
    if intake.immunosuppressed:
        flags.append(Flag.IMMUNOSUPPRESSED)
        work.rules.append(fire("FLAG-IMMUNOSUPPRESSED"))
    age = age_on(intake.birth_date, intake.intake_date)
    minor = age < config.age_of_majority
    if minor:
        flags.append(Flag.MINOR)
        work.rules.append(
            fire("FLAG-MINOR", f"age {age} at intake; age of majority {config.age_of_majority}")
        )
    consent = []
    if not intake.consent_obtained:
        consent.append("no consent is recorded")
    if minor and not (intake.consent_obtained and intake.consent_by in GUARDIANS):
        work.needs["consent_by"] = list(GUARDIANS)
        consent.append("a minor's consent must be given by a guardian or legal representative")
    protocol = work.protocol
    if (
        minor
        and protocol
        and protocol.basis in ASSENT_BASES
        and not protocol.assent_waived
        and not intake.assent
    ):
        work.needs["assent"] = True
        consent.append(f"under the {protocol.basis} protocol {protocol.id} the minor's assent is needed")
    if consent:
        flags.append(Flag.CONSENT_MISSING)
        work.rules.append(fire("FLAG-CONSENT-MISSING", "; ".join(consent)))
    skin = [code for code in codes if lists.is_skin_cancer(code)]
    if skin:
        flags.append(Flag.SKIN_CANCER)
        work.rules.append(fire("FLAG-SKIN-CANCER", ", ".join(skin)))
    if route == Route.LOCAL_INJECTION and len(sites) >= config.multiple_sites_threshold:
        per = protocol.max_sites_per_session if protocol else None
        sessions = math.ceil(len(sites) / per) if per else 1
        flags.append(Flag.MULTI_SITE)
        work.rules.append(
            fire(
                "FLAG-MULTI-SITE",
                f"{len(sites)} sites ({', '.join(sites)}); {sessions} session(s)"
                + (f", at most {per} site(s) per session" if per else ""),
            )
        )
    thrombo = [code for code in codes if lists.thromboembolic(code)]
    if thrombo and work.candidate == Route.INTRAVENOUS and route != Route.NOT_RECOMMENDED:
        flags.append(Flag.THROMBOEMBOLISM_RISK)
        work.rules.append(fire("FLAG-THROMBOEMBOLISM-RISK", ", ".join(thrombo)))
    return flags


MULTI_SITE_WHY = (
    "Intravenous infusion was not drafted: the evidence for these conditions is for local injection, and "
    f"most intravenously infused MSCs are trapped in the lungs on first pass ({FISCHER})."
)
WHY_NOT = {
    Route.LOCAL_INJECTION: "Intravenous infusion was not drafted: the condition is localized and the "
    "protocol covering this draft is for local injection.",
    Route.INTRAVENOUS: "Local injection was not drafted: the candidate route is intravenous and the "
    "protocol covering this draft is for intravenous infusion.",
}


def _other_route(route: str, flags: list[str], work: _Work) -> str:
    if route == Route.LOCAL_INJECTION and Flag.MULTI_SITE in flags:
        return MULTI_SITE_WHY
    if route in WHY_NOT:
        return WHY_NOT[route]
    if route == Route.NOT_RECOMMENDED:
        return f"Neither route was drafted: {work.rules[-1].text if work.rules else ''}"
    return "Neither route was drafted yet: " + " ".join(work.asks)


def draft(intake: Intake, config: EngineConfig = EngineConfig()) -> Draft:  # noqa: B008
    """Draft a delivery route for one intake under rule set v3."""
    errors = validate(intake)
    if errors:
        raise InvalidIntake(errors)
    work = _Work()
    route = _route(intake, config, work)
    deciding = work.rules[-1] if work.rules else None
    flags = _flags(intake, config, route, work)
    entry = vocabulary(RULESET_VERSION).lookup(intake.condition_code)
    acute = stop_lists().by_kind("acute")
    condition = {
        "code": intake.condition_code,
        "descriptor": descriptor(intake.condition_code),
        "code_set": CODE_SET,
    }
    if entry:
        condition |= {
            "prefix": entry.prefix,
            "label": entry.label,
            "category": entry.category,
            "source": entry.source,
        }
        condition |= {"note": entry.note, "evidence": entry.evidence, "trial_route": entry.trial_route}
    condition["additional"] = [
        {"code": code, "descriptor": descriptor(code)} for code in intake.additional_conditions
    ]
    condition["acute_illness_list"] = "confirmed" if acute.confirmed else "unconfirmed list"
    answers = [(name, label, bool(getattr(intake, name))) for name, label in CONTRAINDICATION_LABELS.items()]
    answers.append(("breastfeeding", "Breastfeeding", intake.breastfeeding))
    other = _other_route(route, flags, _Work(rules=[deciding] if deciding else [], asks=work.asks))
    return Draft(
        route=route,
        rules=tuple(work.rules),
        flags=tuple(flags),
        ruleset_version=RULESET_VERSION,
        notice="",  # rule 7: rendered when a draft is shown, from the draft's protocol; not rule-set output
        missing=" ".join(work.asks),
        condition=condition,
        answers=tuple(answers),
        other_route=other,
        protocol=work.protocol.ref if work.protocol else None,
        needs=work.needs,
    )
