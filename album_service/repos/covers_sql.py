"""Covers' sources (covers_base) from the shared SQL database: the statements and
the album and artist rules are database.covers', shared with song_service and
subsonic_service; this repository only binds them to the unit's connection."""

from __future__ import annotations

from sqlalchemy import Connection

from database import covers
from media.covers import CoverSource


class SqlCoverRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def album_cover(self, album_id: int) -> CoverSource | None:
        return covers.album_cover(self._connection, album_id)

    def artist_cover(self, artist_id: int) -> CoverSource | None:
        return covers.artist_cover(self._connection, artist_id)
