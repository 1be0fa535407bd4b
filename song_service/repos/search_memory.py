"""In-memory search and genres over the shared MemoryDatabase; the same ranks as
the SQL (database.search.memory_search), held to it by the contract suite."""

from __future__ import annotations

from typing import Any

from database.memory import MemoryDatabase
from database.search import memory_search
from database.tables import folded_key
from song_service.repos.base import SongRecord, SongView
from song_service.repos.search_base import AlbumSummary, ArtistSummary, GenreSummary
from song_service.repos.views_memory import memory_song_view


class InMemorySearchRepository:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    def artists(self, q: str, *, offset: int, limit: int) -> list[ArtistSummary]:
        with self._db.lock:
            page = memory_search(self._db.artists.values(), q, offset=offset, limit=limit)
            return [self._artist(row) for row in page]

    def albums(self, q: str, *, offset: int, limit: int) -> list[AlbumSummary]:
        with self._db.lock:
            page = memory_search(self._db.albums.values(), q, offset=offset, limit=limit)
            return [self._album(row) for row in page]

    def songs(self, q: str, *, offset: int, limit: int, viewer_id: int | None) -> list[SongView]:
        with self._db.lock:
            page = memory_search(self._db.songs.values(), q, offset=offset, limit=limit)
            return [memory_song_view(self._db, SongRecord(**row), viewer_id) for row in page]

    def genres(self, *, offset: int, limit: int) -> list[GenreSummary]:
        with self._db.lock:
            # (name, song count, album count) per key; rows in id order, so the
            # first name seen is the lowest-id song's, else the lowest-id album's.
            genres: dict[str, list[Any]] = {}
            for count, table in ((1, self._db.songs), (2, self._db.albums)):
                for row_id in sorted(table):
                    genre = table[row_id]["genre"]
                    entry = genres.setdefault(folded_key("genre", genre), [genre, 0, 0])
                    entry[count] += 1
            keys = sorted(genres)[offset : offset + limit]
            return [GenreSummary(key, *genres[key]) for key in keys]

    def _artist(self, row: dict[str, Any]) -> ArtistSummary:
        return ArtistSummary(
            row["id"],
            row["name"],
            row["sort_name"],
            sum(1 for album in self._db.albums.values() if album.get("artist_id") == row["id"]),
            sum(1 for song in self._db.songs.values() if song.get("artist_id") == row["id"]),
        )

    def _album(self, row: dict[str, Any]) -> AlbumSummary:
        linked = [song for (album, song) in self._db.album_songs if album == row["id"]]
        duration = sum(self._db.songs[song].get("duration") or 0 for song in linked)
        return AlbumSummary(
            row["id"], row["title"], row["artist"], row.get("artist_id"), row["genre"],
            row.get("release_date"), row.get("cover_image_url"), len(linked), duration,
            row["created_at"], row["updated_at"],
        )  # fmt: skip
