"""The regulatory notice a draft shows, per its protocol's basis (rule set v3, rule 7).

Pure: pages, letters and `recommend` render `notice_for(draft's protocol)`; a decision stores the
text the specialist saw. Every sentence is built beside the source it rests on, and the sources
travel with the text (`Notice.sources`). No sentence says "only" unless it is generated from the
licensed products data, and none says that anything "is exempt from FDA regulation".
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from intake.vocabulary.licensed_products import LicensedProduct, LicensedProducts, licensed_products
from recommendations.protocol_rules import (
    APPROVED_PRODUCT,
    FDA_AUTHORISED_BASES,
    IND,
    IND_NUMBER,
    IRB_TRIAL,
    MINIMAL_MANIPULATION_HOMOLOGOUS,
    NCT_ID,
    NON_US_AUTHORISATION,
    SAME_SURGICAL_PROCEDURE,
    state_notice_law,
)

READ = "read 2026-12-06"
CFR_1271_15 = (
    "21 CFR 1271.15(b), text read in a copy of the eCFR at "
    f"https://old.govregs.com/regulations/title21_chapterI-i7_part1271_subpartA_section1271.15 ({READ})"
)
CFR_1271_10 = (
    "21 CFR 1271.10(a) (66 FR 5466, as amended 69 FR 68681), text read at "
    f"http://cfr.laws-info.com/text/21/1271/10 and "
    f"https://legalfix.com/CFR/2019/title-21/chapter-i/part-1271/section-1271%2E10 ({READ})"
)
CFR_1271_20 = (
    "21 CFR 1271.20, text read at https://d1tvxue8o4w0fl.cloudfront.net/regulation/code-of-federal-"
    "regulations/title-21-food-and-drugs/chapter-i-food-and-drug-administration-department-of-health-and-"
    "human-services/subchapter-l-regulations-under-certain-other-acts-administered-by-the-food-and-drug-"
    "administration/part-1271-human-cells-tissues-and-cellular-and-tissue-based-products/subpart-a-general-"
    "provisions/section-127120-if-my-hctps-do-not-meet-the-criteria-in-section-127110-and-i-do-not-qualify-"
    f"for-any-of-the-exceptions-in-section-127115-what-regulations-apply ({READ})"
)
SSP_GUIDANCE = (
    "FDA, Same Surgical Procedure Exception under 21 CFR 1271.15(b): Questions and Answers Regarding "
    "the Scope of the Exception, Guidance for Industry (November 2017), question 3 read in the National "
    "Library of Medicine's copy https://digirepo.nlm.nih.gov/dr-webapp/ajaxp?theurl=http://localhost:8080/"
    f"fedora/get/nlm:nlmuid-101719973-pdf/TXT ({READ})"
)
NINTH_CIRCUIT = (
    "United States v. California Stem Cell Treatment Center, No. 22-56014 (9th Cir. Sept. 27, 2024), "
    "read at https://print.casetext.com/case/united-states-v-cal-stem-cell-treatment-ctr-1 and summarised at "
    "https://www.studicata.com/summaries/united-states-court-of-appeals-ninth-circuit/"
    f"united-states-v-california-stem-cell-treatment-ctr-2024-4i5ndn ({READ})"
)
CERTIORARI = (
    "California Stem Cell Treatment Center, Inc. v. United States, No. 24-1189, petition denied "
    "October 14, 2025: https://www.scotusblog.com/cases/case-files/california-stem-cell-treatment-center-inc-"
    f"v-united-states ({READ})"
)
FDA_2021 = (
    "FDA, Important Patient and Consumer Information About Regenerative Medicine Therapies (June 3, 2021): "
    "https://www.fda.gov/vaccines-blood-biologics/consumers-biologics/important-patient-and-consumer-"
    f"information-about-regenerative-medicine-therapies ({READ})"
)
FDA_2020 = (
    "FDA, Consumer Alert on Regenerative Medicine Products Including Stem Cells and Exosomes (July 22, "
    "2020), "
    "for the approved use of cord blood HPC products: https://www.fda.gov/vaccines-blood-biologics/consumers-"
    f"biologics/consumer-alert-regenerative-medicine-products-including-stem-cells-and-exosomes ({READ})"
)
POLICY = "Policy of this product (rule set v3, rule 7), stated as such: not a statement of law"
DATA = "The licensed products data, intake/vocabulary/data/licensed_products.json"

# FDA's answer to question 3 of the 2017 guidance, verbatim. No stored copy of the answer's text
# could be read (only the question), so it stays None and the notice says so rather than
# paraphrasing; fill it in, word for word, from the guidance.
SUCH_HCTP_ANSWER: str | None = None
SUCH_HCTP_QUESTION = "Section 1271.15(b) refers to implanting “such HCT/P.” What is meant by “such HCT/P”?"
RULE_1271_15_B = (
    "You are not required to comply with the requirements of this part if you are an establishment that "
    "removes HCT/P's from an individual and implants such HCT/P's into the same individual during the same "
    "surgical procedure."
)
CRITERIA_1271_10_A = (
    "(1) The HCT/P is minimally manipulated; "
    "(2) The HCT/P is intended for homologous use only, as reflected by the labeling, advertising, or other "
    "indications of the manufacturer's objective intent; "
    "(3) The manufacture of the HCT/P does not involve the combination of the cells or tissues with another "
    "article, except for water, crystalloids, or a sterilizing, preserving, or storage agent, provided that "
    "the "
    "addition of water, crystalloids, or the sterilizing, preserving, or storage agent does not raise new "
    "clinical safety concerns with respect to the HCT/P; and "
    "(4) Either: (i) The HCT/P does not have a systemic effect and is not dependent upon the metabolic "
    "activity "
    "of living cells for its primary function; or (ii) The HCT/P has a systemic effect or is dependent upon "
    "the "
    "metabolic activity of living cells for its primary function, and: (a) Is for autologous use; (b) Is for "
    "allogeneic use in a first-degree or second-degree blood relative; or (c) Is for reproductive use."
)


@dataclass(frozen=True)
class Notice:
    text: str
    sources: tuple[str, ...]

    def render(self) -> str:
        """The stored form: the text, then "Sources:" and the sources joined by "; " (as v2 stores it,
        so Recommendation.notice_text / notice_sources split it back)."""
        return f"{self.text}\n\nSources: " + "; ".join(self.sources)


class _Builder:
    def __init__(self) -> None:
        self.sentences: list[str] = []
        self.sources: list[str] = []

    def add(self, sentence: str, *sources: str) -> None:
        self.sentences.append(sentence)
        for source in sources:
            if source not in self.sources:
                self.sources.append(source)

    def notice(self) -> Notice:
        return Notice(text=" ".join(self.sentences), sources=tuple(self.sources))


def _product_sources(product: LicensedProduct) -> tuple[str, ...]:
    return tuple(f"{product.product}, {s.what}: {s.url} (read {s.read})" for s in product.sources)


def _describe(product: LicensedProduct) -> str:
    indications = " and ".join(product.labelled_indications)
    return (
        f"{product.product}, licensed to {product.licence_holder}, approved {product.approval_date}, "
        f"for {indications}"
    )


def _not_approved(b: _Builder, products: LicensedProducts) -> None:
    """The two sentences every notice on a use the FDA has not approved carries."""
    b.add("Patient consent does not make a use the FDA has not approved lawful.", FDA_2021, CFR_1271_20)
    b.add(
        "FDA's consumer warning names stromal vascular fraction (fat-derived cells), umbilical cord blood "
        "and "
        "cord blood stem cells, Wharton's jelly, amniotic fluid and exosomes among the unapproved products "
        "that "
        "require FDA approval before they are marketed to patients, other than licensed HPC, Cord Blood "
        "products, which are approved for disorders that affect the blood-forming (hematopoietic) system and "
        "not for other uses.",
        FDA_2021,
        FDA_2020,
        DATA,
    )


def _state_law(
    b: _Builder, basis: str | None, country: str | None, jurisdiction: str | None, on: date | None
):
    law = state_notice_law(country=country, jurisdiction=jurisdiction, on=on)
    if law is not None and basis not in FDA_AUTHORISED_BASES:
        b.add(
            f"{law.name} law ({law.citation}, from {law.in_force}) {law.requirement}; state law "
            "adds to federal law and does not replace it.",
            law.source,
        )


def _recorded(protocol: Mapping) -> str:
    """Facts the clinic recorded on its protocol are cited to that protocol, not to any law."""
    return (
        f"The clinic's protocol {protocol.get('id', '?')} version {protocol.get('version', '?')}, as recorded"
    )


def _ctgov(b: _Builder) -> None:
    b.add(
        "A listing on ClinicalTrials.gov is not FDA review or approval: ask whether the study runs under an "
        "FDA IND and whether you will be charged.",
        FDA_2021,
    )


def general_notice(
    *,
    products: LicensedProducts,
    country: str | None = "US",
    jurisdiction: str | None = None,
    on: date | None = None,
) -> Notice:
    """The notice of a draft that no protocol covers."""
    b = _Builder()
    listed = "; ".join(_describe(p) for p in products.products)
    b.add(
        f"This product's list of FDA-licensed stem-cell-based products (read {products.read}) holds only "
        f"these {len(products.products)}: {listed}.",
        DATA,
        *(source for p in products.products for source in _product_sources(p)),
    )
    b.add(
        "Any other use is investigational and needs an FDA IND, unless the HCT/P meets every criterion of "
        "21 CFR 1271.10(a) or the establishment qualifies for the exception of 21 CFR 1271.15(b); an HCT/P "
        "that "
        "does neither is regulated as a drug, device or biological product (21 CFR 1271.20).",
        CFR_1271_10,
        CFR_1271_15,
        CFR_1271_20,
    )
    _state_law(b, None, country, jurisdiction, on)
    _not_approved(b, products)
    return b.notice()


def _approved_product(b: _Builder, protocol: Mapping, products: LicensedProducts) -> bool:
    product = products.find_in(protocol.get("reference") or "")
    if product is None:
        b.add(
            f"The protocol's reference (“{protocol.get('reference') or ''}”) names no product on this "
            "product's "
            "list of FDA-licensed stem-cell-based products, so this use is not shown as FDA-approved.",
            DATA,
        )
        return False
    b.add(f"FDA-licensed product: {_describe(product)}.", *_product_sources(product))
    if product.unverified:
        b.add(f"Not confirmed from FDA's own pages: {', '.join(product.unverified)}.", DATA)
    return True


def _same_surgical_procedure(b: _Builder, protocol: Mapping) -> None:
    b.add(f"21 CFR 1271.15(b): “{RULE_1271_15_B}”", CFR_1271_15)
    if SUCH_HCTP_ANSWER:
        b.add(
            f"FDA's guidance (November 2017), question 3, “{SUCH_HCTP_QUESTION}”: “{SUCH_HCTP_ANSWER}”",
            SSP_GUIDANCE,
        )
    else:
        b.add(
            f"FDA's guidance (November 2017) asks in question 3: “{SUCH_HCTP_QUESTION}”; its answer is not "
            "quoted here because its text could not be verified, so read it in the guidance before relying "
            "on "
            "this basis.",
            SSP_GUIDANCE,
        )
    b.add(
        "In United States v. California Stem Cell Treatment Center (9th Cir., 27 September 2024, No. "
        "22-56014) "
        "the court held stromal vascular fraction (SVF) made from a patient's fat a drug outside this "
        "exception, "
        "because the tissue removed (fat) is not the HCT/P implanted (SVF); the Supreme Court denied "
        "certiorari "
        "on 14 October 2025 (No. 24-1189).",
        NINTH_CIRCUIT,
        CERTIORARI,
    )
    b.add(
        "Whether the cells implanted are “such HCT/P” as were removed is a legal determination the clinic "
        "must "
        f"document; the clinic records: “{(protocol.get('basis_rationale') or '').strip()}”.",
        POLICY,
        _recorded(protocol),
    )


def notice_for(
    protocol: Mapping | None,
    *,
    products: LicensedProducts | None = None,
    country: str | None = "US",
    jurisdiction: str | None = None,
    on: date | None = None,
) -> Notice:
    """The notice for a draft drafted under `protocol` (its JSON shape), or the general notice."""
    products = products or licensed_products()
    if protocol is None:
        return general_notice(products=products, country=country, jurisdiction=jurisdiction, on=on)
    basis = protocol.get("basis")
    reference = (protocol.get("reference") or "").strip()
    b = _Builder()
    approved = False
    if basis == APPROVED_PRODUCT:
        approved = _approved_product(b, protocol, products)
    elif basis == IND:
        ind = IND_NUMBER.search(reference)
        nct = NCT_ID.search(reference)
        registered = f", registered as {nct.group(0)}" if nct else ""
        number = ind.group(1) if ind else "(IND number not recorded)"
        b.add(
            "This use is investigational and not FDA-approved: it is studied under FDA IND "
            f"{number}{registered}.",
            _recorded(protocol),
            FDA_2021,
        )
        _ctgov(b)
    elif basis == IRB_TRIAL:
        b.add(
            "This use is investigational and not FDA-approved: it is studied in an IRB-approved study "
            f"({reference}) "
            "that runs without an FDA IND.",
            _recorded(protocol),
            FDA_2021,
        )
        b.add(
            f"The clinic records why no IND is needed: “{(protocol.get('basis_rationale') or '').strip()}”; "
            "that is the clinic's determination, not FDA's.",
            _recorded(protocol),
        )
        _ctgov(b)
    elif basis == SAME_SURGICAL_PROCEDURE:
        _same_surgical_procedure(b, protocol)
    elif basis == MINIMAL_MANIPULATION_HOMOLOGOUS:
        b.add(
            "Under 21 CFR 1271.10(a) an HCT/P is regulated solely under section 361 of the PHS Act and Part "
            "1271 "
            f"if it meets all of these criteria: {CRITERIA_1271_10_A}",
            CFR_1271_10,
        )
        b.add(f"The establishment's FDA registration and HCT/P listing: {reference}.", _recorded(protocol))
        b.add(
            "This product drafts this basis for local injection, never for intravenous use: that is this "
            "product's policy, not a statement of law.",
            POLICY,
        )
    elif basis == NON_US_AUTHORISATION:
        b.add(f"Authorisation outside the US: {reference}.", _recorded(protocol))
        b.add("Not FDA-approved; not lawful to administer in the US on this basis.", FDA_2021, CFR_1271_20)
    else:
        return general_notice(products=products, country=country, jurisdiction=jurisdiction, on=on)
    if not approved:
        _state_law(b, basis, country, jurisdiction, on)
        _not_approved(b, products)
    return b.notice()
