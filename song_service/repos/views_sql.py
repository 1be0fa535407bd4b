"""A song as the API shows it, read in SQL: the song's columns, then its like
state and play state as correlated subqueries, so any read of songs (one song, a
page, a search, a history) stays one statement. Its own module so that every SQL
repository of song_service can select views without importing another one.

The expressions are built once at import: making an expression costs more than
running it, so requests only bind values (`viewer_id`, ...)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, exists, func, null, select

from database.tables import plays, songs
from database.tables import user_likes as likes
from song_service.repos.base import SongRecord, SongView

SONG_COLUMNS = [songs.c[name] for name in SongRecord._fields]
SONG_WIDTH = len(SONG_COLUMNS)
# The like count and the viewer's like.
LIKE_STATE = [
    select(func.count()).where(likes.c.song_id == songs.c.id).scalar_subquery().label("like_count"),
    exists()
    .where(likes.c.song_id == songs.c.id, likes.c.user_id == bindparam("viewer_id"))
    .label("liked_by_me"),
]
# The play count (everyone's) and the viewer's play count and last play: each one
# range of the plays index (song_id, user_id, played_at), the last play its end.
# Correlated to `songs` only: a read of the plays table itself (the history) has
# `plays` in its FROM too, and that one must stay the subquery's own.
_MY_PLAYS = (plays.c.song_id == songs.c.id, plays.c.user_id == bindparam("viewer_id"))
PLAY_STATE = [
    select(func.count())
    .where(plays.c.song_id == songs.c.id)
    .correlate(songs)
    .scalar_subquery()
    .label("play_count"),
    select(func.count())
    .where(*_MY_PLAYS)
    .correlate(songs)
    .scalar_subquery()
    .label("my_play_count"),
    select(func.max(plays.c.played_at))
    .where(*_MY_PLAYS)
    .correlate(songs)
    .scalar_subquery()
    .label("last_played_at"),
]
# Everything a SongView holds beside the song's own columns, in song_view's order.
VIEW_STATE = [*LIKE_STATE, *PLAY_STATE]
VIEW_WIDTH = SONG_WIDTH + len(VIEW_STATE)
# The same for an anonymous caller, who has no state of their own: NULLs in its
# places keep the row's layout without three subqueries per song (a page of 50
# read anonymously is the commonest request; make bench).
ANONYMOUS_STATE = [
    LIKE_STATE[0],
    null().label("liked_by_me"),
    PLAY_STATE[0],
    null().label("my_play_count"),
    null().label("last_played_at"),
]


def view_state(viewer_id: int | None) -> list[Any]:
    """The state columns to select for `viewer_id` (None: anonymous)."""
    return ANONYMOUS_STATE if viewer_id is None else VIEW_STATE


def viewer_params(viewer_id: int | None) -> dict[str, int]:
    """The bind values VIEW_STATE needs: an anonymous caller reads as id 0, which no
    account has (song_view then shows its own state as None)."""
    return {"viewer_id": 0 if viewer_id is None else viewer_id}


def song_view(row: Any, viewer_id: int | None) -> SongView:
    """A row of (SONG_COLUMNS..., VIEW_STATE...) as a SongView; columns after those
    are the caller's. Positional: pages build fifty of these per request."""
    state = row[SONG_WIDTH:VIEW_WIDTH]
    if viewer_id is None:
        return SongView(SongRecord(*row[:SONG_WIDTH]), state[0], None, state[2])
    return SongView(
        SongRecord(*row[:SONG_WIDTH]), state[0], bool(state[1]), state[2], state[3], state[4]
    )
