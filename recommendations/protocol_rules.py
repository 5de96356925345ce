"""What each protocol `basis` requires, and whether a protocol is effective where the clinic is.

Pure functions over the JSON shape of a protocol (DESIGN, "Rule set v3", rule 1 and "Protocol
file"): the admin and `protocols import` refuse a protocol with `basis_problems`, naming the
field a person must fill; coverage uses only protocols that are `effective`.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from intake.vocabulary.licensed_products import LicensedProducts, licensed_products

APPROVED_PRODUCT = "approved_product"
IND = "ind"
IRB_TRIAL = "irb_trial"
SAME_SURGICAL_PROCEDURE = "same_surgical_procedure"
MINIMAL_MANIPULATION_HOMOLOGOUS = "minimal_manipulation_homologous"
NON_US_AUTHORISATION = "non_us_authorisation"
BASES = (
    APPROVED_PRODUCT,
    IND,
    IRB_TRIAL,
    SAME_SURGICAL_PROCEDURE,
    MINIMAL_MANIPULATION_HOMOLOGOUS,
    NON_US_AUTHORISATION,
)
# Bases a state notice law leaves untouched: an FDA-licensed use, and an FDA-authorised investigation.
FDA_AUTHORISED_BASES = frozenset({APPROVED_PRODUCT, IND})

CLINIC_ROLES = ("investigator", "sponsor_investigator", "manufacturer_361", "user")
DEFAULT_ROLE = {
    IND: "investigator",
    IRB_TRIAL: "investigator",
    MINIMAL_MANIPULATION_HOMOLOGOUS: "manufacturer_361",
}

REFERENCE_REQUIRED = {
    APPROVED_PRODUCT: "the product, its licence holder, approval date and labelled indication",
    IND: "the FDA IND number (and the NCT id when the study is registered)",
    IRB_TRIAL: "the NCT id or the IRB approval number",
    MINIMAL_MANIPULATION_HOMOLOGOUS: (
        "the establishment's FDA registration (FEI) number and the HCT/P's listing"
    ),
    NON_US_AUTHORISATION: "the authorisation: which regulator, which number",
}
RATIONALE_REQUIRED = {
    IRB_TRIAL: "why no IND is needed (a 361 HCT/P under 21 CFR 1271.10(a), or 21 CFR 1271.15(b))",
    SAME_SURGICAL_PROCEDURE: "why the HCT/P implanted is “such HCT/P” as was removed (21 CFR 1271.15(b))",
}
IND_NUMBER = re.compile(r"\bIND\b\s*(?:No\.?|number|#)?\s*:?\s*(\d+(?:,\d{3})*)", re.IGNORECASE)
NCT_ID = re.compile(r"\bNCT\d{8}\b")


def clinic_role(protocol: Mapping) -> str:
    """The protocol's `clinic_role`, else the default for its basis (who reports what, by when)."""
    return protocol.get("clinic_role") or DEFAULT_ROLE.get(protocol.get("basis"), "user")


def needs_irb_report_days(protocol: Mapping) -> bool:
    basis = protocol.get("basis")
    return basis == IRB_TRIAL or (basis == IND and clinic_role(protocol) == "investigator")


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def basis_problems(
    protocol: Mapping, *, country: str, products: LicensedProducts | None = None
) -> dict[str, str]:
    """Field -> what a person must fill or change, for everything the protocol's basis requires.
    Empty when the basis has what it needs."""
    basis = protocol.get("basis")
    if basis not in BASES:
        return {"basis": f"Choose the protocol's basis, one of: {', '.join(BASES)}."}
    problems: dict[str, str] = {}
    reference = _text(protocol.get("reference"))
    if basis in REFERENCE_REQUIRED and not reference:
        problems["reference"] = f"Fill in the reference: {REFERENCE_REQUIRED[basis]} (basis {basis})."
    elif basis == IND and not IND_NUMBER.search(reference):
        problems["reference"] = "Write the FDA IND number in the reference, as “IND 123456” (basis ind)."
    elif basis == APPROVED_PRODUCT:
        listed = products or licensed_products()
        if listed.find_in(reference) is None:
            names = ", ".join(p.name for p in listed.products)
            problems["reference"] = (
                "Name the FDA-licensed product in the reference, as it is listed "
                f"({names}), with its licence holder, approval date and labelled indication."
            )
    if basis in RATIONALE_REQUIRED and not _text(protocol.get("basis_rationale")):
        problems["basis_rationale"] = f"Fill in basis_rationale: {RATIONALE_REQUIRED[basis]} (basis {basis})."

    role = protocol.get("clinic_role")
    if role is not None and role not in CLINIC_ROLES:
        problems["clinic_role"] = f"Choose clinic_role from {', '.join(CLINIC_ROLES)}, or leave it empty."
    elif needs_irb_report_days(protocol):
        days = protocol.get("irb_report_days")
        if isinstance(days, bool) or not isinstance(days, int) or days < 1:
            who = (
                "an irb_trial protocol"
                if basis == IRB_TRIAL
                else "an ind protocol whose clinic role is investigator"
            )
            problems["irb_report_days"] = (
                f"Fill in irb_report_days, the whole number of days within which {who} reports "
                "to the IRB (its written procedures say how many)."
            )

    if basis == MINIMAL_MANIPULATION_HOMOLOGOUS and protocol.get("route") != "local_injection":
        problems["route"] = (
            "This product drafts the minimal_manipulation_homologous basis for local injection only "
            "(its policy): set route to local_injection or choose another basis."
        )
    if basis == NON_US_AUTHORISATION and protocol.get("active") and _country(country) == "US":
        problems["active"] = (
            "A non_us_authorisation protocol can never be active while CLINIC_COUNTRY is US: "
            "untick active, or record an FDA basis."
        )
    return problems


@dataclass(frozen=True)
class StateNoticeLaw:
    """A state law requiring its own written notice for stem cell therapy the FDA has not approved."""

    code: str  # "US-FL"
    name: str
    citation: str
    in_force_from: date
    requirement: str
    source: str

    @property
    def in_force(self) -> str:
        return f"{self.in_force_from.day} {self.in_force_from:%B %Y}"


FLORIDA = StateNoticeLaw(
    code="US-FL",
    name="Florida",
    citation="§§ 458.3245 and 459.0127, Florida Statutes",
    in_force_from=date(2025, 7, 1),
    requirement=(
        "requires a physician who performs stem cell therapy not approved by the FDA to give the patient "
        "a written notice of that status and to obtain a signed informed consent form, and does not "
        "apply to a physician with FDA authorisation for an investigational new drug"
    ),
    source=(
        "Florida Chapter 2025-185 (CS/CS/SB 1768), creating §§ 458.3245 and 459.0127, Florida Statutes, "
        "effective July 1, 2025: summaries read at "
        "https://fastdemocracy.com/bill-summary/?billsummary_id=FLB00033219&billsummary_session=2025"
        "&billsummary_state=fl and https://www.notbychance.life/florida-chapter-2025-185-sb-1768-overview "
        "(read 2026-12-06, the statute's own text was not read)"
    ),
)
STATE_NOTICE_LAWS = {FLORIDA.code: FLORIDA}
_STATE_NAMES = {"FL": "US-FL", "FLORIDA": "US-FL"}


def _country(country: str | None) -> str:
    value = (country or "US").strip().upper()
    return "US" if value in ("US", "USA", "UNITED STATES") else value


def jurisdiction_code(*, country: str | None, jurisdiction: str | None) -> str | None:
    """ "US-FL" for CLINIC_COUNTRY US and CLINIC_JURISDICTION "FL", "Florida" or "US-FL"; None without one."""
    if _country(country) != "US" or not (jurisdiction or "").strip():
        return None
    value = jurisdiction.strip().upper()
    value = value.removeprefix("US-")
    return _STATE_NAMES.get(value, f"US-{value}")


def state_notice_law(
    *, country: str | None, jurisdiction: str | None, on: date | None = None
) -> StateNoticeLaw | None:
    law = STATE_NOTICE_LAWS.get(jurisdiction_code(country=country, jurisdiction=jurisdiction) or "")
    if law is None or (on or date.today()) < law.in_force_from:
        return None
    return law


def requires_unconfigured_notice(
    *,
    country: str | None,
    jurisdiction: str | None,
    configured_notices: Iterable[str],
    on: date | None = None,
) -> bool:
    """Whether the clinic's jurisdiction requires its own notice and the clinic has configured none.
    `configured_notices` holds the jurisdictions ("FL", "US-FL") whose notice template is configured."""
    law = state_notice_law(country=country, jurisdiction=jurisdiction, on=on)
    if law is None:
        return False
    configured = {jurisdiction_code(country="US", jurisdiction=code) for code in configured_notices}
    return law.code not in configured


def ineffective_bases(
    *,
    country: str | None,
    jurisdiction: str | None,
    configured_notices: Iterable[str],
    on: date | None = None,
) -> frozenset[str]:
    """The bases whose protocols are ineffective here: all but approved_product and ind where a
    required state notice is not configured, and non_us_authorisation in the US."""
    bases = {NON_US_AUTHORISATION} if _country(country) == "US" else set()
    if requires_unconfigured_notice(
        country=country, jurisdiction=jurisdiction, configured_notices=configured_notices, on=on
    ):
        bases |= set(BASES) - FDA_AUTHORISED_BASES
    return frozenset(bases)


def effective(
    protocol: Mapping,
    *,
    country: str | None,
    jurisdiction: str | None,
    configured_notices: Iterable[str] = (),
    on: date | None = None,
) -> tuple[bool, str]:
    """(True, "") when coverage may use the protocol; else (False, why), for the admin and export.
    The stored `active` flag and version are never changed by this."""
    if not protocol.get("active"):
        return False, "inactive"
    problems = basis_problems(protocol, country=_country(country))
    if problems:
        return False, "incomplete: " + " ".join(f"{field}: {text}" for field, text in problems.items())
    basis = protocol["basis"]
    configured = tuple(configured_notices)
    if (
        requires_unconfigured_notice(
            country=country, jurisdiction=jurisdiction, configured_notices=configured, on=on
        )
        and basis not in FDA_AUTHORISED_BASES
    ):
        law = state_notice_law(country=country, jurisdiction=jurisdiction, on=on)
        return False, (
            f"ineffective in {law.name}: {law.citation} (from {law.in_force}) {law.requirement}, "
            f"and the clinic has configured no {law.name} notice, so protocols on basis {basis} are not used "
            "until it does"
        )
    return True, ""
