"""In-memory songs and likes over the shared MemoryDatabase; held to the SQL
behaviour by the contract suite."""

from __future__ import annotations

from typing import Any

from common.errors import AccountGoneError
from database.artists import memory_artist_id_for
from database.catalogue import memory_matches, memory_sort_key
from database.keyset import After, memory_page
from database.memory import MemoryDatabase
from database.search import SearchRank, memory_search
from database.types import utcnow
from database.unit_of_work import MemoryUnitOfWork
from song_service.repos.base import (
    DEFAULT_SORT,
    NEWEST_LIKE_FIRST,
    LikedSong,
    SongNotFoundError,
    SongQuery,
    SongRecord,
    SongView,
)
from song_service.repos.covers_memory import InMemoryCoverRepository
from song_service.repos.imports_memory import InMemoryImportRepository
from song_service.repos.media_memory import InMemoryMediaRepository, InMemoryScanRepository
from song_service.repos.playlists_memory import InMemoryPlaylistRepository
from song_service.repos.plays_memory import InMemoryPlayRepository
from song_service.repos.search_memory import InMemorySearchRepository
from song_service.repos.views_memory import memory_song_view

OPTIONAL_COLUMNS = dict.fromkeys(("duration", "description", "cover_image_url", "release_date"))


class InMemorySongRepository:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    def add(self, fields: dict[str, Any]) -> SongRecord:
        return SongRecord(
            **self._db.insert("songs", _with_artist_id(self._db, fields), OPTIONAL_COLUMNS)
        )

    def get(self, song_id: int) -> SongRecord | None:
        row = self._db.songs.get(song_id)
        return SongRecord(**row) if row else None

    def _list(self, query: SongQuery) -> list[SongRecord]:
        if query.ranked:
            assert query.q is not None  # noqa: S101 - SongQuery.ranked says so
            rows = [row for row in self._db.songs.values() if self._matches(row, query, q=None)]
            after = query.after if isinstance(query.after, SearchRank) else None
            page = memory_search(rows, query.q, offset=query.offset, limit=query.limit, after=after)
        else:
            sort = query.sort or DEFAULT_SORT
            rows = [row for row in self._db.songs.values() if self._matches(row, query, q=query.q)]
            after = query.after if isinstance(query.after, After) else None
            key = memory_sort_key(sort.field)
            page = memory_page(rows, sort, after, query.offset, query.limit, key=key)
        return [SongRecord(**row) for row in page]

    def get_view(self, song_id: int, viewer_id: int | None) -> SongView | None:
        song = self.get(song_id)
        return self._view(song, viewer_id) if song else None

    def list_views(self, query: SongQuery, viewer_id: int | None) -> list[SongView]:
        with self._db.lock:
            return [self._view(song, viewer_id) for song in self._list(query)]

    def _view(self, song: SongRecord, viewer_id: int | None) -> SongView:
        return memory_song_view(self._db, song, viewer_id)

    def update(self, song_id: int, changes: dict[str, Any]) -> SongRecord | None:
        with self._db.lock:
            row = self._db.songs.get(song_id)
            if row is None:
                return None
            row.update(_with_artist_id(self._db, changes), updated_at=utcnow())
            return SongRecord(**row)

    def delete(self, song_id: int) -> bool:
        return self._db.delete_song(song_id)

    def _matches(self, row: dict[str, Any], query: SongQuery, *, q: str | None) -> bool:
        if not memory_matches(row, q=q, genre=query.genre, artist=query.artist):
            return False
        return query.album_id is None or (query.album_id, row["id"]) in self._db.album_songs


class InMemoryLikeRepository:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    def like(self, user_id: int, song_id: int) -> int:
        with self._db.lock:
            if song_id not in self._db.songs:
                raise SongNotFoundError
            if user_id not in self._db.users:
                raise AccountGoneError
            self._db.user_likes.setdefault(
                (user_id, song_id), {"user_id": user_id, "song_id": song_id, "created_at": utcnow()}
            )
            return self._count(song_id)

    def unlike(self, user_id: int, song_id: int) -> int:
        with self._db.lock:
            if song_id not in self._db.songs:
                raise SongNotFoundError
            self._db.user_likes.pop((user_id, song_id), None)
            return self._count(song_id)

    def counts(self, song_ids: list[int]) -> dict[int, int]:
        with self._db.lock:
            return {song_id: self._count(song_id) for song_id in song_ids}

    def liked_songs(
        self, user_id: int, *, after: After | None, offset: int, limit: int
    ) -> list[LikedSong]:
        with self._db.lock:
            likes = [
                {"id": like["song_id"], "liked_at": like["created_at"]}
                for (owner, _), like in self._db.user_likes.items()
                if owner == user_id
            ]
            page = memory_page(likes, NEWEST_LIKE_FIRST, after, offset, limit)
            return [
                LikedSong(SongRecord(**self._db.songs[like["id"]]), like["liked_at"])
                for like in page
            ]

    def _count(self, song_id: int) -> int:
        return sum(1 for (_, liked) in self._db.user_likes if liked == song_id)


class InMemorySongUnitOfWork(MemoryUnitOfWork):
    """song_service's unit of work over the shared MemoryDatabase."""

    songs: InMemorySongRepository
    likes: InMemoryLikeRepository
    plays: InMemoryPlayRepository
    search: InMemorySearchRepository
    playlists: InMemoryPlaylistRepository
    covers: InMemoryCoverRepository
    media: InMemoryMediaRepository
    scans: InMemoryScanRepository
    imports: InMemoryImportRepository

    def bind(self, db: MemoryDatabase) -> None:
        self.songs = InMemorySongRepository(db)
        self.likes = InMemoryLikeRepository(db)
        self.plays = InMemoryPlayRepository(db)
        self.search = InMemorySearchRepository(db)
        self.playlists = InMemoryPlaylistRepository(db)
        self.covers = InMemoryCoverRepository(db)
        self.media = InMemoryMediaRepository(db)
        self.scans = InMemoryScanRepository(db)
        self.imports = InMemoryImportRepository(db)


def _with_artist_id(db: MemoryDatabase, values: dict[str, Any]) -> dict[str, Any]:
    """As the SQL repository's: `values` with the `artist_id` of its `artist`."""
    if values.get("artist") is None or values.get("artist_id") is not None:
        return values
    return values | {"artist_id": memory_artist_id_for(db, values["artist"])}
