"""Listening history in the shared SQL database (table `plays`, primary key
(user_id, played_at, song_id)). Runs on the unit of work's connection; never
commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, bindparam, exists, func, insert, select
from sqlalchemy.exc import IntegrityError

from common.errors import AccountGoneError
from database.keyset import After, sql_after, sql_order
from database.tables import plays, songs, users
from song_service.repos.base import SongNotFoundError
from song_service.repos.plays_base import (
    NEWEST_PLAY_FIRST,
    PlayedSong,
    PlayResult,
    PlayState,
    TopSong,
)
from song_service.repos.views_sql import (
    PLAY_STATE,
    SONG_COLUMNS,
    VIEW_STATE,
    VIEW_WIDTH,
    song_view,
    viewer_params,
)

SONG_EXISTS = select(songs.c.id).where(songs.c.id == bindparam("song_id"))
USER_EXISTS = select(users.c.id).where(users.c.id == bindparam("user_id"))
PLAY_EXISTS = select(
    exists().where(
        plays.c.user_id == bindparam("user_id"),
        plays.c.played_at == bindparam("played_at", type_=plays.c.played_at.type),
        plays.c.song_id == bindparam("song_id"),
    )
)
INSERT_PLAY = insert(plays)
PLAY_COUNT = select(func.count()).select_from(plays).where(plays.c.song_id == bindparam("song_id"))
# The user's plays newest first: a backward walk of the user's primary key range.
HISTORY = (
    select(*SONG_COLUMNS, *VIEW_STATE, plays.c.played_at)
    .select_from(plays.join(songs, songs.c.id == plays.c.song_id))
    .where(plays.c.user_id == bindparam("user_id"))
)


class SqlPlayRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def record(self, user_id: int, song_id: int, played_at: datetime) -> PlayResult:
        key = {"user_id": user_id, "song_id": song_id, "played_at": played_at}
        if self._connection.execute(SONG_EXISTS, key).first() is None:
            raise SongNotFoundError
        created = False
        # A repeated scrobble is the common duplicate: a read answers it without
        # provoking (and logging) a key violation.
        if not self._connection.scalar(PLAY_EXISTS, key):
            try:
                # A savepoint: a key violation then undoes only the insert, and the
                # unit's transaction goes on to read the count.
                with self._connection.begin_nested():
                    self._connection.execute(INSERT_PLAY, key)
                created = True
            except IntegrityError as exc:
                self._diagnose(key, exc)
        return PlayResult(created, self._connection.scalar(PLAY_COUNT, key))

    def _diagnose(self, key: dict[str, object], exc: IntegrityError) -> None:
        """Why the insert failed: a rival request recorded the same play first
        (READ COMMITTED: its committed row is visible now; a duplicate, fine), the
        song was deleted meanwhile, or the caller's account is gone."""
        if self._connection.scalar(PLAY_EXISTS, key):
            return
        if self._connection.execute(SONG_EXISTS, key).first() is None:
            raise SongNotFoundError from exc
        if self._connection.execute(USER_EXISTS, key).first() is None:
            raise AccountGoneError from exc
        raise exc

    def history(
        self, user_id: int, *, after: After | None, offset: int, limit: int
    ) -> list[PlayedSong]:
        statement = HISTORY
        if after is not None:
            statement = statement.where(
                sql_after(plays.c.played_at, plays.c.song_id, NEWEST_PLAY_FIRST, after)
            )
        statement = (
            statement.order_by(*sql_order(plays.c.played_at, plays.c.song_id, NEWEST_PLAY_FIRST))
            .offset(offset)
            .limit(limit)
        )
        rows = self._connection.execute(
            statement, viewer_params(user_id) | {"user_id": user_id}
        ).all()
        return [PlayedSong(song_view(row, user_id), row[VIEW_WIDTH]) for row in rows]

    def top(
        self, user_id: int, *, since: datetime | None, offset: int, limit: int
    ) -> list[TopSong]:
        # The user's plays in the period are one range of the primary key
        # (user_id, played_at, ...), counted per song before the join.
        conditions = [plays.c.user_id == user_id]
        if since is not None:
            conditions.append(plays.c.played_at >= since)
        counted = (
            select(plays.c.song_id, func.count().label("plays"))
            .where(*conditions)
            .group_by(plays.c.song_id)
            .subquery("counted")
        )
        statement = (
            select(*SONG_COLUMNS, *VIEW_STATE, counted.c.plays)
            .join_from(songs, counted, counted.c.song_id == songs.c.id)
            .order_by(counted.c.plays.desc(), songs.c.id)
            .offset(offset)
            .limit(limit)
        )
        rows = self._connection.execute(statement, viewer_params(user_id)).all()
        return [TopSong(song_view(row, user_id), row[VIEW_WIDTH]) for row in rows]

    def states(self, song_ids: list[int], viewer_id: int | None) -> dict[int, PlayState]:
        if not song_ids:
            return {}
        statement = select(songs.c.id, *PLAY_STATE).where(songs.c.id.in_(song_ids))
        mine = viewer_id is not None
        found = {
            row[0]: PlayState(row[1], row[2] if mine else None, row[3] if mine else None)
            for row in self._connection.execute(statement, viewer_params(viewer_id))
        }
        none = PlayState(0, 0 if mine else None, None)
        return {song_id: found.get(song_id, none) for song_id in song_ids}
