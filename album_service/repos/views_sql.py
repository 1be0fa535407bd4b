"""An album's columns with its counts and the viewer's like, as SQL: shared by the
album repositories and the artist repository (an artist's albums)."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from sqlalchemy import bindparam, exists, func, select

from album_service.repos.base import AlbumRecord, AlbumView
from database.tables import album_likes, album_songs, albums, songs

ALBUM_COLUMNS = [albums.c[field.name] for field in fields(AlbumRecord)]
ALBUM_WIDTH = len(ALBUM_COLUMNS)
# An album's counts and the viewer's like as correlated scalar subqueries: one
# statement per read or page instead of five. Built once, so requests only bind
# `viewer_id` (song_service.repos.sql does the same for songs).
ALBUM_STATE = [
    select(func.count())
    .select_from(album_songs)
    .where(album_songs.c.album_id == albums.c.id)
    .scalar_subquery()
    .label("song_count"),
    # Songs without a duration add nothing; an album without songs lasts 0 s.
    select(func.coalesce(func.sum(songs.c.duration), 0))
    .select_from(album_songs.join(songs, songs.c.id == album_songs.c.song_id))
    .where(album_songs.c.album_id == albums.c.id)
    .scalar_subquery()
    .label("duration"),
    select(func.count())
    .select_from(album_likes)
    .where(album_likes.c.album_id == albums.c.id)
    .scalar_subquery()
    .label("like_count"),
    exists()
    .where(album_likes.c.album_id == albums.c.id, album_likes.c.user_id == bindparam("viewer_id"))
    .label("liked_by_me"),
]
VIEW_BY_ID = select(*ALBUM_COLUMNS, *ALBUM_STATE).where(albums.c.id == bindparam("album_id"))


def viewer_params(viewer_id: int | None) -> dict[str, int]:
    return {"viewer_id": 0 if viewer_id is None else viewer_id}  # no account has id 0


def album_view(row: Any, viewer_id: int | None) -> AlbumView:
    """A row of (album columns..., song_count, duration, like_count, liked_by_me,
    anything else) as a view. Positional: pages build fifty of these."""
    song_count, duration, like_count, liked = row[ALBUM_WIDTH : ALBUM_WIDTH + 4]
    return AlbumView(
        AlbumRecord(*row[:ALBUM_WIDTH]),
        int(song_count),
        # MariaDB sums integers as DECIMAL.
        int(duration),
        int(like_count),
        None if viewer_id is None else bool(liked),
    )
