"""Names and identifiers without invisible tricks.

A right-to-left override (U+202E) or a zero-width space (U+200B) in a name can make one
patient's name look exactly like another's. Names and identifiers refuse every Unicode
format character (category Cf), every control character (Cc) and the line and paragraph
separators (Zl, Zp), with a message that names the character found.
"""

import unicodedata

REFUSED_CATEGORIES = {"Cf", "Cc", "Zl", "Zp"}


def invisible_characters(text: str) -> list[str]:
    """Each refused character in `text`, described: "U+202E RIGHT-TO-LEFT OVERRIDE"."""
    found = []
    for char in dict.fromkeys(text or ""):
        if unicodedata.category(char) in REFUSED_CATEGORIES:
            found.append(f"U+{ord(char):04X} {unicodedata.name(char, 'control character')}")
    return found


def invisible_characters_message(text: str) -> str | None:
    """The error for a name or identifier holding invisible characters, or None when it has none."""
    found = invisible_characters(text)
    if not found:
        return None
    return (
        f"This contains {'an invisible character' if len(found) == 1 else 'invisible characters'} "
        f"({', '.join(found)}) that can make one name look like another; type it again without."
    )
