"""Covers' sources (covers_base) over the shared MemoryDatabase; the same answers
as covers_sql."""

from __future__ import annotations

from typing import Any

from database.memory import MemoryDatabase
from media.covers import NO_COVER, AudioArt, CoverSource


def memory_cover_source(db: MemoryDatabase, song: dict[str, Any]) -> CoverSource:
    """The song rule's sources for a songs row (covers_sql.cover_source)."""
    media = db.media_files.get(song["id"])
    art = None
    if media is not None and (media["embedded_cover"] or media["cover_path"]):
        art = AudioArt(
            media["root"],
            media["path"],
            media["checksum"],
            bool(media["embedded_cover"]),
            media["cover_path"],
        )
    return CoverSource(art=art, url=song.get("cover_image_url"))


class InMemoryCoverRepository:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    def song_cover(self, song_id: int) -> CoverSource | None:
        with self._db.lock:
            song = self._db.songs.get(song_id)
            return memory_cover_source(self._db, song) if song else None

    def playlist_cover(self, playlist_id: int) -> CoverSource:
        with self._db.lock:
            entries = sorted(
                (position, row["song_id"])
                for (owner, position), row in self._db.playlist_songs.items()
                if owner == playlist_id
            )
            for _, song_id in entries:
                source = memory_cover_source(self._db, self._db.songs[song_id])
                if source != NO_COVER:
                    return source
            return NO_COVER
