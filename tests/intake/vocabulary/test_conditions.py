"""The condition vocabularies: v1 as it drafted, v2 with real codes, stop ranges and sources."""

import re
from collections import Counter

import pytest

from intake.vocabulary import icd10cm
from intake.vocabulary.codes import normalize_icd10
from intake.vocabulary.conditions import CATEGORIES, ENTRIES, lookup, matches, search, vocabulary


def test_the_vocabulary_is_large_enough_and_every_entry_is_complete():
    assert len(ENTRIES) >= 60
    for entry in ENTRIES:
        assert normalize_icd10(entry.prefix) == entry.prefix, entry.prefix
        assert entry.category in CATEGORIES, entry.prefix
        assert entry.label.strip() and entry.source.strip() and entry.regulatory.strip(), entry.prefix


def test_no_prefix_is_listed_twice():
    counts = Counter(entry.key for entry in ENTRIES)
    assert [key for key, n in counts.items() if n > 1] == []


REQUIRED = {
    # condition the issue names: (a code a clinic would send, expected category)
    "knee osteoarthritis": ("M17.11", "localized"),
    "hip osteoarthritis": ("M16.0", "localized"),
    "shoulder osteoarthritis": ("M19.011", "localized"),
    "hand osteoarthritis": ("M19.041", "localized"),
    "rotator cuff disorder": ("M75.101", "localized"),
    "lateral epicondylitis": ("M77.11", "localized"),
    "Achilles tendinopathy": ("M76.61", "localized"),
    "patellar tendinopathy": ("M76.51", "localized"),
    "plantar fasciitis": ("M72.2", "localized"),
    "meniscus tear": ("S83.241A", "localized"),
    "cruciate ligament injury": ("S83.511A", "localized"),
    "cartilage injury": ("M94.261", "localized"),
    "osteonecrosis": ("M87.051", "localized"),
    "pressure ulcer": ("L89.154", "localized"),
    "chronic leg ulcer": ("L97.219", "localized"),
    "diabetic foot ulcer": ("E11.621", "localized"),
    "burn": ("T24.211A", "localized"),
    "scar": ("L90.5", "localized"),
    "multiple sclerosis": ("G35", "systemic"),
    "ALS": ("G12.21", "systemic"),
    "Parkinson's": ("G20.A1", "systemic"),
    "Alzheimer's": ("G30.9", "systemic"),
    "rheumatoid arthritis": ("M05.79", "systemic"),
    "lupus": ("M32.14", "systemic"),
    "systemic sclerosis": ("M34.0", "systemic"),
    "Sjogren's": ("M35.00", "systemic"),
    "Crohn's disease": ("K50.90", "systemic"),
    "ulcerative colitis": ("K51.90", "systemic"),
    "type 1 diabetes": ("E10.9", "systemic"),
    "heart failure": ("I50.22", "systemic"),
    "ischemic heart disease": ("I25.10", "systemic"),
    "cardiomyopathy": ("I42.0", "systemic"),
    "graft-versus-host disease": ("D89.811", "systemic"),
}


@pytest.mark.parametrize("condition", sorted(REQUIRED))
def test_the_conditions_the_clinic_treats_are_covered(condition):
    code, category = REQUIRED[condition]
    entry = lookup(code)
    assert entry is not None, f"{condition} ({code}) is not in the vocabulary"
    assert entry.category == category


def test_the_longest_prefix_wins():
    assert lookup("E10.9").category == "systemic"  # type 1 diabetes
    assert lookup("E10.621").category == "localized"  # its foot ulcer is a wound
    assert "remestemcel-L" in lookup("D89.810").regulatory
    assert lookup("K50.913").category == "localized"  # Crohn's perianal fistula
    assert lookup("K50.90").category == "systemic"


def test_entries_against_the_simple_rule_say_why_and_cite_the_literature():
    for code in ("K50.913", "I70.22", "I73.1", "Q81.2"):
        entry = lookup(code)
        assert entry.note, code
        assert "route:" in entry.source, code


def test_search_by_code_prefix_or_words():
    assert {entry.prefix for entry in search("m17", "v1")} == {"M17"}
    assert "M17" in {entry.prefix for entry in search("M17.11", "v1")}
    # "osteo" is half typed: osteoarthritis first, then osteochondritis dissecans (M93.2, its knee codes).
    assert [entry.prefix for entry in search("knee osteo", "v1")][0] == "M17"
    assert {entry.prefix for entry in search("knee osteoarthritis", "v1")} == {"M17"}
    assert len(search("", "v1")) == len(ENTRIES)
    assert search("no such words", "v1") == []


# --- rule set v2's vocabulary ------------------------------------------------------------

V2 = vocabulary("v2")


def test_every_v2_entry_is_a_real_code_with_a_citable_source():
    for entry in V2.entries:
        if not entry.seventh:
            assert icd10cm.get(entry.prefix) is not None, entry.prefix
            assert entry.label == icd10cm.get(entry.prefix).descriptor, entry.prefix
        assert entry.category in CATEGORIES, entry.prefix
        # A study, a review or an FDA action, not the clinic's reference text alone.
        assert "clinic reference text" not in entry.source.lower(), entry.prefix
        # ... that a reader can find: a DOI, a trial registration, a web address or a journal citation.
        assert re.search(r"doi[:.]|NCT\d|https?://|\d{4};\d", entry.source), entry.prefix
        assert entry.regulatory.strip(), entry.prefix


@pytest.mark.parametrize(
    ("code", "prefix", "category"),
    [
        ("E11.9", "E11", "systemic"),  # type 2 diabetes
        ("E11.621", "E11.621", "localized"),  # its foot ulcer
        ("E11.622", "E11.622", "localized"),  # its other skin ulcer
        ("E10.621", "E10.621", "localized"),
        ("E10.622", "E10.622", "localized"),  # like E10.621
        ("I69.351", "I69.3", "systemic"),  # sequelae of stroke
        ("S72.001K", "S42-S92", "localized"),  # nonunion: 7th character K on a fracture code
        ("S92.001K", "S42-S92", "localized"),
        ("S42.001K", "S42-S92", "localized"),
    ],
)
def test_the_v2_gaps_are_closed(code, prefix, category):
    entry = V2.lookup(code)
    assert (entry.prefix, entry.category) == (prefix, category)


def test_v2_drops_m84_1_and_matches_7th_character_k_only_on_fractures_s42_to_s92():
    assert "M84.1" not in {entry.prefix for entry in V2.entries}
    assert V2.lookup("S72.001A") is None  # the initial encounter is no nonunion
    assert V2.lookup("S32.001K") is None  # a fracture below S42
    assert V2.lookup("S93.401A").prefix == "S93.4"  # an ankle sprain is no fracture


@pytest.mark.parametrize(
    ("code", "spec", "expected"),
    [
        ("C00.0", "C00-C96", True),
        ("C96.Z", "C00-C96", True),
        ("C7A.00", "C00-C96", True),
        ("C97", "C00-C96", False),
        ("D00.00", "C00-C96", False),
        ("T84.50XA", "T84.5-T84.7", True),
        ("T84.7XXA", "T84.5-T84.7", True),
        ("T84.4", "T84.5-T84.7", False),
        ("T84.81XA", "T84.5-T84.7", False),
        ("O9A.111", "O00-O9A", True),
        ("O99.89", "O00-O9A", True),
        ("Z33.1", "Z33.1", True),
        ("Z33.2", "Z33.1", False),
        ("K50.014", "K50.x14", True),
        ("K50.914", "K50.x14", True),
        ("K50.013", "K50.x14", False),
        ("J44.0", "J44.0", True),
        ("J44.1", "J44.0", False),
    ],
)
def test_stop_ranges_match_at_their_edges(code, spec, expected):
    assert matches(code, spec) is expected


def test_the_stop_lists_carry_their_sources():
    assert {stop.kind for stop in V2.stops} == {"malignancy", "infection", "pregnancy"}
    for stop in V2.stops:
        assert "ICD-10-CM" in stop.source and stop.ranges


def test_the_notice_names_the_approved_products_and_the_law():
    for needed in ("cord blood", "Omisirge", "Ryoncil", "IND", "1271.10(a)", "1271.15(b)", "consent"):
        assert needed in V2.notice
    assert any("fda.gov" in source for source in V2.notice_sources)
