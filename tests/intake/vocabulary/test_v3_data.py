"""Rule set v3's vocabulary data: stop lists, regions and findings, each fact checked against the
shipped code set (itself checked against simple-icd-10-cm) and DESIGN.md's tables."""

import json
import re
from datetime import date

import pytest

from intake.vocabulary import icd10cm
from intake.vocabulary.body_sites import SITES
from intake.vocabulary.conditions import vocabulary
from intake.vocabulary.findings import BY_KEY, FINDINGS, validate_findings
from intake.vocabulary.regions import REGIONS_FILE, regions_by_site, regions_named, sites_of
from intake.vocabulary.stops import STOPS_FILE, stop_lists, years_before
from intake.vocabulary.tabular import endpoints, in_spec, known

STOPS = json.loads(STOPS_FILE.read_text(encoding="utf-8"))
ENTRIES = [
    entry
    for item in STOPS["classes"]
    for entry in (*item["entries"], *item.get("not_stops", ()))
]  # fmt: skip


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry["codes"])
def test_every_stop_entry_is_in_the_code_set_with_its_descriptor_and_source(entry):
    assert known(entry["codes"]), entry["codes"]
    low, high = endpoints(entry["codes"])
    assert icd10cm.get(low).descriptor in entry["descriptor"]
    assert icd10cm.get(high).descriptor in entry["descriptor"]
    assert icd10cm.RELEASE.split(" (")[0] in entry["source"] and "DESIGN.md" in entry["source"]
    for code in entry.get("except", ()):
        assert icd10cm.get(code) is not None and in_spec(code, entry["codes"])


def test_ranges_go_by_tabular_order_not_by_text():
    assert in_spec("M1A.0611", "M05-M14") and "M1A" > "M14"  # text would say no
    for code in ("C4A.9", "C7A.00", "C7B.00", "C96.Z"):
        assert in_spec(code, "C00-C96"), code
    assert not in_spec("D00.00", "C00-C96")
    assert in_spec("O9A.111", "O00-O9A") and in_spec("K51.914", "K51.914")
    assert not in_spec("M46.60", "M46.2-M46.5")


def test_the_acute_list_waits_for_the_medical_directors_confirmation():
    acute = stop_lists().by_kind("acute")

    assert not acute.confirmed
    assert [item["kind"] for item in STOPS["classes"]] == ["malignancy", "infection", "acute", "pregnancy"]


def test_years_before_falls_back_from_29_february():
    assert years_before(date(2028, 2, 29), 5) == date(2023, 2, 28)
    assert years_before(date(2026, 11, 25), 5) == date(2021, 11, 25)


def test_the_v3_vocabulary_adds_nonunion_by_7th_character_and_keeps_v2_categories():
    v3, v2 = vocabulary("v3"), vocabulary("v2")

    for code in ("S32.401K", "S12.000K", "M80.011K", "M84.311K", "S52.501M", "S72.001N", "S82.001N"):
        assert v3.lookup(code).category == "localized", code
        assert "nonunion" in icd10cm.get(code).descriptor
    assert v3.lookup("S32.401K") and not v2.lookup("S32.401K")
    for entry in v2.entries:
        if not entry.seventh:
            assert v3.lookup(entry.prefix).category == entry.category


# --- regions -------------------------------------------------------------------------------------


def test_every_region_word_is_used_by_a_real_descriptor_and_holds_real_sites():
    regions = json.loads(REGIONS_FILE.read_text(encoding="utf-8"))["regions"]

    assert {item["region"] for item in regions} >= {"knee", "hip", "shoulder", "elbow", "wrist", "hand"}
    for item in regions:
        assert set(item["sites"]) <= set(SITES), item["word"]
        example = re.search(r"e\.g\. (\S+) ", item["source"]).group(1)
        assert re.search(rf"\b{item['word']}\b", icd10cm.get(example).descriptor, re.IGNORECASE)


def test_regions_are_side_free_and_longer_words_win():
    assert sites_of("Unilateral primary osteoarthritis, right knee") == {"left_knee", "right_knee"}
    assert regions_named("Non-pressure chronic ulcer of right lower leg") == ("lower leg",)
    assert regions_named("Plantar fascial fibromatosis") == ()
    assert "knee" in regions_by_site()["right_knee"]


@pytest.mark.parametrize(
    ("descriptor", "regions"),
    [
        ("Squamous cell carcinoma of anal skin", ("perianal",)),
        ("Anal fistula, simple, initial", ("perianal",)),
        ("Carcinoma in situ of skin of trunk", ("trunk",)),
        ("Basal cell carcinoma of skin of scalp and neck", ("neck",)),
        ("Strain of muscle, fascia and tendon at neck level, initial encounter", ("neck",)),
        # the neck of a bone, and a "-neck" compound, are not the neck
        ("Displaced fracture of base of neck of right femur, initial encounter", ("femur",)),
        ("2-part displaced fracture of surgical neck of left humerus", ("humerus",)),
        ("Swan-neck deformity of right finger(s)", ("hand",)),
        ("Bladder-neck obstruction", ()),
    ],
)
def test_the_trunk_anal_skin_and_the_neck_are_regions(descriptor, regions):
    assert regions_named(descriptor) == regions


def test_the_skin_cancer_regions_hold_the_sites_an_injection_goes_through():
    assert sites_of("Squamous cell carcinoma of anal skin") == {"perianal"}
    assert sites_of("Carcinoma in situ of skin of trunk") == {"trunk"}
    assert sites_of("Carcinoma in situ of skin of scalp and neck") == {"cervical_spine"}
    assert "neck" in regions_by_site()["cervical_spine"] and "trunk" in regions_by_site()["trunk"]


# --- findings ------------------------------------------------------------------------------------

TODAY = date(2026, 11, 25)


def test_the_published_list_is_design_s_table_with_only_checked_loinc_codes():
    assert [finding.key for finding in FINDINGS][:3] == [
        "kl_grade",
        "imaging_date",
        "conservative_care_months",
    ]
    assert {f.key: f.loinc for f in FINDINGS if f.loinc} == {
        "pain_nrs": "72514-3",
        "nyha_class": "88020-3",
        "egfr_ckd_epi_2021": "98979-8",
    }
    edss = BY_KEY["edss"].as_dict()
    assert edss["values"][:3] == [0, 1.0, 1.5] and edss["values"][-1] == 10 and edss["step"] is None
    assert BY_KEY["kl_grade"].as_dict()["max"] == 4


@pytest.mark.parametrize(
    ("findings", "pointer"),
    [
        ({"kl_grade": "3"}, "#/findings/kl_grade"),
        ({"kl_grade": 5}, "#/findings/kl_grade"),
        ({"kl_grade": 2.5}, "#/findings/kl_grade"),
        ({"kl_grade": True}, "#/findings/kl_grade"),
        ({"inr": None}, "#/findings/inr"),
        ({"edss": 0.5}, "#/findings/edss"),
        ({"lvef_percent": 95}, "#/findings/lvef_percent"),
        ({"imaging_date": "2027-01-01"}, "#/findings/imaging_date"),
        ({"imaging_date": "25/11/2026"}, "#/findings/imaging_date"),
        ({"anticoagulant": "x" * 201}, "#/findings/anticoagulant"),
        ({"cholesterol": 5}, "#/findings/cholesterol"),
        ({"kl_grade": {"value": 2}}, "#/findings/kl_grade"),
    ],
)
def test_a_bad_value_is_a_field_error_naming_the_key(findings, pointer):
    clean, errors = validate_findings(findings, today=TODAY)

    assert list(errors) == [pointer]
    assert clean == {}


def test_good_values_pass_in_their_own_unit():
    findings = {"kl_grade": 3, "edss": 6.5, "koos_jr": 54.3, "imaging_date": "2026-11-25", "inr": 0.5}

    clean, errors = validate_findings(findings, today=TODAY)

    assert errors == {} and clean == findings


def test_an_anticoagulant_named_against_a_no_is_a_contradiction():
    _, errors = validate_findings({"anticoagulant": "apixaban"}, today=TODAY, anticoagulant_therapy=False)
    _, fine = validate_findings({"anticoagulant": "apixaban"}, today=TODAY, anticoagulant_therapy=True)

    assert "#/findings/anticoagulant" in errors and fine == {}
    assert list(validate_findings([1], today=TODAY)[1]) == ["#/findings"]
