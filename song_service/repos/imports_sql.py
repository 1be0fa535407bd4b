"""An imported file's artist, album and track link, in SQL: the documented
exception to album_service's ownership (README, "Who owns which table"), through
the shared insert-only writers database.artists and database.albums."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection

from database.albums import album_id_for, link_track
from database.artists import artist_id_for


class SqlImportRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def artist_id(self, name: str) -> int:
        return artist_id_for(self._connection, name)

    def album_id(
        self, *, title: str, artist: str, artist_id: int, genre: str, release_date: date | None
    ) -> int:
        return album_id_for(
            self._connection,
            title=title,
            artist=artist,
            artist_id=artist_id,
            genre=genre,
            release_date=release_date,
        )

    def link_track(self, *, album_id: int, song_id: int, disc: int, track: int | None) -> int:
        return link_track(
            self._connection, album_id=album_id, song_id=song_id, disc=disc, track=track
        )
