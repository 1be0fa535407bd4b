"""What album_service needs from storage; the SQL and in-memory versions both honour it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol

from common.errors import NotFoundError
from database.keyset import After, Sort
from database.media import MediaFile
from database.search import SearchRank
from database.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from album_service.repos.artists_base import ArtistLikeRepository, ArtistRepository
    from album_service.repos.covers_base import CoverRepository

# The Python type of each sortable column, to read cursor values back.
SORTABLE: dict[str, type] = {
    "id": int,
    "title": str,
    "artist": str,
    "genre": str,
    "created_at": datetime,
}

DEFAULT_SORT = Sort("id")
# An album's songs are in (disc number, track number) order; the song id breaks
# ties. A keyset cursor's value is the pair [disc, track].
TRACK_ORDER = Sort("position")
NEWEST_LIKE_FIRST = Sort("liked_at", descending=True)


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
    disc_number: int
    track_number: int


@dataclass(frozen=True)
class LinkRecord:
    album_id: int
    song_id: int
    disc_number: int
    track_number: int


@dataclass(frozen=True)
class AlbumView:
    """An album as the API shows it: with its song count, total duration (seconds;
    songs without one count 0), like count and, for a known viewer, whether they
    like it (None without one)."""

    album: AlbumRecord
    song_count: int
    duration: int
    like_count: int
    liked_by_me: bool | None


@dataclass(frozen=True)
class LikedAlbum:
    view: AlbumView
    liked_at: datetime


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


def track_position(after: After) -> tuple[int, int]:
    """The (disc, track) of a tracks keyset position: `after.value` is the pair, or
    a bare track number on disc 1."""
    value = after.value
    if isinstance(value, int):
        return 1, value
    disc, track = value
    return int(disc), int(track)


class AlbumRepository(Protocol):
    def add(self, fields: dict[str, Any]) -> AlbumRecord: ...

    def get(self, album_id: int) -> AlbumRecord | None: ...

    def get_view(self, album_id: int, viewer_id: int | None) -> AlbumView | None:
        """The album with its counts and like state, read in one statement."""
        ...

    def list(self, query: AlbumQuery) -> list[AlbumRecord]:
        """Albums matching the filters, in (sort column, id) order, after `query.after`."""
        ...

    def list_views(self, query: AlbumQuery, viewer_id: int | None) -> list[AlbumView]:
        """`list`'s page, each album with its counts and like state, in one statement."""
        ...

    def update(self, album_id: int, changes: dict[str, Any]) -> AlbumRecord | None:
        """Apply column changes and bump updated_at; None when absent."""
        ...

    def delete(self, album_id: int) -> bool:
        """Remove the album and its song links (the songs stay); False when absent."""
        ...

    def media_of(self, song_ids: list[int]) -> dict[int, MediaFile]:
        """The local audio files of those of the songs that have one (song_service
        writes them; database.media reads them for both services)."""
        ...

    def tracks(
        self, album_id: int, *, after: After | None, offset: int, limit: int
    ) -> list[TrackRecord]:
        """The album's songs in TRACK_ORDER (disc, track, song id); `after.value`
        is a (disc, track) pair (or a track number on disc 1, see track_position)
        and `after.id` a song id. Empty for an unknown album."""
        ...

    def link(
        self,
        album_id: int,
        song_id: int,
        track_number: int | None,
        disc_number: int | None = None,
    ) -> LinkRecord:
        """Create or renumber a link, idempotently. A new link goes on disc
        `disc_number` (1 by default); without a track number it goes after the
        last track of that disc. An existing link keeps what is not given, and
        one moved to another disc without a number goes last there. Locks the
        album until the unit ends, so links to one album take turns.
        AlbumNotFoundError / SongNotFoundError when either side is missing."""
        ...

    def unlink(self, album_id: int, song_id: int) -> bool:
        """Remove a link; False when there was none; AlbumNotFoundError when the
        album is missing."""
        ...


class AlbumLikeRepository(Protocol):
    def like(self, user_id: int, album_id: int) -> int:
        """Idempotent; the album's like count afterwards. Locks the album until the
        unit ends, so concurrent likes of it take turns. AlbumNotFoundError /
        AccountGoneError when either side does not exist."""
        ...

    def unlike(self, user_id: int, album_id: int) -> int:
        """Idempotent; the album's like count afterwards. AlbumNotFoundError when absent."""
        ...

    def liked(
        self, user_id: int, *, after: After | None, offset: int, limit: int
    ) -> list[LikedAlbum]:
        """The user's liked albums as views, newest like first (ties by album id,
        descending); `after.value` is a like time and `after.id` an album id."""
        ...


class AlbumUnitOfWork(UnitOfWork, Protocol):
    """One transaction over album_service's repositories (database.unit_of_work)."""

    albums: AlbumRepository
    album_likes: AlbumLikeRepository
    artists: ArtistRepository
    artist_likes: ArtistLikeRepository
    covers: CoverRepository
