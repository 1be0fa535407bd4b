"""What album_service needs from storage; the SQL and in-memory versions both honour it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from common.errors import NotFoundError
from database.keyset import After, Sort
from database.search import SearchRank
from database.unit_of_work import UnitOfWork

# The Python type of each sortable column, to read cursor values back.
SORTABLE: dict[str, type] = {
    "id": int,
    "title": str,
    "artist": str,
    "genre": str,
    "created_at": datetime,
}

DEFAULT_SORT = Sort("id")
# An album's songs are in track order; the song id breaks ties between equal numbers.
TRACK_ORDER = Sort("track_number")


@dataclass(frozen=True)
class AlbumRecord:
    id: int
    title: str
    artist: str
    artist_id: int | None
    genre: str
    description: str | None
    cover_image_url: str | None
    release_date: date | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class TrackRecord:
    """A song as it appears on an album: the song's columns plus its track number."""

    id: int
    title: str
    artist: str
    artist_id: int | None
    genre: str
    file_url: str
    duration: int | None
    description: str | None
    cover_image_url: str | None
    release_date: date | None
    created_at: datetime
    updated_at: datetime
    track_number: int


@dataclass(frozen=True)
class LinkRecord:
    album_id: int
    song_id: int
    track_number: int


@dataclass(frozen=True)
class AlbumQuery:
    """A page of albums. With `sort` None and a `q`, the albums come ranked by
    relevance (database.search) and `after` is a SearchRank; otherwise in (sort
    key, id) order, id by default, and `after` is an After whose value is the
    sort key (database.catalogue.sort_value)."""

    q: str | None = None
    genre: str | None = None
    artist: str | None = None
    sort: Sort | None = DEFAULT_SORT
    after: After | SearchRank | None = None
    offset: int = 0
    limit: int = 50

    @property
    def ranked(self) -> bool:
        return self.sort is None and self.q is not None


class AlbumNotFoundError(NotFoundError):
    detail = "Album not found"


class SongNotFoundError(NotFoundError):
    detail = "Song not found"


class AlbumRepository(Protocol):
    def add(self, fields: dict[str, Any]) -> AlbumRecord: ...

    def get(self, album_id: int) -> AlbumRecord | None: ...

    def list(self, query: AlbumQuery) -> list[AlbumRecord]:
        """Albums matching the filters, in (sort column, id) order, after `query.after`."""
        ...

    def update(self, album_id: int, changes: dict[str, Any]) -> AlbumRecord | None:
        """Apply column changes and bump updated_at; None when absent."""
        ...

    def delete(self, album_id: int) -> bool:
        """Remove the album and its song links (the songs stay); False when absent."""
        ...

    def tracks(
        self, album_id: int, *, after: After | None, offset: int, limit: int
    ) -> list[TrackRecord]:
        """The album's songs in TRACK_ORDER; `after.value` is a track number and
        `after.id` a song id. Empty for an unknown album."""
        ...

    def link(self, album_id: int, song_id: int, track_number: int | None) -> LinkRecord:
        """Create or renumber a link, idempotently. Without a number a new link goes
        last (highest number + 1) and an existing one keeps its number. Locks the
        album until the unit ends, so links to one album take turns.
        AlbumNotFoundError / SongNotFoundError when either side is missing."""
        ...

    def unlink(self, album_id: int, song_id: int) -> bool:
        """Remove a link; False when there was none; AlbumNotFoundError when the
        album is missing."""
        ...


class AlbumUnitOfWork(UnitOfWork, Protocol):
    """One transaction over album_service's repositories (database.unit_of_work)."""

    albums: AlbumRepository
