"""An album's view over the shared MemoryDatabase, as views_sql computes it in SQL:
shared by the album repositories and the artist repository (an artist's albums)."""

from __future__ import annotations

from album_service.repos.base import AlbumRecord, AlbumView
from database.memory import MemoryDatabase


def memory_album_view(db: MemoryDatabase, album: AlbumRecord, viewer_id: int | None) -> AlbumView:
    """The album's view as the SQL ALBUM_STATE computes it (call under db.lock)."""
    song_ids = [song for (owner, song) in db.album_songs if owner == album.id]
    duration = sum(db.songs[song].get("duration") or 0 for song in song_ids)
    likers = [user for (user, liked) in db.album_likes if liked == album.id]
    mine = None if viewer_id is None else viewer_id in likers
    return AlbumView(album, len(song_ids), duration, len(likers), mine)
