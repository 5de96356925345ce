"""The official ICD-10-CM code set: which codes exist, and their descriptors.

Source: the ICD-10-CM Tabular List, April 1, 2026 release (FY2026 with its April
update; CDC National Center for Health Statistics), as shipped by the maintained
library simple-icd-10-cm 1.5.0 (MIT licence). The library builds a full tree of
the classification and holds about 175 MB per process, too much for every web
worker; `manage.py build_icd10cm` writes what the service reads from it (each
code, its descriptor with white space folded, and whether it is billable) to
`data/icd10cm.tsv.gz`, and tests/intake/vocabulary/test_icd10cm.py checks that
file against the installed library, code by code. Chapters and blocks (`13`,
`M00-M99`) are not codes and are not in it. Searching it: intake.vocabulary.codesearch.
"""

import gzip
from dataclasses import dataclass
from functools import cache
from pathlib import Path

RELEASE = "ICD-10-CM April 1, 2026 (FY2026, April update)"
LIBRARY = "simple-icd-10-cm 1.5.0"
SOURCE = f"{RELEASE}, CDC/NCHS Tabular List, as shipped by {LIBRARY}"
CODE_FILE = Path(__file__).parent / "data" / "icd10cm.tsv.gz"


@dataclass(frozen=True)
class Code:
    code: str  # with the dot: M17.11
    descriptor: str  # the official descriptor
    billable: bool  # a leaf of the classification (a complete code)


@cache
def _codes() -> dict[str, Code]:
    codes = {}
    with gzip.open(CODE_FILE, "rt", encoding="utf-8") as lines:
        for line in lines:
            code, descriptor, billable = line.rstrip("\n").split("\t")
            codes[code] = Code(code, descriptor, billable == "1")
    return codes


def get(code: str) -> Code | None:
    """The code as the code set has it, or None when `code` (canonical form, M17.11) is no code."""
    return _codes().get(code)
