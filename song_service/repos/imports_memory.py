"""An imported file's artist, album and track link in the MemoryDatabase: the
same answers as imports_sql."""

from __future__ import annotations

from datetime import date

from database.albums import memory_album_id_for, memory_link_track
from database.artists import memory_artist_id_for
from database.memory import MemoryDatabase


class InMemoryImportRepository:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    def artist_id(self, name: str) -> int:
        return memory_artist_id_for(self._db, name)

    def album_id(
        self, *, title: str, artist: str, artist_id: int, genre: str, release_date: date | None
    ) -> int:
        return memory_album_id_for(
            self._db,
            title=title,
            artist=artist,
            artist_id=artist_id,
            genre=genre,
            release_date=release_date,
        )

    def link_track(self, *, album_id: int, song_id: int, disc: int, track: int | None) -> int:
        return memory_link_track(
            self._db, album_id=album_id, song_id=song_id, disc=disc, track=track
        )
