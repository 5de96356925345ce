"""Rule set v2 (DESIGN.md, "Rule set v2"): v1's order and routes, plus real ICD-10-CM
codes, hard stops read from the code as well as the answers, a side check, bleeding
risk on every route, and a draft that carries what a specialist needs to trust it.

Pure: the code set and the vocabulary are shipped data; no ORM, no Celery, no clock.
"""

import re

from intake.vocabulary import icd10cm
from intake.vocabulary.body_sites import SITES
from intake.vocabulary.conditions import Stop, Vocabulary, VocabularyEntry, vocabulary
from intake.vocabulary.contraindications import CONTRAINDICATION_LABELS
from recommendations.engine.common import Draft, EngineConfig, FiredRule, Flag, Intake, Route, Rule, age_on

RULESET_VERSION = "v2"
DESIGN = "Clinic design, rule set v2 (DESIGN.md)"
REFERENCE = "Clinic reference text: injection vs intravenous delivery of stem cells"
CODE_SET = icd10cm.SOURCE

RULES: tuple[Rule, ...] = (
    Rule(
        "COND-NOT-A-CODE",
        "The condition code is not in the official ICD-10-CM code set, so the condition is unknown.",
        CODE_SET,
    ),
    Rule(
        "HS-MALIGNANCY",
        "Active malignancy, by the answer or by the condition code (C00-C96), is a hard stop: "
        "stem cell therapy is not recommended.",
        DESIGN,
    ),
    Rule(
        "HS-INFECTION",
        "Active infection, by the answer or by the condition code, is a hard stop: defer stem cell "
        "therapy until the infection has resolved.",
        DESIGN,
    ),
    Rule(
        "HS-PREGNANCY",
        "Pregnancy, by the answer or by the condition code, is a hard stop: defer stem cell therapy "
        "until the pregnancy has ended.",
        DESIGN,
    ),
    Rule(
        "COND-UNKNOWN",
        "The condition code is a real ICD-10-CM code but not in the clinic's vocabulary, so no route "
        "can be drafted until the condition is described.",
        DESIGN,
    ),
    Rule(
        "COND-SYSTEMIC",
        "Systemic condition: intravenous infusion reaches the whole body, whatever sites are listed.",
        REFERENCE,
    ),
    Rule(
        "LOC-NO-SITE",
        "Localized condition with no affected site named: an injection cannot be planned without the site.",
        DESIGN,
    ),
    Rule(
        "LOC-SIDE-MISMATCH",
        "The condition code names one side of the body and a listed site is on the other: which is right?",
        DESIGN,
    ),
    Rule(
        "LOC-FEW-SITES",
        "Localized condition at fewer sites than the multiple-areas threshold (one or two by "
        "default): local injection puts a concentrated dose where it is needed.",
        REFERENCE,
    ),
    Rule(
        "LOC-MULTIPLE-SITES",
        "Localized condition at the multiple-areas threshold of sites or more (three by default): "
        "injection may not suit disease in multiple areas; intravenous infusion is systemic.",
        REFERENCE,
    ),
    Rule(
        "FLAG-BLEEDING-RISK",
        "Caution: anticoagulant therapy or a bleeding disorder raises the bleeding risk of harvesting the "
        "cells and of giving them, whatever the route.",
        DESIGN,
    ),
    Rule("FLAG-IMMUNOSUPPRESSED", "Caution: the patient is immunosuppressed.", DESIGN),
    Rule("FLAG-MINOR", "Caution: the patient was under the age of majority at intake.", DESIGN),
    Rule(
        "FLAG-CONSENT-MISSING",
        "Caution: no consent is recorded for this case; it cannot be approved or amended until it is.",
        DESIGN,
    ),
)
RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}
STOP_RULES = {"malignancy": "HS-MALIGNANCY", "infection": "HS-INFECTION", "pregnancy": "HS-PREGNANCY"}
STOP_ANSWERS = {"malignancy": "active_malignancy", "infection": "active_infection", "pregnancy": "pregnant"}
_SIDE = re.compile(r"\b(right|left)\b", re.IGNORECASE)

WHY_NOT = {
    Route.LOCAL_INJECTION: "Intravenous infusion was not drafted: the condition is localized to one or two "
    "sites, where an injection puts a concentrated dose; infusion spreads the cells through the whole body.",
    Route.INTRAVENOUS: "Local injection was not drafted: {why}",
    Route.NOT_RECOMMENDED: "Neither route was drafted: a hard stop applies.",
    Route.NEEDS_INFORMATION: "Neither route was drafted yet: {why}",
}


def _fire(rule_id: str, detail: str = "") -> FiredRule:
    rule = RULES_BY_ID[rule_id]
    return FiredRule(id=rule.id, text=rule.text, source=rule.source, detail=detail)


def code_side(descriptor: str) -> str | None:
    """The one side an official descriptor names ("right" or "left"); None for none, both, or bilateral."""
    if "bilateral" in descriptor.lower():
        return None
    sides = {side.lower() for side in _SIDE.findall(descriptor)}
    return sides.pop() if len(sides) == 1 else None


def _stops(intake: Intake, vocab: Vocabulary, descriptor: str) -> list[FiredRule]:
    fired = []
    for stop in vocab.stops:
        answered = getattr(intake, STOP_ANSWERS[stop.kind])
        in_range = stop.matched(intake.condition_code) if descriptor else None
        if not (answered or in_range):
            continue
        fired.append(_fire(STOP_RULES[stop.kind], _stop_detail(intake, stop, answered, in_range, descriptor)))
    return fired


def _stop_detail(intake: Intake, stop: Stop, answered: bool, in_range: str | None, descriptor: str) -> str:
    code = intake.condition_code
    if in_range and not answered:
        return (
            f"the code {code} is {stop.label} ({descriptor}; {in_range}) although the answer was no"
            f" [source: {stop.source}]"
        )
    if in_range:
        return f"the answer was yes, and the code {code} is {stop.label} ({descriptor}; {in_range})"
    return "the answer was yes"


def _route(intake: Intake, vocab: Vocabulary, code: icd10cm.Code | None, config: EngineConfig):
    """(route, fired rules, what is missing, why the other route was not drafted)."""
    if code is None:
        missing = (
            f"The condition code {intake.condition_code} is not in ICD-10-CM ({icd10cm.RELEASE}): "
            "give the condition's real ICD-10-CM code."
        )
        fired = [_fire("COND-NOT-A-CODE", intake.condition_code), *_stops(intake, vocab, "")]
        if len(fired) > 1:
            return Route.NOT_RECOMMENDED, fired[1:], "", WHY_NOT[Route.NOT_RECOMMENDED]
        return Route.NEEDS_INFORMATION, fired, missing, WHY_NOT[Route.NEEDS_INFORMATION].format(why=missing)
    stops = _stops(intake, vocab, code.descriptor)
    if stops:
        return Route.NOT_RECOMMENDED, stops, "", WHY_NOT[Route.NOT_RECOMMENDED]
    entry = vocab.lookup(intake.condition_code)
    if entry is None:
        missing = (
            f"The condition code {intake.condition_code} ({code.descriptor}) is not in the clinic's "
            "vocabulary: describe the condition and say whether it is localized or systemic."
        )
        why = WHY_NOT[Route.NEEDS_INFORMATION].format(why="the condition is not in the clinic's vocabulary.")
        return Route.NEEDS_INFORMATION, [_fire("COND-UNKNOWN", intake.condition_code)], missing, why
    matched = (
        f"{intake.condition_code} ({code.descriptor}) matched {entry.prefix} {entry.label} ({entry.category})"
    )
    if entry.category == "systemic":
        why = WHY_NOT[Route.INTRAVENOUS].format(
            why="the condition is systemic, and an injection treats only the site it is given at."
        )
        return Route.INTRAVENOUS, [_fire("COND-SYSTEMIC", matched)], "", why
    sites = sorted(set(intake.affected_sites))
    if not sites:
        missing = "Which body sites are affected? The condition is localized and no site was named."
        why = WHY_NOT[Route.NEEDS_INFORMATION].format(why="the affected site is not named.")
        return Route.NEEDS_INFORMATION, [_fire("LOC-NO-SITE", matched)], missing, why
    side = code_side(code.descriptor)
    other = [s for s in sites if side and s in SITES and SITES[s].side not in (None, side)]
    if other:
        missing = (
            f"The code {intake.condition_code} ({code.descriptor}) names the {side} side, but "
            f"{', '.join(other)} {'is' if len(other) == 1 else 'are'} on the other: which side is affected?"
        )
        why = WHY_NOT[Route.NEEDS_INFORMATION].format(why="the side of the code and of the sites disagree.")
        detail = f"{matched}; the code names the {side} side; sites on the other side: {', '.join(other)}"
        return Route.NEEDS_INFORMATION, [_fire("LOC-SIDE-MISMATCH", detail)], missing, why
    threshold = config.multiple_sites_threshold
    detail = f"{matched}; {len(sites)} distinct site(s): {', '.join(sites)}; threshold {threshold}"
    if len(sites) >= threshold:
        why = WHY_NOT[Route.INTRAVENOUS].format(
            why=f"the condition affects {len(sites)} areas, too many to inject each one."
        )
        return Route.INTRAVENOUS, [_fire("LOC-MULTIPLE-SITES", detail)], "", why
    return Route.LOCAL_INJECTION, [_fire("LOC-FEW-SITES", detail)], "", WHY_NOT[Route.LOCAL_INJECTION]


def _condition(intake: Intake, code: icd10cm.Code | None, entry: VocabularyEntry | None) -> dict:
    descriptor = code.descriptor if code else ""
    condition = {"code": intake.condition_code, "descriptor": descriptor, "code_set": CODE_SET}
    if entry:
        condition |= {
            "prefix": entry.prefix,
            "label": entry.label,
            "category": entry.category,
            "source": entry.source,
            "note": entry.note,
            "evidence": entry.evidence,
            "trial_route": entry.trial_route,
            "regulatory": entry.regulatory,
        }
    return condition


def draft(intake: Intake, config: EngineConfig = EngineConfig()) -> Draft:  # noqa: B008
    """Draft a delivery route for one intake under rule set v2."""
    vocab = vocabulary(RULESET_VERSION)
    code = icd10cm.get(intake.condition_code)
    route, fired, missing, other_route = _route(intake, vocab, code, config)
    entry = vocab.lookup(intake.condition_code) if code else None

    flags: list[str] = []
    if route != Route.NOT_RECOMMENDED and (intake.anticoagulant_therapy or intake.bleeding_disorder):
        flags.append(Flag.BLEEDING_RISK)
        fired.append(_fire("FLAG-BLEEDING-RISK"))
    if intake.immunosuppressed:
        flags.append(Flag.IMMUNOSUPPRESSED)
        fired.append(_fire("FLAG-IMMUNOSUPPRESSED"))
    age = age_on(intake.birth_date, intake.intake_date)
    if age < config.age_of_majority:
        flags.append(Flag.MINOR)
        fired.append(_fire("FLAG-MINOR", f"age {age} at intake"))
    if not intake.consent_obtained:
        flags.append(Flag.CONSENT_MISSING)
        fired.append(_fire("FLAG-CONSENT-MISSING"))

    notice = vocab.notice
    if entry and entry.regulatory:
        notice = f"{notice}\n\nFor this condition: {entry.regulatory}"
    notice = f"{notice}\n\nSources: " + "; ".join(vocab.notice_sources)
    return Draft(
        route=route,
        rules=tuple(fired),
        flags=tuple(flags),
        ruleset_version=RULESET_VERSION,
        notice=notice,
        missing=missing,
        condition=_condition(intake, code, entry),
        answers=tuple(
            (name, label, bool(getattr(intake, name))) for name, label in CONTRAINDICATION_LABELS.items()
        ),
        other_route=other_route,
    )
