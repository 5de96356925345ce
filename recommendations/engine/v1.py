"""Rule set v1 as data plus one pure function, kept exactly as it drafted (for replay).

No ORM, no Celery, no clock: everything the rules need comes in as plain data
(the intake date included), and the same input always gives the same draft.
"""

from intake.vocabulary.conditions import VocabularyEntry, lookup
from recommendations.engine.common import Draft, EngineConfig, FiredRule, Flag, Intake, Route, Rule, age_on

RULESET_VERSION = "v1"


DESIGN = "Clinic design, rule set v1"
REFERENCE = "Clinic reference text: injection vs intravenous delivery of stem cells"


RULES: tuple[Rule, ...] = (
    Rule(
        "HS-MALIGNANCY",
        "Active malignancy is a hard stop: stem cell therapy is not recommended.",
        DESIGN,
    ),
    Rule(
        "HS-INFECTION",
        "Active infection is a hard stop: stem cell therapy is not recommended.",
        DESIGN,
    ),
    Rule(
        "HS-PREGNANCY",
        "Pregnancy is a hard stop: stem cell therapy is not recommended.",
        DESIGN,
    ),
    Rule(
        "COND-UNKNOWN",
        "The condition code is valid but not in the clinic's vocabulary, so no route can be "
        "drafted until the condition is described.",
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
        "Caution: anticoagulant therapy or a bleeding disorder raises the bleeding risk of an injection.",
        DESIGN,
    ),
    Rule(
        "FLAG-IMMUNOSUPPRESSED",
        "Caution: the patient is immunosuppressed.",
        DESIGN,
    ),
    Rule(
        "FLAG-MINOR",
        "Caution: the patient was under the age of majority at intake.",
        DESIGN,
    ),
    Rule(
        "FLAG-CONSENT-MISSING",
        "Caution: no consent is recorded for this case.",
        DESIGN,
    ),
)
RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}

GENERIC_NOTICE = (
    "Regulatory status unknown until the condition is identified: outside the clinic's vocabulary, "
    "assume investigational use with no FDA-approved stem cell product."
)


def _fire(rule_id: str, detail: str = "") -> FiredRule:
    rule = RULES_BY_ID[rule_id]
    return FiredRule(id=rule.id, text=rule.text, source=rule.source, detail=detail)


def _route(intake: Intake, entry: VocabularyEntry | None, config: EngineConfig):
    hard_stops = [
        rule_id
        for rule_id, present in (
            ("HS-MALIGNANCY", intake.active_malignancy),
            ("HS-INFECTION", intake.active_infection),
            ("HS-PREGNANCY", intake.pregnant),
        )
        if present
    ]
    if hard_stops:
        return Route.NOT_RECOMMENDED, [_fire(rule_id) for rule_id in hard_stops], ""
    if entry is None:
        missing = (
            f"The condition code {intake.condition_code} is not in the clinic's vocabulary: "
            "describe the condition and say whether it is localized or systemic."
        )
        return Route.NEEDS_INFORMATION, [_fire("COND-UNKNOWN", intake.condition_code)], missing
    matched = f"{intake.condition_code} matched {entry.prefix} {entry.label} ({entry.category})"
    if entry.category == "systemic":
        return Route.INTRAVENOUS, [_fire("COND-SYSTEMIC", matched)], ""
    sites = sorted(set(intake.affected_sites))
    if not sites:
        missing = "Which body sites are affected? The condition is localized and no site was named."
        return Route.NEEDS_INFORMATION, [_fire("LOC-NO-SITE", matched)], missing
    detail = (
        f"{matched}; {len(sites)} distinct site(s): {', '.join(sites)}; "
        f"threshold {config.multiple_sites_threshold}"
    )
    if len(sites) >= config.multiple_sites_threshold:
        return Route.INTRAVENOUS, [_fire("LOC-MULTIPLE-SITES", detail)], ""
    return Route.LOCAL_INJECTION, [_fire("LOC-FEW-SITES", detail)], ""


def draft(intake: Intake, config: EngineConfig = EngineConfig()) -> Draft:  # noqa: B008
    """Draft a delivery route for one intake under rule set v1."""
    entry = lookup(intake.condition_code)
    route, fired, missing = _route(intake, entry, config)

    flags: list[str] = []
    if route == Route.LOCAL_INJECTION and (intake.anticoagulant_therapy or intake.bleeding_disorder):
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

    condition = {"code": intake.condition_code}
    if entry:
        condition |= {
            "prefix": entry.prefix,
            "label": entry.label,
            "category": entry.category,
            "source": entry.source,
            "note": entry.note,
        }
    return Draft(
        route=route,
        rules=tuple(fired),
        flags=tuple(flags),
        ruleset_version=RULESET_VERSION,
        notice=entry.regulatory if entry else GENERIC_NOTICE,
        missing=missing,
        condition=condition,
    )
