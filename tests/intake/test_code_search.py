"""Finding the right code (issue #24, part 2): words a desk types, abbreviations and synonyms, the
clinic's conditions first among equally good matches. The real code set; no database."""

import re

import pytest
import simple_icd_10_cm as cm

from intake.vocabulary import codesearch, tabular
from intake.vocabulary.conditions import find_codes, search
from intake.vocabulary.synonyms import SYNONYMS
from intake.vocabulary.wordsearch import used_synonyms


def codes(query: str, limit: int = 20) -> list[str]:
    return [code.code for code, _ in find_codes(query, limit=limit)]


def test_a_whole_description_lists_its_code_first():
    assert codes("osteoarthritis of right knee")[0] == "M17.11"
    assert codes("Osteoarthritis of the right knee")[0] == "M17.11"  # small words and case aside


def test_a_long_query_is_read_whole():
    long = ("osteoarthritis of right knee " * 8)[:200]
    assert len(long) == 200
    assert codes(long)[0] == "M17.11"
    assert codes("x" * 5000) == []


def test_an_empty_query_finds_nothing():
    assert find_codes("") == [] and find_codes("   ") == [] and find_codes("of the") == []
    assert codesearch.search("") == []


def test_stroke_finds_cerebral_infarction_and_never_heatstroke():
    found = codes("stroke", limit=500)
    assert found[0].startswith("I63")
    assert "I63.9" in found[:5]  # "Stroke NOS" in the Tabular List
    assert any(code.startswith("I69.3") for code in found)  # sequelae of stroke
    assert not any(code.startswith("T67.0") for code in found)  # heatstroke, sunstroke
    # A word matches at a word start, so the whole word still finds heatstroke.
    assert codes("heatstroke")[0].startswith("T67.0")


@pytest.mark.parametrize(
    ("query", "first", "every"),
    [
        ("ALS", "G12.21", r"G12\.21"),
        ("als", "G12.21", r"G12\.21"),
        ("Lou Gehrig's disease", "G12.21", r"G12\.21"),
        ("MS", "G35", r"G35"),
        ("OA knee", "M17", r"M17"),
        ("RA", "M0", r"M0[56]"),
        ("TIA", "G45.9", r"G45|Z86\.73"),
        ("COPD", "J44", r"J44"),
        ("tennis elbow", "M77.1", r"M77\.1"),
    ],
)
def test_abbreviations_and_synonyms_find_what_they_mean(query, first, every):
    found = codes(query, limit=50)
    assert found and found[0].startswith(first), found[:5]
    assert all(re.match(every, code) for code in found[:10]), found[:10]


def test_an_abbreviation_is_no_word_start():
    assert "G80.9" not in codes("ALS", limit=500)  # cerebral palsy holds "als" inside a word
    assert not any(code.startswith("A49.01") for code in codes("MS", limit=500))  # MSSA


def test_every_word_must_match_and_a_half_typed_last_word_still_counts():
    assert codes("osteoarthritis right kn")[0] == "M17.11"
    assert codes("osteoarthritis o")[0] in {"M16.9", "M17.9", "M18.9"}  # "of" half typed
    assert codes("osteoarthritis of right elbow knee") == []


def test_codes_typed_still_find_their_codes():
    assert codes("M17.11") == ["M17.11"]
    assert set(codes("m171")) == {"M17.10", "M17.11", "M17.12"}


def test_among_equally_good_matches_the_clinics_conditions_come_first():
    ranks = {code.code: rank for rank, code in codesearch.ranked("osteoarthritis")}
    found = find_codes("osteoarthritis", limit=10**6)
    for (a, a_entry), (b, b_entry) in zip(found, found[1:], strict=False):
        assert ranks[a.code] <= ranks[b.code]
        if ranks[a.code] == ranks[b.code]:
            assert not (a_entry is None and b_entry is not None), (a.code, b.code)
    assert any(entry is None for _, entry in found)  # M15 polyosteoarthritis is not the clinic's


def test_the_vocabulary_search_reads_the_same_words():
    assert [entry.prefix for entry in search("ALS")] == ["G12.21"]
    assert [entry.prefix for entry in search("stroke")] == ["I63", "I69.3"]
    assert [entry.prefix for entry in search("osteoarthritis of right knee")] == ["M17"]
    assert [entry.prefix for entry in search("MS")] == ["G35"]


def test_the_synonyms_a_query_uses_are_told():
    assert [synonym.meaning for synonym in used_synonyms("OA knee")] == ["osteoarthritis"]
    assert used_synonyms("knee") == []


@pytest.mark.parametrize("synonym", SYNONYMS, ids=lambda synonym: synonym.terms[0])
def test_every_synonym_cites_where_it_is_written_and_names_real_codes(synonym):
    assert re.search(r"https?://|Tabular List", synonym.source), synonym.source
    for spec in synonym.codes:
        assert tabular.known(spec), spec
    for code, term in synonym.tabular:
        # Read back from the installed code set (CDC/NCHS Tabular List), not taken on trust.
        written = [cm.get_description(code), *cm.get_inclusion_term(code), *cm.get_includes(code)]
        assert term in written, (code, term, written)
    assert find_codes(synonym.terms[0], limit=5), synonym.terms[0]
