"""The one table of text cases (API.md, "Text: one meaning on every database"),
asserted by database/tests/test_text.py on the functions and by
tests/contract/test_text.py on memory, SQLite, PostgreSQL and MariaDB alike."""

from __future__ import annotations

# fold(): inputs that must fold to the same string, and that string.
FOLDS: list[tuple[list[str], str]] = [
    (["ärzte", "ÄRZTE", "A\u0308rzte", "a\u0308rzte"], "arzte"),  # NFC and NFD alike
    (["Die Ärzte", "DIE ÄRZTE", "  die   ärzte "], "die arzte"),
    (["beyonce", "Beyoncé", "BEYONCÉ", "Beyonce\u0301"], "beyonce"),
    (["привет", "ПРИВЕТ", "Привет"], "привет"),
    (["Straße", "STRASSE"], "strasse"),
    (["\uff26\uff55\uff4c\uff4c", "full"], "full"),  # fullwidth forms (NFKD)
    (["soft\u00adhyphen"], "softhyphen"),  # invisible format characters go
    (["tab\there\x01"], "tab here"),  # control characters are whitespace
]

# canonical_email(): input, stored form.
EMAILS: list[tuple[str, str]] = [
    ("  Alice@Example.COM \n", "alice@example.com"),
    ("jose\u0301@example.com", "josé@example.com"),  # NFD in, NFC stored
    ("JOSÉ@example.com", "josé@example.com"),
    ("jose@example.com", "jose@example.com"),  # stays distinct from josé@
]

# Titles sorted by their folded key, as every database and the fakes sort them.
TITLE_ORDER = (["Zebra", "beta", "Ärger", "alpha"], ["alpha", "Ärger", "beta", "Zebra"])

# The catalogue the search, filter and sort cases run on: (title, artist, genre),
# inserted in this order, so the n-th row has id n on a fresh database.
CATALOGUE: list[tuple[str, str, str]] = [
    ("Schrei nach Liebe", "Die Ärzte", "Punk"),  # 1
    ("Die Ärzte", "Die Ärzte", "Punk"),  # 2
    ("Halo", "Beyoncé", "Pop"),  # 3
    ("Привет", "Кино", "Rock"),  # 4
    ("Ghost Love", "Sigur Rós", "jazz"),  # 5
    ("Ghost", "Nobody", "Jazz"),  # 6
    ("Lonely Ghost", "Ghostface", "JAZZ"),  # 7
    ("Zebra", "Nobody", "Ambient"),  # 8
    ("beta", "Nobody", "Ambient"),  # 9
    ("Ärger", "Nobody", "Ambient"),  # 10
    ("alpha", "Nobody", "Ambient"),  # 11
    ("Cafe\u0301 del Mar", "Energy 52", "Trance"),  # 12, stored in NFD
    ("Don't Stop", "Fleetwood Mac", "Rock"),  # 13
    ("ghost", "Ghost", "Metal"),  # 14
    ("100% Pure Love", "Crystal Waters", "House"),  # 15
    ("a_b", "X", "Y"),  # 16
]

# q → the ids it finds, in rank order: exact title (by id), title prefix (by
# title key, id), then word matches (by matched word, id).
SEARCHES: list[tuple[str, list[int]]] = [
    ("ärzte", [1, 2]),
    ("ÄRZTE", [1, 2]),
    ("arz", [1, 2]),
    ("die ärzte", [2, 1]),  # the exact title first
    ("beyonce", [3]),
    ("Beyoncé", [3]),
    ("привет", [4]),
    ("ПРИВЕТ", [4]),
    ("при", [4]),
    ("ghost", [6, 14, 5, 7]),  # two exact titles, a prefix, a word
    ("GHOST", [6, 14, 5, 7]),
    ("ghost lo", [5, 7]),  # every word a prefix of some word
    ("lo ghost", [5, 7]),
    ("love", [5, 15]),
    ("cafe\u0301", [12]),  # NFD query, NFD title
    ("café", [12]),  # NFC query, NFD title
    ("dont", [13]),
    ("don't", [13]),
    ("100%", [15]),  # LIKE wildcards mean nothing
    ("a_b", [16]),
    ("/", []),  # no words: a title prefix only
    ("zzzqx", []),
    ("ghost zzzqx", []),
    ("", [15, 16, 11, 10, 9, 12, 2, 13, 6, 14, 5, 3, 7, 1, 8, 4]),  # all, by title key
]

# Exact filters: (genre, artist) → the ids, by id.
FILTERS: list[tuple[str | None, str | None, list[int]]] = [
    ("jazz", None, [5, 6, 7]),
    ("JAZZ", None, [5, 6, 7]),
    (None, "die arzte", [1, 2]),
    (None, "DIE ÄRZTE", [1, 2]),
    (None, "beyonce", [3]),
    (None, "die", []),  # exact, not a prefix
    ("punk", "die ärzte", [1, 2]),
]
