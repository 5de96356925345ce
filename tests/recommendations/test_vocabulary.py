from collections import Counter

import pytest

from intake.vocabulary.codes import normalize_icd10
from intake.vocabulary.conditions import CATEGORIES, ENTRIES, lookup, search


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
    assert {entry.prefix for entry in search("m17")} == {"M17"}
    assert "M17" in {entry.prefix for entry in search("M17.11")}
    assert {entry.prefix for entry in search("knee osteo")} == {"M17"}
    assert len(search("")) == len(ENTRIES)
    assert search("no such words") == []
