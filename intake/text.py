"""Names and identifiers without invisible tricks or emoji.

A right-to-left override (U+202E), a zero-width space (U+200B) or a Hangul filler (U+3164)
in a name can make one patient's name look exactly like another's, or a name look filled in
when it is blank. Names and identifiers refuse:

- every Default_Ignorable_Code_Point (Unicode's own list of characters a renderer shows as
  nothing: joiners, variation selectors, fillers, tags), taken from DerivedCoreProperties.txt
  below, since Python's unicodedata does not have the property;
- every format character (Cf), control (Cc), surrogate (Cs), line and paragraph separator
  (Zl, Zp);
- the blank look-alikes Unicode does not call ignorable: U+2800 BRAILLE PATTERN BLANK and
  U+1D159 MUSICAL SYMBOL NULL NOTEHEAD;
- emoji, with a message that says so (a zero-width joiner inside 👨‍👩‍👧 is part of the emoji, and
  reported as such).

Zero-width joiner and non-joiner (U+200D, U+200C) have real uses inside Persian and Indic
names; they are refused all the same (the rule the service promises is the simple one), and
the message names the character so that the person can type the name without it: the
spelling that matching and the ID card's machine-readable zone use anyway.

Dates are read here too, as every door's message promises them: YYYY-MM-DD in ASCII digits
(not 19610402, not full-width １９６１-０４-０２, not an ISO week date 1961-W14-7, which Python's
and Django's own parsers accept).

Plain Python: every layer may use it (no Django).
"""

import bisect
import re
import unicodedata
from datetime import date

REFUSED_CATEGORIES = {"Cf", "Cc", "Cs", "Zl", "Zp"}

# Default_Ignorable_Code_Point, from https://www.unicode.org/Public/16.0.0/ucd/DerivedCoreProperties.txt
# (unchanged since Unicode 14: 4,174 code points). Inclusive ranges, in code point order.
DEFAULT_IGNORABLE: tuple[tuple[int, int], ...] = (
    (0x00AD, 0x00AD),  # SOFT HYPHEN
    (0x034F, 0x034F),  # COMBINING GRAPHEME JOINER
    (0x061C, 0x061C),  # ARABIC LETTER MARK
    (0x115F, 0x1160),  # HANGUL CHOSEONG FILLER..HANGUL JUNGSEONG FILLER
    (0x17B4, 0x17B5),  # KHMER VOWEL INHERENT AQ..AA
    (0x180B, 0x180F),  # MONGOLIAN FREE VARIATION SELECTORS, VOWEL SEPARATOR
    (0x200B, 0x200F),  # ZERO WIDTH SPACE..RIGHT-TO-LEFT MARK
    (0x202A, 0x202E),  # LEFT-TO-RIGHT EMBEDDING..RIGHT-TO-LEFT OVERRIDE
    (0x2060, 0x206F),  # WORD JOINER..NOMINAL DIGIT SHAPES (2065 reserved)
    (0x3164, 0x3164),  # HANGUL FILLER
    (0xFE00, 0xFE0F),  # VARIATION SELECTOR-1..16
    (0xFEFF, 0xFEFF),  # ZERO WIDTH NO-BREAK SPACE
    (0xFFA0, 0xFFA0),  # HALFWIDTH HANGUL FILLER
    (0xFFF0, 0xFFF8),  # reserved
    (0x1BCA0, 0x1BCA3),  # SHORTHAND FORMAT LETTER OVERLAP..UP STEP
    (0x1D173, 0x1D17A),  # MUSICAL SYMBOL BEGIN BEAM..END PHRASE
    (0xE0000, 0xE0FFF),  # LANGUAGE TAG, TAGS, VARIATION SELECTOR-17..256, reserved
)
BLANK_LOOKALIKES = frozenset({0x2800, 0x1D159})

# Emoji: Extended_Pictographic from https://www.unicode.org/Public/16.0.0/ucd/emoji/emoji-data.txt,
# kept whole in the supplementary planes' pictographic blocks (which hold no letters).
EMOJI: tuple[tuple[int, int], ...] = (
    (0x00A9, 0x00A9),
    (0x00AE, 0x00AE),
    (0x203C, 0x203C),
    (0x2049, 0x2049),
    (0x2122, 0x2122),
    (0x2139, 0x2139),
    (0x2194, 0x2199),
    (0x21A9, 0x21AA),
    (0x231A, 0x231B),
    (0x2328, 0x2328),
    (0x2388, 0x2388),
    (0x23CF, 0x23CF),
    (0x23E9, 0x23F3),
    (0x23F8, 0x23FA),
    (0x24C2, 0x24C2),
    (0x25AA, 0x25AB),
    (0x25B6, 0x25B6),
    (0x25C0, 0x25C0),
    (0x25FB, 0x25FE),
    (0x2600, 0x27BF),  # Miscellaneous Symbols, Dingbats
    (0x2934, 0x2935),
    (0x2B05, 0x2B07),
    (0x2B1B, 0x2B1C),
    (0x2B50, 0x2B50),
    (0x2B55, 0x2B55),
    (0x3030, 0x3030),
    (0x303D, 0x303D),
    (0x3297, 0x3297),
    (0x3299, 0x3299),
    (0x1F000, 0x1FAFF),  # Mahjong tiles .. Symbols and Pictographs Extended-A (flags, skin tones)
    (0x1FC00, 0x1FFFD),
)
# What joins or modifies the pictographs of one emoji: joiner, variation selectors, keycap, tags.
_EMOJI_GLUE = frozenset({0x200D, 0xFE0E, 0xFE0F, 0x20E3, *range(0xE0020, 0xE0080)})
_KEYCAP_BASES = frozenset("0123456789#*")


def _in(ranges: tuple[tuple[int, int], ...], code: int) -> bool:
    index = bisect.bisect_right(ranges, (code, 0x10FFFF)) - 1
    return index >= 0 and ranges[index][0] <= code <= ranges[index][1]


def is_refused_invisible(char: str) -> bool:
    code = ord(char)
    return (
        unicodedata.category(char) in REFUSED_CATEGORIES
        or _in(DEFAULT_IGNORABLE, code)
        or code in BLANK_LOOKALIKES
    )


def is_emoji(char: str) -> bool:
    return _in(EMOJI, ord(char))


def emoji_in(text: str) -> list[str]:
    """Each emoji in `text`, whole: pictographs with their joiners, selectors, skin tones, tags.
    A joiner or selector right before a pictograph belongs to it too (what is left of a sequence
    whose first pictograph was deleted, or pasted in pieces)."""
    text = text or ""
    found: list[str] = []
    index = end = 0
    while index < len(text):
        start, char = index, text[index]
        index += 1
        keycap = char in _KEYCAP_BASES and "\u20e3" in text[index : index + 2]  # 1️⃣: 1, FE0F, 20E3
        if not (keycap or is_emoji(char)):
            continue
        while start > end and ord(text[start - 1]) in _EMOJI_GLUE:
            start -= 1
        while index < len(text) and (ord(text[index]) in _EMOJI_GLUE or is_emoji(text[index])):
            index += 1
        found.append(text[start:index])
        end = index
    return list(dict.fromkeys(found))


def _describe(char: str) -> str:
    category = unicodedata.category(char)
    fallback = {"Cc": "control character", "Cs": "surrogate", "Cn": "unassigned character"}
    return f"U+{ord(char):04X} {unicodedata.name(char, fallback.get(category, 'character'))}"


def invisible_characters(text: str) -> list[str]:
    """Each refused invisible or filler character in `text` outside an emoji, described:
    "U+202E RIGHT-TO-LEFT OVERRIDE"."""
    outside = text or ""
    for emoji in emoji_in(outside):
        outside = outside.replace(emoji, " ")
    return [_describe(char) for char in dict.fromkeys(outside) if is_refused_invisible(char)]


def invisible_characters_message(text: str) -> str | None:
    """The error for a name or identifier holding invisible characters or emoji, or None when
    it has none."""
    if text.isascii() and text.isprintable():
        return None  # no printable ASCII character is an emoji or invisible: the usual name, at once
    problems = []
    if emoji := emoji_in(text):
        # The emoji whole, as the person sees it: its joiners, selectors and skin tones are part of
        # it, never reported as invisible characters of their own.
        one = len(emoji) == 1
        problems.append(
            f"Names and identifiers cannot contain emoji ({', '.join(emoji)}). Delete "
            f"{'the emoji' if one else 'each emoji'} and type the rest as written on the patient's ID "
            "or the referral."
        )
    if found := invisible_characters(text):
        problems.append(
            f"This contains {'an invisible character' if len(found) == 1 else 'invisible characters'} "
            f"({', '.join(found)}) that can make one name look like another: type it again without, on "
            "the keyboard rather than pasted."
        )
    return " ".join(problems) or None


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # [0-9]: ASCII digits only


class NotADate(ValueError):
    """The text is not YYYY-MM-DD (`.calendar` False), or names no day of the calendar (True)."""

    def __init__(self, message: str, *, calendar: bool):
        super().__init__(message)
        self.calendar = calendar


def iso_date(text: object) -> date:
    """The date written YYYY-MM-DD in ASCII digits; NotADate for anything else."""
    if not isinstance(text, str) or not _ISO_DATE.fullmatch(text):
        raise NotADate("Use the date format YYYY-MM-DD, for example 1961-04-02.", calendar=False)
    try:
        return date.fromisoformat(text)
    except ValueError:
        message = f"{text} is not a day of the calendar; check the month and the day."
        raise NotADate(message, calendar=True) from None
