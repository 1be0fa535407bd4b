"""One meaning for text on every database (API.md, "Text: one meaning on every
database"): the folding that search, sorting and exact catalogue filters compare,
and the normalisation of identities (emails, passwords).

Everything is computed here, in Python, and stored or bound as plain strings, so
SQLite, PostgreSQL, MariaDB, SQL Server and the in-memory fakes compare the same
values: the databases only ever compare folded strings by code point (binary
collations, see database/types.py), never by their own case or accent rules.
"""

from __future__ import annotations

import unicodedata

__all__ = ["canonical_email", "fit", "fold", "fold_words", "nfc", "prefix_end"]

# Characters that join a word instead of splitting it: "Don't" is the word "dont",
# so "dont" and "don't" both find it.
_JOINERS = frozenset("'\u2019")
_LAST_CODE_POINT = 0x10FFFF


def nfc(value: str) -> str:
    """`value` in Unicode NFC: one encoding of each accented character, so a
    password or an address typed on any keyboard is the same string."""
    return unicodedata.normalize("NFC", value)


def canonical_email(value: str) -> str:
    """An address as stored and looked up (API.md, "Identity"): trimmed, NFC,
    lower-cased. Accents stay: josé@example.com and jose@example.com differ."""
    return nfc(value.strip()).lower()


def fold(value: str) -> str:
    """The search/sort/filter form of `value` (API.md, "Text"): compatibility
    decomposition (NFKD), case folding, combining marks dropped, recomposed (NFC),
    whitespace runs collapsed to one space, ends stripped.

    fold("Die Ärzte") == fold("DIE ÄRZTE") == "die arzte"; fold("Beyoncé") ==
    "beyonce"; NFD and NFC spellings fold alike. Two refinements keep the stored
    keys well-behaved on every database: control characters count as whitespace
    and invisible format characters (soft hyphen, zero-width space, bidi marks)
    are dropped, so a key holds no character below U+0020 and never ends in a
    space, which MariaDB's PAD SPACE collations would otherwise compare oddly.
    """
    # NFKD again after casefold: folding can produce characters with decompositions
    # ("İ" → "i̇"), and their marks must go too, or fold would not be idempotent.
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", value).casefold())
    kept = []
    for char in decomposed:
        if unicodedata.combining(char):
            continue
        category = unicodedata.category(char)
        if category == "Cf":
            continue
        kept.append(" " if category == "Cc" else char)
    # NFC puts back what NFKD took apart without marks, such as Hangul syllables.
    return " ".join(unicodedata.normalize("NFC", "".join(kept)).split())


def fold_words(value: str) -> list[str]:
    """The distinct words of fold(value), in order of first appearance.

    A word is a run of letters, marks and digits; whitespace, punctuation and
    symbols separate words, except apostrophes, which are dropped ("Don't" →
    "dont"). fold_words("Guns N' Roses") == ["guns", "n", "roses"].
    """
    words: dict[str, None] = {}
    current: list[str] = []
    for char in fold(value) + " ":
        if char in _JOINERS:
            continue
        if unicodedata.category(char)[0] in "LMN":
            current.append(char)
        elif current:
            words.setdefault("".join(current))
            current = []
    return list(words)


def fit(value: str, length: int) -> str:
    """The longest prefix of `value` that fits a column of `length` characters on
    every database, without a trailing space.

    SQL Server's NVARCHAR(n) counts UTF-16 code units, so a character outside the
    Basic Multilingual Plane (most emoji) takes two; the others count code points
    and accept whatever fits SQL Server.
    """
    units = 0
    for index, char in enumerate(value):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > length:
            return value[:index].rstrip(" ")
    return value


def prefix_end(prefix: str) -> str | None:
    """The smallest string after every string that starts with `prefix`, in code
    point order; None when there is none (an empty prefix, or one made only of
    U+10FFFF). `prefix <= s < prefix_end(prefix)` is then an index range that
    means "s starts with prefix" on every database that compares by code point.
    """
    stripped = prefix.rstrip(chr(_LAST_CODE_POINT))
    if not stripped:
        return None
    following = ord(stripped[-1]) + 1
    if 0xD800 <= following <= 0xDFFF:
        following = 0xE000  # surrogates are not characters and cannot be stored
    return stripped[:-1] + chr(following)
