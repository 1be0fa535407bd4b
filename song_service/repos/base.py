"""What song_service needs from storage; the SQL and in-memory versions both honour it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple, Protocol

from common.errors import NotFoundError, UnauthorizedError
from database.keyset import After, Sort

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
    q: str | None = None
    genre: str | None = None
    artist: str | None = None
    album_id: int | None = None
    sort: Sort = DEFAULT_SORT
    after: After | None = None
    offset: int = 0
    limit: int = 50


@dataclass(frozen=True)
class SongView:
    """A song as the API shows it: with its like count and, for a known viewer,
    whether they like it (None without one)."""

    song: SongRecord
    like_count: int
    liked_by_me: bool | None


@dataclass(frozen=True)
class LikedSong:
    song: SongRecord
    liked_at: datetime


class SongNotFoundError(NotFoundError):
    detail = "Song not found"


class AccountGoneError(UnauthorizedError):
    """The token is still valid but its account was deleted."""

    detail = "Account no longer exists"


class SongRepository(Protocol):
    def add(self, fields: dict[str, Any]) -> SongRecord: ...

    def get(self, song_id: int) -> SongRecord | None: ...

    def list(self, query: SongQuery) -> list[SongRecord]:
        """Songs matching the filters, in (sort column, id) order, after `query.after`."""
        ...

    def get_view(self, song_id: int, viewer_id: int | None) -> SongView | None:
        """The song with its like state, read in one go."""
        ...

    def list_views(self, query: SongQuery, viewer_id: int | None) -> list[SongView]:
        """`list`, each song with its like state, read in one go."""
        ...

    def update(self, song_id: int, changes: dict[str, Any]) -> SongRecord | None: ...

    def delete(self, song_id: int) -> bool:
        """Remove the song with its likes and album links; False when absent."""
        ...


class LikeRepository(Protocol):
    def like(self, user_id: int, song_id: int) -> int:
        """Idempotent; the song's like count afterwards. SongNotFoundError /
        AccountGoneError when either side does not exist."""
        ...

    def unlike(self, user_id: int, song_id: int) -> int:
        """Idempotent; the song's like count afterwards. SongNotFoundError when absent."""
        ...

    def counts(self, song_ids: list[int]) -> dict[int, int]:
        """Like counts of the given songs (0 for none)."""
        ...

    def liked_among(self, user_id: int, song_ids: list[int]) -> set[int]: ...

    def liked_songs(
        self, user_id: int, *, after: After | None, offset: int, limit: int
    ) -> list[LikedSong]:
        """The user's liked songs, newest like first (ties by song id, descending);
        `after.value` is a like time and `after.id` a song id."""
        ...
