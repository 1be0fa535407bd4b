"""Covers' sources (covers_base) from the shared SQL database: the statements and
the song and playlist rules are database.covers', shared with album_service and
subsonic_service; this repository only binds them to the unit's connection."""

from __future__ import annotations

from sqlalchemy import Connection

from database import covers
from media.covers import CoverSource


class SqlCoverRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def song_cover(self, song_id: int) -> CoverSource | None:
        return covers.song_cover(self._connection, song_id)

    def playlist_cover(self, playlist_id: int) -> CoverSource:
        return covers.playlist_cover(self._connection, playlist_id)
