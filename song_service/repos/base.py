"""What song_service needs from storage; the SQL and in-memory versions both honour it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from common.errors import NotFoundError
from database.keyset import After, Sort
from database.search import SearchRank
from database.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from song_service.repos.covers_base import CoverRepository
    from song_service.repos.media_base import ImportRepository, MediaRepository, ScanRepository
    from song_service.repos.playlists_base import PlaylistRepository
    from song_service.repos.plays_base import PlayRepository
    from song_service.repos.search_base import SearchRepository

# The Python type of each sortable column, to read cursor values back.
SORTABLE: dict[str, type] = {
    "id": int,
    "title": str,
    "artist": str,
    "genre": str,
    "created_at": datetime,
}


class SongRecord(NamedTuple):
    """A row of `songs`. A NamedTuple rather than a frozen dataclass: a page
    builds fifty per request, and this is the cheapest immutable record."""

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


DEFAULT_SORT = Sort("id")
NEWEST_LIKE_FIRST = Sort("liked_at", descending=True)


@dataclass(frozen=True)
class SongQuery:
    """A page of songs. With `sort` None and a `q` (and no album), the songs come
    ranked by relevance (database.search) and `after` is a SearchRank; otherwise
    in (sort key, id) order, id by default, and `after` is an After whose value
    is the sort key (database.catalogue.sort_value)."""

    q: str | None = None
    genre: str | None = None
    artist: str | None = None
    album_id: int | None = None
    sort: Sort | None = DEFAULT_SORT
    after: After | SearchRank | None = None
    offset: int = 0
    limit: int = 50

    @property
    def ranked(self) -> bool:
        # Within one album the songs stay in the asked order: an album is short.
        return self.sort is None and self.q is not None and self.album_id is None


@dataclass(frozen=True)
class SongView:
    """A song as the API shows it: with its like count and, for a known viewer,
    whether they like it (None without one); with its play count and, for a known
    viewer, their own play count and last play (None without one)."""

    song: SongRecord
    like_count: int
    liked_by_me: bool | None
    play_count: int = 0
    my_play_count: int | None = None
    last_played_at: datetime | None = None


@dataclass(frozen=True)
class LikedSong:
    song: SongRecord
    liked_at: datetime


class SongNotFoundError(NotFoundError):
    detail = "Song not found"


class SongRepository(Protocol):
    def add(self, fields: dict[str, Any]) -> SongRecord: ...

    def get(self, song_id: int) -> SongRecord | None: ...

    def get_view(self, song_id: int, viewer_id: int | None) -> SongView | None:
        """The song with its like state, read in one go."""
        ...

    def list_views(self, query: SongQuery, viewer_id: int | None) -> list[SongView]:
        """Songs matching the filters, in (sort column, id) order, after `query.after`,
        each with its like state, read in one go."""
        ...

    def update(self, song_id: int, changes: dict[str, Any]) -> SongRecord | None: ...

    def delete(self, song_id: int) -> bool:
        """Remove the song with its likes and album links; False when absent."""
        ...


class LikeRepository(Protocol):
    def like(self, user_id: int, song_id: int) -> int:
        """Idempotent; the song's like count afterwards. Locks the song until the
        unit ends, so concurrent likes of it take turns. SongNotFoundError /
        AccountGoneError when either side does not exist."""
        ...

    def unlike(self, user_id: int, song_id: int) -> int:
        """Idempotent; the song's like count afterwards. SongNotFoundError when absent."""
        ...

    def counts(self, song_ids: list[int]) -> dict[int, int]:
        """Like counts of the given songs (0 for none)."""
        ...

    def liked_songs(
        self, user_id: int, *, after: After | None, offset: int, limit: int
    ) -> list[LikedSong]:
        """The user's liked songs, newest like first (ties by song id, descending);
        `after.value` is a like time and `after.id` a song id."""
        ...


class SongUnitOfWork(UnitOfWork, Protocol):
    """One transaction over song_service's repositories (database.unit_of_work)."""

    songs: SongRepository
    likes: LikeRepository
    plays: PlayRepository
    search: SearchRepository
    playlists: PlaylistRepository
    covers: CoverRepository
    media: MediaRepository
    scans: ScanRepository
    imports: ImportRepository
