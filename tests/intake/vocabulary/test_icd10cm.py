"""The ICD-10-CM table the service reads is the maintained library's release, code by code."""

import pytest

from intake.management.commands.build_icd10cm import rows_from_library
from intake.vocabulary import codesearch, icd10cm


def test_the_shipped_table_is_exactly_what_the_installed_library_holds():
    # Given the library's whole classification (the command that writes the table reads it the same way)
    expected = {code: (descriptor, billable) for code, descriptor, billable in rows_from_library()}

    shipped = {item.code: (item.descriptor, item.billable) for item in icd10cm._codes().values()}

    # Then not one code, descriptor or billable mark differs: rerun `manage.py build_icd10cm` if it does
    assert len(shipped) == len(expected) > 70_000
    assert shipped == expected


def test_every_category_subcategory_and_extended_subcategory_of_the_library_is_shipped():
    # Asked of the library's own predicates, not of the function that writes the table: a block of
    # one category (B20, C50, O09) shares its category's name and was once dropped with the blocks.
    import simple_icd_10_cm as cm

    codes = set(cm.get_all_codes(with_dots=True))
    wanted = {c for c in codes if cm.is_category(c) or cm.is_subcategory(c) or cm.is_extended_subcategory(c)}

    missing = sorted(code for code in wanted if icd10cm.get(code) is None)

    assert missing == []
    assert {"B20", "F99", "P84", "R99", "Z66", "C50", "C7A", "C7B", "O09", "M04"} <= wanted


@pytest.mark.parametrize(
    "code", ["M17.11", "C50.911", "S72.001K", "O9A.111", "G35", "B20", "F99", "P84", "R99", "Z66"]
)
def test_real_codes_are_found_with_their_descriptor(code):
    assert icd10cm.get(code).descriptor


@pytest.mark.parametrize("code", ["M17.19", "Z99.99", "M84.1", "M00-M99", "13"])
def test_made_up_codes_chapters_and_blocks_are_not_codes(code):
    assert icd10cm.get(code) is None


def test_search_finds_specific_billable_codes_by_words_or_prefix():
    assert "M17.11" in {c.code for c in codesearch.search("osteoarthritis right knee", limit=None)}
    assert all(c.billable and c.code.startswith("M17.1") for c in codesearch.search("M17.1"))
