"""Body regions named by an ICD-10-CM descriptor and the body sites each holds (rule set v3, rule 3).

The word -> sites table is data (`data/regions_v3.json`), each word with an example descriptor of the
code set that uses it and its source. Regions are side-free (`knee` holds both knees); a word not in
the table names no region, and a descriptor naming several regions names their union. Longer words
win where they overlap ("lower leg" before "leg"). A word may list text that must not follow or
precede it: "neck" is the neck region, but not in "neck of right femur" nor in "Swan-neck deformity".
"""

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

REGIONS_FILE = Path(__file__).parent / "data" / "regions_v3.json"


@dataclass(frozen=True)
class RegionWord:
    word: str
    region: str  # the region's name: "knee" for "knee" and "knees"
    sites: tuple[str, ...]
    source: str
    not_followed_by: tuple[str, ...] = ()
    not_preceded_by: tuple[str, ...] = ()

    def regex(self) -> str:
        before = "".join(f"(?<!{re.escape(text)})" for text in self.not_preceded_by)
        after = "".join(f"(?!{re.escape(text)}\\b)" for text in self.not_followed_by)
        return f"{before}{re.escape(self.word)}{after}"


@cache
def region_words() -> tuple[RegionWord, ...]:
    data = json.loads(REGIONS_FILE.read_text(encoding="utf-8"))
    return tuple(
        RegionWord(
            item["word"],
            item["region"],
            tuple(item["sites"]),
            item["source"],
            not_followed_by=tuple(item.get("not_followed_by", ())),
            not_preceded_by=tuple(item.get("not_preceded_by", ())),
        )
        for item in data["regions"]
    )


@cache
def _pattern() -> tuple[re.Pattern, dict[str, RegionWord]]:
    by_word = {item.word.lower(): item for item in region_words()}
    words = sorted(by_word, key=len, reverse=True)
    alternatives = "|".join(by_word[word].regex() for word in words)
    return re.compile(r"\b(" + alternatives + r")\b", re.IGNORECASE), by_word


def regions_named(descriptor: str) -> tuple[str, ...]:
    """The regions an official descriptor names, in order of first mention."""
    pattern, by_word = _pattern()
    found: list[str] = []
    for match in pattern.finditer(descriptor):
        region = by_word[match.group(1).lower()].region
        if region not in found:
            found.append(region)
    return tuple(found)


def sites_of(descriptor: str) -> frozenset[str]:
    """Every body site in the regions the descriptor names (empty when it names none)."""
    pattern, by_word = _pattern()
    return frozenset(
        site for match in pattern.finditer(descriptor) for site in by_word[match.group(1).lower()].sites
    )


@cache
def regions_by_site() -> dict[str, tuple[str, ...]]:
    """site -> the regions that hold it (`GET /api/v1/body-sites/` adds them as `regions`)."""
    held: dict[str, list[str]] = {}
    for item in region_words():
        for site in item.sites:
            if item.region not in held.setdefault(site, []):
                held[site].append(item.region)
    return {site: tuple(regions) for site, regions in held.items()}
