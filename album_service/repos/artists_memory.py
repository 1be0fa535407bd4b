"""In-memory artists and their likes over the shared MemoryDatabase; held to the SQL
behaviour by the contract suite."""

from __future__ import annotations

from datetime import date
from typing import Any

from album_service.repos.artists_base import (
    DEFAULT_ARTIST_SORT,
    SONG_TITLE_ORDER,
    ArtistInUseError,
    ArtistNotFoundError,
    ArtistQuery,
    ArtistRecord,
    ArtistSongRecord,
    ArtistView,
    DuplicateArtistError,
    LikedArtist,
)
from album_service.repos.base import AlbumRecord, AlbumView
from album_service.repos.likes_memory import MemoryLikes, liked_rows
from album_service.repos.views_memory import memory_album_view
from database.artists import artist_fields
from database.keyset import After, memory_page
from database.memory import MemoryDatabase, Row
from database.search import SearchRank, memory_search, search_rank
from database.tables import folded_key
from database.types import utcnow

# The in-memory twins of artists_sql.SORT_COLUMNS.
SORT_KEYS = {
    "id": lambda row: row["id"],
    "name": lambda row: folded_key("sort_name", row["sort_name"]),
    "created_at": lambda row: row["created_at"],
}


def _record(row: Row) -> ArtistRecord:
    return ArtistRecord(*(row[name] for name in ArtistRecord._fields))


def _release_key(row: Row) -> tuple[int, int, int]:
    """NEWEST_RELEASE_ORDER as an ascending key: dated first, newest first, then
    newest id."""
    released: date | None = row["release_date"]
    return (released is None, -(released.toordinal() if released else 0), -row["id"])


class InMemoryArtistRepository:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    def add(self, name: str, sort_name: str | None) -> ArtistRecord:
        fields = artist_fields(name, sort_name)
        with self._db.lock:
            if self._find(fields["name_key"]) is not None:
                raise DuplicateArtistError
            return _record(self._db.insert("artists", fields))

    def get(self, artist_id: int) -> ArtistRecord | None:
        row = self._db.artists.get(artist_id)
        return _record(row) if row else None

    def get_view(self, artist_id: int, viewer_id: int | None) -> ArtistView | None:
        with self._db.lock:
            row = self._db.artists.get(artist_id)
            return self._view(row, viewer_id) if row else None

    def list_views(self, query: ArtistQuery, viewer_id: int | None) -> list[ArtistView]:
        with self._db.lock:
            rows = list(self._db.artists.values())
            if query.ranked:
                assert query.q is not None  # noqa: S101 - ArtistQuery.ranked says so
                after = query.after if isinstance(query.after, SearchRank) else None
                page = memory_search(
                    rows, query.q, offset=query.offset, limit=query.limit, after=after
                )
            else:
                sort = query.sort or DEFAULT_ARTIST_SORT
                q = query.q
                if q is not None:
                    rows = [row for row in rows if search_rank(row, q) is not None]
                after = query.after if isinstance(query.after, After) else None
                page = memory_page(
                    rows, sort, after, query.offset, query.limit, key=SORT_KEYS[sort.field]
                )
            return [self._view(row, viewer_id) for row in page]

    def update(self, artist_id: int, changes: dict[str, Any]) -> ArtistRecord | None:
        with self._db.lock:
            row = self._db.artists.get(artist_id)
            if row is None:
                return None
            name = changes.get("name") or row["name"]
            if "sort_name" in changes:
                sort_name = changes["sort_name"] or name
            elif row["sort_name"] == row["name"]:
                sort_name = name
            else:
                sort_name = row["sort_name"]
            values = artist_fields(name, sort_name)
            found = self._find(values["name_key"])
            if found is not None and found != artist_id:
                raise DuplicateArtistError
            row.update(values, updated_at=utcnow())
            return _record(row)

    def delete(self, artist_id: int) -> bool:
        with self._db.lock:
            if artist_id not in self._db.artists:
                return False
            named = any(row.get("artist_id") == artist_id for row in self._db.albums.values())
            if named or any(row.get("artist_id") == artist_id for row in self._db.songs.values()):
                raise ArtistInUseError
            return self._db.delete_artist(artist_id)

    def albums(
        self,
        artist_id: int,
        viewer_id: int | None,
        *,
        after: After | None,
        offset: int,
        limit: int,
    ) -> list[AlbumView]:
        with self._db.lock:
            rows = sorted(
                (row for row in self._db.albums.values() if row.get("artist_id") == artist_id),
                key=_release_key,
            )
            if after is not None:
                boundary = _release_key({"release_date": after.value, "id": after.id})
                rows = [row for row in rows if _release_key(row) > boundary]
            return [
                memory_album_view(self._db, AlbumRecord(**row), viewer_id)
                for row in rows[offset : offset + limit]
            ]

    def songs(
        self, artist_id: int, *, after: After | None, offset: int, limit: int
    ) -> list[ArtistSongRecord]:
        with self._db.lock:
            rows = [row for row in self._db.songs.values() if row.get("artist_id") == artist_id]
            page = memory_page(
                rows,
                SONG_TITLE_ORDER,
                after,
                offset,
                limit,
                key=lambda row: folded_key("title", row["title"]),
            )
            return [
                ArtistSongRecord(*(row[name] for name in ArtistSongRecord._fields)) for row in page
            ]

    def _find(self, name_key: str) -> int | None:
        for artist in self._db.artists.values():
            if artist["name_key"] == name_key:
                return int(artist["id"])
        return None

    def _view(self, row: Row, viewer_id: int | None) -> ArtistView:
        return _artist_view(self._db, row, viewer_id)


def _artist_view(db: MemoryDatabase, row: Row, viewer_id: int | None) -> ArtistView:
    """The artist's view as artists_sql.ARTIST_STATE computes it (under db.lock)."""
    artist_id = row["id"]
    named = [album for album in db.albums.values() if album.get("artist_id") == artist_id]
    song_count = sum(1 for song in db.songs.values() if song.get("artist_id") == artist_id)
    likers = [user for (user, liked) in db.artist_likes if liked == artist_id]
    covered = sorted(
        (album for album in named if album["cover_image_url"] is not None), key=_release_key
    )
    return ArtistView(
        _record(row),
        len(named),
        song_count,
        len(likers),
        None if viewer_id is None else viewer_id in likers,
        covered[0]["cover_image_url"] if covered else None,
    )


class InMemoryArtistLikeRepository:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db
        self._likes = MemoryLikes(db, "artist_likes", "artists", "artist_id", ArtistNotFoundError)

    def like(self, user_id: int, artist_id: int) -> int:
        return self._likes.like(user_id, artist_id)

    def unlike(self, user_id: int, artist_id: int) -> int:
        return self._likes.unlike(user_id, artist_id)

    def liked(
        self, user_id: int, *, after: After | None, offset: int, limit: int
    ) -> list[LikedArtist]:
        with self._db.lock:
            return [
                LikedArtist(_artist_view(self._db, self._db.artists[row_id], user_id), liked_at)
                for row_id, liked_at in liked_rows(
                    self._db.artist_likes, user_id, after=after, offset=offset, limit=limit
                )
            ]
