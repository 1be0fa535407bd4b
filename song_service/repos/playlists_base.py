"""What song_service needs from storage for playlists; the SQL and in-memory
versions both honour it (tests/contract/test_playlist_repository.py).

A playlist's entries sit at positions 0..n-1 (a song may appear more than once).
Every method that changes entries expects the caller to have locked the playlist
with `lock` in the same unit of work: edits of one playlist then take turns, so
none of them can lose an entry, duplicate a position or leave a gap."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from common.errors import ForbiddenError, InvalidInputError, NotFoundError
from database.text import fold, fold_words
from song_service.repos.base import SongView


class PlaylistRecord(NamedTuple):
    """A playlist as the API shows it: its row, its owner's username, and the
    figures computed from its entries when it is read (so they follow the songs)."""

    id: int
    name: str
    description: str | None
    public: bool
    owner_id: int
    owner_username: str
    song_count: int
    duration: int  # seconds: the sum of the entries' songs' durations, unknown ones as 0
    cover: str | None  # cover_image_url of the first entry whose song has one
    created_at: datetime
    updated_at: datetime


class PlaylistAccess(NamedTuple):
    """What deciding who may do what with a playlist needs."""

    owner_id: int
    public: bool


class PlaylistEntry(NamedTuple):
    """One entry: its position and its song with the song's like state."""

    position: int
    view: SongView


@dataclass(frozen=True)
class PlaylistQuery:
    """A page of the playlists `viewer_id` may see (their own and public ones; only
    their own with `own_only`), in id order after `after_id`. `q` keeps those whose
    folded name has, for every word of fold(q), a word starting with it."""

    viewer_id: int
    own_only: bool = False
    q: str | None = None
    after_id: int | None = None
    offset: int = 0
    limit: int = 50


def name_words(q: str | None) -> list[str] | None:
    """The words of a playlist name filter (database.text.fold_words, as search
    splits them), None for no filter (no `q`, or only spaces). A `q` without any
    word (`%`, `/`) matches no name. Each word must start a word of the stored
    name_key (database.tables.words_key), in SQL (LIKE) and in memory alike."""
    if not q or not fold(q):
        return None
    return fold_words(q)


class PlaylistNotFoundError(NotFoundError):
    detail = "Playlist not found"


class NotPlaylistOwnerError(ForbiddenError):
    detail = "Only the playlist's owner may change it"


class EntryNotFoundError(NotFoundError):
    detail = "The playlist has no entry at that position"


class PositionOutOfRangeError(InvalidInputError):
    """A position in a request body past the playlist's end: a 422 that names the field."""

    def __init__(self, field: str, length: int, *, inclusive: bool) -> None:
        highest = length if inclusive else length - 1
        if highest < 0:
            message = "The playlist is empty: there is no position to use"
        else:
            message = f"Position must be between 0 and {highest} (the playlist has {length})"
        super().__init__(("body", field), message)


class PlaylistRepository(Protocol):
    def add(self, owner_id: int, fields: dict[str, Any]) -> int:
        """A new playlist (name, description, public) of `owner_id`; its id.
        AccountGoneError when the owner's account no longer exists."""
        ...

    def get(self, playlist_id: int) -> PlaylistRecord | None:
        """The playlist with its owner and computed figures, in one statement."""
        ...

    def list(self, query: PlaylistQuery) -> list[PlaylistRecord]:
        """A page of playlists (PlaylistQuery), in one statement."""
        ...

    def access(self, playlist_id: int) -> PlaylistAccess | None:
        """Whose the playlist is and whether it is public, without locking it; None
        when there is no such playlist."""
        ...

    def lock(self, playlist_id: int) -> PlaylistAccess | None:
        """Lock the playlist's row until the unit ends (edits of it take turns) and
        say whose it is; None when there is no such playlist."""
        ...

    def update(self, playlist_id: int, changes: dict[str, Any]) -> None:
        """Change the playlist's own fields (name, description, public) and its
        updated_at."""
        ...

    def delete(self, playlist_id: int) -> bool:
        """Remove the playlist with its entries; False when absent."""
        ...

    def length(self, playlist_id: int) -> int:
        """How many entries the playlist has."""
        ...

    def missing_songs(self, song_ids: list[int]) -> list[int]:
        """Those of `song_ids` that name no song, in ascending order without repeats."""
        ...

    def entries(
        self, playlist_id: int, *, after: int | None, offset: int, limit: int, viewer_id: int
    ) -> list[PlaylistEntry]:
        """The entries after position `after`, in position order, each song with its
        like count and whether `viewer_id` likes it, in one statement."""
        ...

    def insert(self, playlist_id: int, song_ids: list[int], position: int) -> None:
        """Put `song_ids` at `position` (0..length), moving the entries from there on
        back. The caller holds the lock and checked `position`. SongNotFoundError
        when a song does not exist (or is deleted meanwhile)."""
        ...

    def replace(self, playlist_id: int, song_ids: list[int]) -> None:
        """Make `song_ids` the playlist's entries, at 0..n-1 (caller holds the lock)."""
        ...

    def move(self, playlist_id: int, source: int, target: int) -> None:
        """Move the entry at `source` to `target` (both in 0..length-1), shifting the
        ones between by one (caller holds the lock)."""
        ...

    def remove(self, playlist_id: int, position: int) -> bool:
        """Remove the entry at `position` and close the gap (caller holds the lock);
        False when there is no such entry."""
        ...

    def remove_positions(self, playlist_id: int, positions: list[int]) -> None:
        """Remove the entries at `positions` (distinct, each in 0..length-1, positions
        before the call) and renumber the rest 0..n-1 keeping their order, in a
        fixed number of statements whatever the count (caller holds the lock and
        checked the positions)."""
        ...

    def touch(self, playlist_id: int) -> None:
        """Set the playlist's updated_at to now (its entries changed)."""
        ...

    def remove_song(self, song_id: int) -> list[int]:
        """Before `song_id` is deleted, in the same unit: lock the song and every
        playlist holding it (in id order, so two such deletes cannot deadlock),
        remove its entries and renumber the rest 0..n-1; the ids of the playlists
        changed."""
        ...
