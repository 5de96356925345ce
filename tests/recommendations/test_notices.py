"""The regulatory notice per protocol basis: every required fact, no forbidden phrase (v3 rule 7)."""

import json
import re
from datetime import date
from pathlib import Path

import pytest

from intake.vocabulary.licensed_products import DATA_FILE, licensed_products
from recommendations import notices
from recommendations.notices import CRITERIA_1271_10_A, notice_for

DEMO = Path(notices.__file__).parent / "data" / "demo_protocols.json"
WARNED = (
    "stromal vascular fraction",
    "umbilical cord blood",
    "Wharton's jelly",
    "amniotic fluid",
    "exosomes",
)

IND_P = {"id": "i", "version": 2, "basis": "ind", "reference": "IND 123456, NCT01234567"}
IRB_P = {
    "id": "t",
    "version": 1,
    "basis": "irb_trial",
    "reference": "NCT07654321, IRB approval 2025-118",
    "basis_rationale": "the HCT/P meets every criterion of 21 CFR 1271.10(a)",
}
SSP_P = {
    "id": "s",
    "version": 1,
    "basis": "same_surgical_procedure",
    "reference": "",
    "basis_rationale": "ROUTINE",
}
MMH_P = {"id": "m", "version": 1, "basis": "minimal_manipulation_homologous", "reference": "FEI 3001234567"}
NONUS_P = {"id": "n", "version": 1, "basis": "non_us_authorisation", "reference": "PMDA approval 2024-17"}
RYONCIL_P = {"id": "g", "version": 1, "basis": "approved_product", "reference": "Ryoncil for SR-aGVHD"}
UNAPPROVED = [IND_P, IRB_P, SSP_P, MMH_P, NONUS_P, None]


def ungenerated_text(text: str) -> str:
    """The notice without the sentence generated from the products data and the verbatim regulation."""
    text = text.replace(CRITERIA_1271_10_A, "")
    return re.sub(
        r"This product's list of FDA-licensed stem-cell-based products[^.]*?holds only these \d+:", "", text
    )


@pytest.mark.parametrize("protocol", [IND_P, IRB_P, SSP_P, MMH_P, NONUS_P, RYONCIL_P, None])
def test_no_notice_says_exempt_or_an_ungenerated_only_and_every_one_is_cited(protocol):
    notice = notice_for(protocol, jurisdiction="FL")
    assert "exempt from fda regulation" not in notice.text.lower()
    assert not re.search(r"\bonly\b", ungenerated_text(notice.text), re.IGNORECASE), notice.text
    assert notice.sources and all("; " not in source for source in notice.sources)
    assert notice.render().split("\n\nSources: ", 1)[1].split("; ") == list(notice.sources)


@pytest.mark.parametrize("protocol", UNAPPROVED)
def test_every_notice_on_an_unapproved_use_says_consent_does_not_make_it_lawful_and_names_fdas_warning(
    protocol,
):
    text = notice_for(protocol).text
    assert "consent does not make a use the FDA has not approved lawful" in text
    for product in WARNED:
        assert product in text, product
    assert "FDA-approved for use in the United States consist of" not in text  # the outdated 2020 sentence


def test_the_approved_product_notice_gives_product_holder_date_and_labelled_indication_without_the_warning():
    text = notice_for(RYONCIL_P).text
    for fact in (
        "RYONCIL",
        "Mesoblast, Inc.",
        "2024-12-18",
        "steroid-refractory acute graft-versus-host disease",
    ):
        assert fact in text
    assert "consent does not make" not in text


def test_an_approved_product_reference_naming_no_licensed_product_is_not_shown_as_approved():
    text = notice_for({"basis": "approved_product", "reference": "Prochymal"}).text
    assert "names no product" in text and "consent does not make" in text


def test_the_ind_and_irb_notices_are_investigational_with_their_numbers_and_rationale():
    ind = notice_for(IND_P).text
    assert "investigational" in ind and "IND 123456" in ind and "NCT01234567" in ind
    assert "ClinicalTrials.gov is not FDA review or approval" in ind
    irb = notice_for(IRB_P).text
    assert "investigational" in irb and "NCT07654321, IRB approval 2025-118" in irb
    assert IRB_P["basis_rationale"] in irb


def test_the_same_surgical_procedure_notice_quotes_the_rule_the_ruling_and_the_clinics_rationale():
    notice = notice_for(SSP_P)
    assert (
        "removes HCT/P's from an individual and implants such HCT/P's into the same individual" in notice.text
    )
    assert "What is meant by “such HCT/P”?" in notice.text
    assert "22-56014" in notice.text and "27 September 2024" in notice.text and "24-1189" in notice.text
    assert "fat" in notice.text and "(SVF)" in notice.text
    assert "“ROUTINE”" in notice.text
    assert any("casetext" in s for s in notice.sources) and any("scotusblog" in s for s in notice.sources)


def test_the_minimal_manipulation_notice_gives_all_four_criteria_the_registration_and_the_local_policy():
    text = notice_for(MMH_P).text
    for criterion in (
        "(1) The HCT/P is minimally manipulated",
        "(2) The HCT/P is intended for homologous use",
        "(3)",
        "(4) Either",
    ):
        assert criterion in text
    assert "FEI 3001234567" in text
    assert "product's policy, not a statement of law" in text


def test_the_non_us_notice_says_it_is_not_lawful_in_the_us_on_that_basis():
    text = notice_for(NONUS_P).text
    assert "Not FDA-approved; not lawful to administer in the US on this basis." in text
    assert "PMDA approval 2024-17" in text


def test_the_general_notice_lists_every_licensed_product_from_the_data():
    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    text = notice_for(None).text
    assert len(data["products"]) == len(licensed_products().products) >= 16
    for entry in data["products"]:
        assert entry["product"] in text and entry["licence_holder"] in text and entry["approval_date"] in text
    for name in (
        "REGENECYTE",
        "OMISIRGE",
        "RYONCIL",
        "ZYNTEGLO",
        "SKYSONA",
        "CASGEVY",
        "LYFGENIA",
        "LENMELDY",
    ):
        assert name in text
    assert "needs an FDA IND" in text and "1271.10(a)" in text and "1271.15(b)" in text


def test_the_licensed_products_data_cites_what_was_read_and_when():
    for product in licensed_products().products:
        assert product.sources, product.id
        for source in product.sources:
            assert source.url.startswith("http") and source.read == "2026-12-06"
    dates = {p.id: p.approval_date for p in licensed_products().products}
    assert dates["casgevy"] == dates["lyfgenia"] == "2023-12-08"
    assert dates["zynteglo"] == "2022-08-17" and dates["skysona"] == "2022-09-16"
    assert (
        dates["lenmeldy"] == "2024-03-18"
        and dates["ryoncil"] == "2024-12-18"
        and dates["omisirge"] == "2023-04-17"
    )


def test_florida_adds_its_notice_law_to_unapproved_bases_only_and_only_from_1_july_2025():
    assert "458.3245" in notice_for(SSP_P, jurisdiction="FL").text
    assert "458.3245" not in notice_for(IND_P, jurisdiction="FL").text
    assert "458.3245" not in notice_for(SSP_P, jurisdiction="FL", on=date(2025, 6, 30)).text
    assert "458.3245" not in notice_for(SSP_P, jurisdiction="TX").text


def test_every_demo_protocol_gets_a_notice_naming_what_it_rests_on():
    for protocol in json.loads(DEMO.read_text(encoding="utf-8"))["protocols"]:
        notice = notice_for(protocol)
        assert notice.text and notice.sources, protocol["id"]
