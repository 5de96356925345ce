"""Rule set v3's rules: each with an id, a sentence a specialist can read, and a source."""

from intake.vocabulary import icd10cm
from recommendations.engine.common import FiredRule, Rule

RULESET_VERSION = "v3"
DESIGN = "Clinic design, rule set v3 (DESIGN.md)"
CODE_SET = icd10cm.SOURCE
FISCHER = (
    "Fischer UM et al., Pulmonary passage is a major obstacle for intravenous stem cell delivery: the "
    "pulmonary first-pass effect. Stem Cells Dev 2009. doi:10.1089/scd.2008.0253"
)
JUNG = (
    "Jung JW et al., Familial occurrence of pulmonary embolism after intravenous, adipose tissue-derived "
    "stem cell therapy. Yonsei Med J 2013;54(5):1293-1296. doi:10.3349/ymj.2013.54.5.1293"
)
CFR_50_55 = "21 CFR 50.55, Requirements for permission by parents or guardians and for assent by children"
FDA_CONSUMER = (
    "FDA, Important Patient and Consumer Information About Regenerative Medicine Therapies: "
    "https://www.fda.gov/vaccines-blood-biologics/consumers-biologics/"
    "important-patient-and-consumer-information-about-regenerative-medicine-therapies"
)
TRIALS_SEARCH = "https://clinicaltrials.gov/search?cond="
TRIALS_CAVEAT = (
    "A listing on ClinicalTrials.gov is not FDA review or approval: ask whether the study runs under an "
    "FDA IND and whether you will be charged."
)
STOPS = f"{DESIGN}, rule 5; stop lists with their sources in intake/vocabulary/data/stops_v3.json"

RULES: tuple[Rule, ...] = (
    Rule(
        "HS-MALIGNANCY",
        "Malignancy, by the answer or by a given code (malignant neoplasm, carcinoma or melanoma in situ, or "
        "a skin cancer at a listed site), is a hard stop: no cells into or through a cancer.",
        STOPS,
    ),
    Rule(
        "HS-NEOPLASM-UNCERTAIN",
        "A neoplasm of uncertain behaviour or a myelodysplastic syndrome, by a given code, is a hard stop: "
        "no cells while a neoplasm may progress and its behaviour is not yet known.",
        STOPS,
    ),
    Rule(
        "HS-CANCER-HISTORY",
        "Cancer treatment ended less than five years before intake: stem cell therapy is not recommended.",
        STOPS,
    ),
    Rule(
        "HS-INFECTION",
        "Active infection, by the answer or by a given code, is a hard stop: defer until resolved.",
        STOPS,
    ),
    Rule(
        "HS-CHRONIC-VIRAL",
        "Chronic viral infection, by a given code, is a hard stop: the specialist decides.",
        STOPS,
    ),
    Rule("HS-ACUTE", "Acute illness, by a given code, is a hard stop: defer until stable.", STOPS),
    Rule(
        "HS-PREGNANCY",
        "Pregnancy, by the answer or by a given code, is a hard stop: defer until the pregnancy has ended.",
        STOPS,
    ),
    Rule(
        "HS-LACTATION",
        "Lactation, by the breastfeeding answer or by a given code, is a hard stop: defer until "
        "breastfeeding has ended.",
        STOPS,
    ),
    Rule(
        "PROTOCOL-LIFTS-STOP",
        "The stop above is lifted: the protocol covering this draft lists the main code under an FDA "
        "licence (labelled indication) or an FDA IND.",
        f"{DESIGN}, Order and edges (lifting a stop)",
    ),
    Rule(
        "COND-HISTOLOGY",
        "A neoplasm of unspecified behaviour: the histology decides whether it is a stop.",
        STOPS,
    ),
    Rule(
        "COND-TREATMENT-END",
        "A personal history of malignancy: when did the cancer treatment end? An end less than five years "
        "before intake is a stop.",
        STOPS,
    ),
    Rule(
        "COND-LOCALIZED",
        "Localized condition: the candidate route is local injection.",
        f"{DESIGN}, rule 1 (v2's categories give the candidate)",
    ),
    Rule(
        "COND-SYSTEMIC",
        "Systemic condition: the candidate route is intravenous infusion.",
        f"{DESIGN}, rule 1 (v2's categories give the candidate)",
    ),
    Rule(
        "COND-PROTOCOL-ROUTE",
        "The condition has no category in the clinic's vocabulary: the protocols listing it give the route.",
        f"{DESIGN}, rule 1",
    ),
    Rule(
        "PROTOCOL-AMBIGUOUS",
        "The clinic's protocols list this condition for both routes: which one applies?",
        f"{DESIGN}, rule 1",
    ),
    Rule(
        "LOC-NO-SITE",
        "Localized condition with no affected site named: an injection cannot be planned without the site.",
        f"{DESIGN}, Order and edges (d)",
    ),
    Rule(
        "LOC-SITE-MISMATCH",
        "A listed site lies outside the body region the condition code names: give a code for that site.",
        f"{DESIGN}, rule 3; regions with their sources in intake/vocabulary/data/regions_v3.json",
    ),
    Rule(
        "LOC-SIDE-MISMATCH",
        "The condition code names one side of the body and a listed site is on the other: which is right?",
        f"{DESIGN}, rule 3 (v2 rule 4)",
    ),
    Rule(
        "NO-PROTOCOL",
        "No active protocol of the clinic covers this draft; outside a protocol this use is investigational.",
        f"{DESIGN}, rule 1; {FDA_CONSUMER}",
    ),
    Rule(
        "PROTOCOL-EXCLUDES",
        "A finding lies outside the limits of the protocol that covers this draft.",
        f"{DESIGN}, rule 4",
    ),
    Rule(
        "PROTOCOL-DATA",
        "The protocol that covers this draft requires findings the referral does not give.",
        f"{DESIGN}, rule 4",
    ),
    Rule(
        "PROTOCOL-COVERS",
        "An active protocol of the clinic covers the condition, the route, the patient's age and every site.",
        f"{DESIGN}, rule 1",
    ),
    Rule(
        "FLAG-BLEEDING-RISK",
        "Caution: anticoagulant therapy or a bleeding disorder raises the bleeding risk of harvesting the "
        "cells and of giving them, whatever the route.",
        DESIGN,
    ),
    Rule("FLAG-IMMUNOSUPPRESSED", "Caution: the patient is immunosuppressed.", DESIGN),
    Rule("FLAG-MINOR", "Caution: the patient was under the age of majority at intake.", f"{DESIGN}, rule 6"),
    Rule(
        "FLAG-CONSENT-MISSING",
        "Caution: the consent this case needs is not recorded; it cannot be approved or amended until it is.",
        f"{DESIGN}, rule 6; {CFR_50_55}",
    ),
    Rule(
        "FLAG-SKIN-CANCER",
        "Caution: a non-melanoma skin cancer, or its history, is coded; no cells into or through it.",
        STOPS,
    ),
    Rule(
        "FLAG-MULTI-SITE",
        "Localized condition at several sites: local injection, staged by site; intravenous was not drafted "
        "because the evidence for these conditions is for local injection, and most intravenously infused "
        "MSCs are trapped in the lungs on first pass.",
        f"{DESIGN}, rule 2; {FISCHER}",
    ),
    Rule(
        "FLAG-THROMBOEMBOLISM-RISK",
        "Caution: a history of venous thrombo-embolism or a thrombophilia; pulmonary embolism has followed "
        "intravenous adipose-derived cells.",
        f"{STOPS}; {JUNG}",
    ),
)
RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}


def fire(rule_id: str, detail: str = "") -> FiredRule:
    rule = RULES_BY_ID[rule_id]
    return FiredRule(id=rule.id, text=rule.text, source=rule.source, detail=detail)
