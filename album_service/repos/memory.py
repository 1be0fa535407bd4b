"""In-memory albums and album-song links over the shared MemoryDatabase; held to the
SQL behaviour by the contract suite."""

from __future__ import annotations

from typing import Any

from album_service.repos.artists_memory import (
    InMemoryArtistLikeRepository,
    InMemoryArtistRepository,
)
from album_service.repos.base import (
    DEFAULT_SORT,
    AlbumNotFoundError,
    AlbumQuery,
    AlbumRecord,
    AlbumView,
    LikedAlbum,
    LinkRecord,
    SongNotFoundError,
    TrackRecord,
    track_position,
)
from album_service.repos.covers_memory import InMemoryCoverRepository
from album_service.repos.likes_memory import MemoryLikes, liked_rows
from album_service.repos.views_memory import memory_album_view
from database.artists import memory_artist_id_for
from database.catalogue import memory_matches, memory_sort_key
from database.keyset import After, memory_page
from database.media import MediaFile, memory_media_of_songs
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

    def get_view(self, album_id: int, viewer_id: int | None) -> AlbumView | None:
        with self._db.lock:
            album = self.get(album_id)
            return memory_album_view(self._db, album, viewer_id) if album else None

    def list_views(self, query: AlbumQuery, viewer_id: int | None) -> list[AlbumView]:
        with self._db.lock:
            return [memory_album_view(self._db, album, viewer_id) for album in self.list(query)]

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

    def media_of(self, song_ids: list[int]) -> dict[int, MediaFile]:
        return memory_media_of_songs(self._db, song_ids)

    def tracks(
        self, album_id: int, *, after: After | None, offset: int, limit: int
    ) -> list[TrackRecord]:
        with self._db.lock:
            rows = [
                {
                    **self._db.songs[song_id],
                    "disc_number": link.get("disc_number", 1),
                    "track_number": link["track_number"],
                }
                for (owner, song_id), link in self._db.album_songs.items()
                if owner == album_id
            ]
            rows.sort(key=_track_key)
            if after is not None:
                boundary = (*track_position(after), after.id)
                rows = [row for row in rows if _track_key(row) > boundary]
            return [TrackRecord(**row) for row in rows[offset : offset + limit]]

    def link(
        self,
        album_id: int,
        song_id: int,
        track_number: int | None,
        disc_number: int | None = None,
    ) -> LinkRecord:
        with self._db.lock:
            if album_id not in self._db.albums:
                raise AlbumNotFoundError
            if song_id not in self._db.songs:
                raise SongNotFoundError
            row = self._db.album_songs.get((album_id, song_id))
            if row is None:
                disc = 1 if disc_number is None else disc_number
                number = (
                    self._next_track_number(album_id, disc)
                    if track_number is None
                    else track_number
                )
                row = {
                    "album_id": album_id,
                    "song_id": song_id,
                    "disc_number": disc,
                    "track_number": number,
                }
                self._db.album_songs[(album_id, song_id)] = row
                return LinkRecord(**row)
            current_disc = row.get("disc_number", 1)
            disc = current_disc if disc_number is None else disc_number
            if track_number is not None:
                number = track_number
            elif disc != current_disc:  # moved to another disc: last there
                number = self._next_track_number(album_id, disc)
            else:
                number = row["track_number"]
            row.update(disc_number=disc, track_number=number)
            return LinkRecord(**row)

    def unlink(self, album_id: int, song_id: int) -> bool:
        with self._db.lock:
            if album_id not in self._db.albums:
                raise AlbumNotFoundError
            return self._db.album_songs.pop((album_id, song_id), None) is not None

    def _next_track_number(self, album_id: int, disc_number: int = 1) -> int:
        numbers = [
            link["track_number"]
            for (owner, _), link in self._db.album_songs.items()
            if owner == album_id and link.get("disc_number", 1) == disc_number
        ]
        return max(numbers, default=0) + 1


def _track_key(row: dict[str, Any]) -> tuple[int, int, int]:
    return row["disc_number"], row["track_number"], row["id"]


class InMemoryAlbumLikeRepository:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db
        self._likes = MemoryLikes(db, "album_likes", "albums", "album_id", AlbumNotFoundError)

    def like(self, user_id: int, album_id: int) -> int:
        return self._likes.like(user_id, album_id)

    def unlike(self, user_id: int, album_id: int) -> int:
        return self._likes.unlike(user_id, album_id)

    def liked(
        self, user_id: int, *, after: After | None, offset: int, limit: int
    ) -> list[LikedAlbum]:
        with self._db.lock:
            return [
                LikedAlbum(
                    memory_album_view(self._db, AlbumRecord(**self._db.albums[row_id]), user_id),
                    liked_at,
                )
                for row_id, liked_at in liked_rows(
                    self._db.album_likes, user_id, after=after, offset=offset, limit=limit
                )
            ]


def _matches(row: dict[str, Any], query: AlbumQuery, *, q: str | None) -> bool:
    return memory_matches(row, q=q, genre=query.genre, artist=query.artist)


class InMemoryAlbumUnitOfWork(MemoryUnitOfWork):
    """album_service's unit of work over the shared MemoryDatabase."""

    albums: InMemoryAlbumRepository
    album_likes: InMemoryAlbumLikeRepository
    artists: InMemoryArtistRepository
    artist_likes: InMemoryArtistLikeRepository
    covers: InMemoryCoverRepository

    def bind(self, db: MemoryDatabase) -> None:
        self.albums = InMemoryAlbumRepository(db)
        self.album_likes = InMemoryAlbumLikeRepository(db)
        self.artists = InMemoryArtistRepository(db)
        self.artist_likes = InMemoryArtistLikeRepository(db)
        self.covers = InMemoryCoverRepository(db)


def _with_artist_id(db: MemoryDatabase, values: dict[str, Any]) -> dict[str, Any]:
    """As the SQL repository's: `values` with the `artist_id` of its `artist`."""
    if values.get("artist") is None:
        return values
    return values | {"artist_id": memory_artist_id_for(db, values["artist"])}
