"""Covers' sources (covers_base) over the shared MemoryDatabase; the same answers
as covers_sql."""

from __future__ import annotations

from album_service.repos.artists_memory import _release_key
from database.memory import MemoryDatabase
from media.covers import NO_COVER, AudioArt, CoverSource


class InMemoryCoverRepository:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    def album_cover(self, album_id: int) -> CoverSource | None:
        with self._db.lock:
            album = self._db.albums.get(album_id)
            if album is None:
                return None
            art = self._first_track_art(album_id)
            return CoverSource(art=art, url=album.get("cover_image_url"))

    def artist_cover(self, artist_id: int) -> CoverSource | None:
        with self._db.lock:
            if artist_id not in self._db.artists:
                return None
            albums = self._db.albums.values()
            owned = [album for album in albums if album.get("artist_id") == artist_id]
            owned.sort(key=_release_key)  # the artist's `cover` order: newest first
            for album in owned:
                art = self._first_track_art(album["id"])
                if art is not None or album.get("cover_image_url") is not None:
                    return CoverSource(art=art, url=album.get("cover_image_url"))
            return NO_COVER

    def _first_track_art(self, album_id: int) -> AudioArt | None:
        tracks = sorted(
            (link.get("disc_number", 1), link["track_number"], song_id)
            for (owner, song_id), link in self._db.album_songs.items()
            if owner == album_id
        )
        for _, _, song_id in tracks:
            media = self._db.media_files.get(song_id)
            if media is not None and (media["embedded_cover"] or media["cover_path"]):
                return AudioArt(
                    media["root"],
                    media["path"],
                    media["checksum"],
                    bool(media["embedded_cover"]),
                    media["cover_path"],
                )
        return None
