"""Names as people write them, folded for comparing and searching: the one folding the
duplicate check (intake.matching) and the desk's search (Patient.name_key) share.

Names are compared in their own script: folding removes case, compatibility forms (full-width
letters, ligatures) and the accents of scripts where leaving an accent out is ordinary spelling
(Latin, Greek, Arabic and Hebrew vowel marks), and keeps every letter.
"""

import re
import unicodedata
from functools import lru_cache

# Marks on letters of these scripts are left out when names are compared ("José" is "Jose",
# "Γιώργος" is "Γιωργος", vowelled Arabic is plain Arabic). Elsewhere a mark makes another
# letter (Cyrillic й is not и, Japanese が is not か, Devanagari vowel signs), so it stays.
ACCENT_FOLDED_SCRIPTS = frozenset({"LATIN", "GREEK", "ARABIC", "HEBREW"})
# Latin letters with a stroke or ligatures that Unicode does not decompose, written without
# them by the same people (Vietnamese Đặng is Dang, Danish Søren is Soren).
STROKED = str.maketrans({"đ": "d", "ð": "d", "ø": "o", "ł": "l", "ħ": "h", "ŧ": "t", "ı": "i"})
STROKED_LIGATURES = {"æ": "ae", "œ": "oe", "þ": "th"}
# The Arabic kashida only stretches a word: "محـمد" is "محمد".
TATWEEL = "\u0640"


def script(char: str) -> str:
    """The first word of the character's Unicode name: LATIN, CYRILLIC, CJK, HANGUL, ..."""
    return unicodedata.name(char, "").partition(" ")[0]


# Names repeat across the up to 200 candidates of one check; folding is pure, so remember it.
@lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """Lower case, no accents, letters of every script and single spaces:
    "Jo-Ão  Sílva" -> "jo ao silva", "ΓΙΏΡΓΟΣ" -> "γιωργοσ", "Иван" -> "иван", "李 娜" -> "李 娜"."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text or "").casefold())
    kept, base = [], ""
    for char in decomposed:
        category = unicodedata.category(char)
        if category.startswith("M"):
            if base not in ACCENT_FOLDED_SCRIPTS:
                kept.append(char)
        elif char == TATWEEL:
            continue
        elif category.startswith("L"):
            base = script(char)
            kept.append(char)
        else:  # punctuation, digits, symbols, spaces
            base = ""
            kept.append(" ")
    folded = unicodedata.normalize("NFC", "".join(kept)).translate(STROKED)
    for ligature, letters in STROKED_LIGATURES.items():
        folded = folded.replace(ligature, letters)
    return " ".join(folded.split())


NAME_KEY_LENGTH = 300
APOSTROPHES = re.compile(r"['’ʼ`]")


def name_key(given_name: str, family_name: str) -> str:
    """The whole name folded, as Patient.name_key stores it for the search: "Nguyễn Văn" gives
    "nguyen van"; a name with an apostrophe is there both ways, "O'Brien" as "o brien obrien"."""
    name = f"{given_name} {family_name}"
    words = fold(name).split() + fold(APOSTROPHES.sub("", name)).split()
    return " ".join(dict.fromkeys(words))[:NAME_KEY_LENGTH]
