"""In-memory albums and album-song links over the shared MemoryDatabase; held to the
SQL behaviour by the contract suite."""

from __future__ import annotations

from typing import Any

from album_service.repos.base import (
    DEFAULT_SORT,
    TRACK_ORDER,
    AlbumNotFoundError,
    AlbumQuery,
    AlbumRecord,
    LinkRecord,
    SongNotFoundError,
    TrackRecord,
)
from database.artists import memory_artist_id_for
from database.catalogue import memory_matches, memory_sort_key
from database.keyset import After, memory_page
from database.memory import MemoryDatabase
from database.search import SearchRank, memory_search
from database.types import utcnow
from database.unit_of_work import MemoryUnitOfWork

OPTIONAL_COLUMNS = {"description": None, "cover_image_url": None, "release_date": None}


class InMemoryAlbumRepository:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    def add(self, fields: dict[str, Any]) -> AlbumRecord:
        return AlbumRecord(
            **self._db.insert("albums", _with_artist_id(self._db, fields), OPTIONAL_COLUMNS)
        )

    def get(self, album_id: int) -> AlbumRecord | None:
        row = self._db.albums.get(album_id)
        return AlbumRecord(**row) if row else None

    def list(self, query: AlbumQuery) -> list[AlbumRecord]:
        with self._db.lock:
            if query.ranked:
                assert query.q is not None  # noqa: S101 - AlbumQuery.ranked says so
                rows = [row for row in self._db.albums.values() if _matches(row, query, q=None)]
                after = query.after if isinstance(query.after, SearchRank) else None
                page = memory_search(
                    rows, query.q, offset=query.offset, limit=query.limit, after=after
                )
            else:
                sort = query.sort or DEFAULT_SORT
                rows = [row for row in self._db.albums.values() if _matches(row, query, q=query.q)]
                after = query.after if isinstance(query.after, After) else None
                key = memory_sort_key(sort.field)
                page = memory_page(rows, sort, after, query.offset, query.limit, key=key)
            return [AlbumRecord(**row) for row in page]

    def update(self, album_id: int, changes: dict[str, Any]) -> AlbumRecord | None:
        with self._db.lock:
            row = self._db.albums.get(album_id)
            if row is None:
                return None
            row.update(_with_artist_id(self._db, changes), updated_at=utcnow())
            return AlbumRecord(**row)

    def delete(self, album_id: int) -> bool:
        return self._db.delete_album(album_id)

    def tracks(
        self, album_id: int, *, after: After | None, offset: int, limit: int
    ) -> list[TrackRecord]:
        with self._db.lock:
            # Rows keyed by song id, so memory_page breaks track-number ties by it.
            rows = [
                {**self._db.songs[song_id], "track_number": link["track_number"]}
                for (owner, song_id), link in self._db.album_songs.items()
                if owner == album_id
            ]
            page = memory_page(rows, TRACK_ORDER, after, offset, limit)
            return [TrackRecord(**row) for row in page]

    def link(self, album_id: int, song_id: int, track_number: int | None) -> LinkRecord:
        with self._db.lock:
            if album_id not in self._db.albums:
                raise AlbumNotFoundError
            if song_id not in self._db.songs:
                raise SongNotFoundError
            row = self._db.album_songs.get((album_id, song_id))
            if row is None:
                row = {
                    "album_id": album_id,
                    "song_id": song_id,
                    "track_number": (
                        self._next_track_number(album_id) if track_number is None else track_number
                    ),
                }
                self._db.album_songs[(album_id, song_id)] = row
            elif track_number is not None:
                row["track_number"] = track_number
            return LinkRecord(**row)

    def unlink(self, album_id: int, song_id: int) -> bool:
        with self._db.lock:
            if album_id not in self._db.albums:
                raise AlbumNotFoundError
            return self._db.album_songs.pop((album_id, song_id), None) is not None

    def _next_track_number(self, album_id: int) -> int:
        numbers = [
            link["track_number"]
            for (owner, _), link in self._db.album_songs.items()
            if owner == album_id
        ]
        return max(numbers, default=0) + 1


def _matches(row: dict[str, Any], query: AlbumQuery, *, q: str | None) -> bool:
    return memory_matches(row, q=q, genre=query.genre, artist=query.artist)


class InMemoryAlbumUnitOfWork(MemoryUnitOfWork):
    """album_service's unit of work over the shared MemoryDatabase."""

    albums: InMemoryAlbumRepository

    def bind(self, db: MemoryDatabase) -> None:
        self.albums = InMemoryAlbumRepository(db)


def _with_artist_id(db: MemoryDatabase, values: dict[str, Any]) -> dict[str, Any]:
    """As the SQL repository's: `values` with the `artist_id` of its `artist`."""
    if values.get("artist") is None:
        return values
    return values | {"artist_id": memory_artist_id_for(db, values["artist"])}
