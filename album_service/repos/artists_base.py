"""What album_service's artists domain needs from storage: records, errors and the
repository protocols that the SQL and in-memory versions both honour.

Artists are album_service's rows (README, ownership). Song and album writes create
them by name (database.artists); this domain reads them with their counts, edits,
deletes and likes them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple, Protocol

from album_service.repos.base import AlbumView
from common.errors import ConflictError, NotFoundError
from database.keyset import After, Sort
from database.search import SearchRank

# The Python type of each sort's cursor value: `name` sorts by the folded sort
# name (sort_name_key), so its cursor value is that key.
ARTIST_SORTABLE: dict[str, type] = {"id": int, "name": str, "created_at": datetime}
DEFAULT_ARTIST_SORT = Sort("id")
# An artist's albums, newest release first: release_date descending with undated
# albums last, then id descending. The cursor value is the release date or None.
NEWEST_RELEASE_FIRST = Sort("release_date", descending=True)
# An artist's songs, by folded title then id.
SONG_TITLE_ORDER = Sort("title")


class ArtistRecord(NamedTuple):
    """A row of `artists` (its keys left out)."""

    id: int
    name: str
    sort_name: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ArtistView:
    """An artist as the API shows it. `cover` is the cover_image_url of the
    artist's newest album (NEWEST_RELEASE_FIRST) that has one."""

    artist: ArtistRecord
    album_count: int
    song_count: int
    like_count: int
    liked_by_me: bool | None
    cover: str | None

    def fields(self) -> dict[str, Any]:
        return {
            **self.artist._asdict(),
            "album_count": self.album_count,
            "song_count": self.song_count,
            "like_count": self.like_count,
            "liked_by_me": self.liked_by_me,
            "cover": self.cover,
        }


@dataclass(frozen=True)
class LikedArtist:
    view: ArtistView
    liked_at: datetime


class ArtistSongRecord(NamedTuple):
    """A row of `songs` (song_service's table, read only here)."""

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


@dataclass(frozen=True)
class ArtistQuery:
    """A page of artists. With `sort` None and a `q`, ranked by relevance
    (database.search; the name plays the title) and `after` is a SearchRank;
    otherwise in (sort key, id) order, id by default, `after` an After."""

    q: str | None = None
    sort: Sort | None = DEFAULT_ARTIST_SORT
    after: After | SearchRank | None = None
    offset: int = 0
    limit: int = 50

    @property
    def ranked(self) -> bool:
        return self.sort is None and self.q is not None


class ArtistNotFoundError(NotFoundError):
    detail = "Artist not found"


class DuplicateArtistError(ConflictError):
    detail = "An artist with this name already exists"


class ArtistInUseError(ConflictError):
    detail = (
        "The artist still has albums or songs; change their artist or delete them "
        "before deleting the artist"
    )


class ArtistRepository(Protocol):
    def add(self, name: str, sort_name: str | None) -> ArtistRecord:
        """A new artist (sort name: the name when None), with its search terms.
        DuplicateArtistError when an artist's name folds to the same key."""
        ...

    def get(self, artist_id: int) -> ArtistRecord | None: ...

    def get_view(self, artist_id: int, viewer_id: int | None) -> ArtistView | None:
        """The artist with its counts, cover and like state, read in one statement."""
        ...

    def list_views(self, query: ArtistQuery, viewer_id: int | None) -> list[ArtistView]:
        """A page of artists as views, in one statement."""
        ...

    def update(self, artist_id: int, changes: dict[str, Any]) -> ArtistRecord | None:
        """Change `name` and/or `sort_name` (None: the name again) and bump
        updated_at; a sort name that was the name follows a new name. None when
        absent; DuplicateArtistError when the new name folds to another artist's."""
        ...

    def delete(self, artist_id: int) -> bool:
        """Remove the artist and its likes; False when absent; ArtistInUseError
        while any album or song has it as artist_id."""
        ...

    def albums(
        self,
        artist_id: int,
        viewer_id: int | None,
        *,
        after: After | None,
        offset: int,
        limit: int,
    ) -> list[AlbumView]:
        """The artist's albums in NEWEST_RELEASE_FIRST order; `after.value` is a
        release date or None, `after.id` an album id."""
        ...

    def songs(
        self, artist_id: int, *, after: After | None, offset: int, limit: int
    ) -> list[ArtistSongRecord]:
        """The artist's songs in SONG_TITLE_ORDER; `after.value` is a folded title
        key (database.tables.folded_key("title", ...)), `after.id` a song id."""
        ...


class ArtistLikeRepository(Protocol):
    def like(self, user_id: int, artist_id: int) -> int:
        """Idempotent; the artist's like count afterwards. Locks the artist until
        the unit ends, so concurrent likes of it take turns. ArtistNotFoundError /
        AccountGoneError when either side does not exist."""
        ...

    def unlike(self, user_id: int, artist_id: int) -> int:
        """Idempotent; the artist's like count afterwards. ArtistNotFoundError when absent."""
        ...

    def liked(
        self, user_id: int, *, after: After | None, offset: int, limit: int
    ) -> list[LikedArtist]:
        """The user's liked artists as views, newest like first (ties by artist id,
        descending); `after.value` is a like time and `after.id` an artist id."""
        ...
