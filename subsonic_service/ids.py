"""Subsonic ids: strings, typed by a prefix so one id never names two things and
stays the same for as long as the row lives: `ar-3` (artist), `al-12` (album),
`so-40` (song), `pl-2` (playlist). A coverArt id is the typed id of what the image
is for. The one music folder is 1.

A malformed id, or one of the wrong kind, names nothing: error 70, as for an id
that does not exist.
"""

from __future__ import annotations

from typing import Literal

from subsonic_service.errors import not_found

Kind = Literal["ar", "al", "so", "pl"]
KINDS: dict[str, str] = {"ar": "Artist", "al": "Album", "so": "Song", "pl": "Playlist"}
MUSIC_FOLDER_ID = 1
# Row ids are 64-bit; a longer number names nothing.
MAX_ID = 2**63 - 1


def make(kind: Kind, row_id: int) -> str:
    return f"{kind}-{row_id}"


def split(value: str) -> tuple[str, int] | None:
    """(kind, row id) of a typed id, or None when it is not one."""
    kind, dash, number = value.strip().partition("-")
    if not dash or kind not in KINDS or not (number.isascii() and number.isdigit()):
        return None
    row_id = int(number)
    if not 0 < row_id <= MAX_ID:
        return None
    return kind, row_id


def parse(value: str, kind: Kind) -> int:
    """The row id of a typed id of `kind`; error 70 for anything else."""
    found = split(value)
    if found is None or found[0] != kind:
        raise not_found(KINDS[kind])
    return found[1]
