"""A song as the API shows it, computed over the MemoryDatabase: what views_sql
reads in SQL, for every in-memory repository of song_service."""

from __future__ import annotations

from database.memory import MemoryDatabase
from song_service.repos.base import SongRecord, SongView


def memory_song_view(db: MemoryDatabase, song: SongRecord, viewer_id: int | None) -> SongView:
    """`song` with its like and play state for `viewer_id` (None: anonymous, whose
    own state is None). The caller holds the store's lock."""
    likers = [user for (user, liked) in db.user_likes if liked == song.id]
    plays = [(user, played_at) for (user, played_at, played) in db.plays if played == song.id]
    if viewer_id is None:
        return SongView(song, len(likers), None, len(plays))
    mine = [played_at for user, played_at in plays if user == viewer_id]
    return SongView(
        song, len(likers), viewer_id in likers, len(plays), len(mine), max(mine, default=None)
    )
