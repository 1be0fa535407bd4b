"""Songs and likes in the shared SQL database, with Core statements mapped to
records. Each method is one unit of work on a pooled connection of its own: reads
give the connection back as soon as they have their rows, writes commit."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from database.catalogue import sql_filters
from database.engine import Database
from database.keyset import After, Sort, sql_after, sql_order
from database.models import AlbumSong, Song, User, UserLike
from database.types import utcnow
from database.writes import insert_stamped
from song_service.repos.base import (
    NEWEST_LIKE_FIRST,
    AccountGoneError,
    LikedSong,
    SongNotFoundError,
    SongQuery,
    SongRecord,
    SongView,
)

songs = Song.__table__
likes = UserLike.__table__
album_songs = AlbumSong.__table__
SONG_COLUMNS = [songs.c[name] for name in SongRecord._fields]
SONG_WIDTH = len(SONG_COLUMNS)
# The like count and the viewer's like as correlated subqueries: one statement
# per read instead of three. Built once: making an expression costs more than
# running it, so requests only bind values (`viewer_id`, `song_id`).
LIKE_STATE = [
    select(func.count()).where(likes.c.song_id == songs.c.id).scalar_subquery().label("like_count"),
    exists()
    .where(likes.c.song_id == songs.c.id, likes.c.user_id == bindparam("viewer_id"))
    .label("liked_by_me"),
]
VIEW_BY_ID = select(*SONG_COLUMNS, *LIKE_STATE).where(songs.c.id == bindparam("song_id"))
# A like or unlike: whether the song exists and the user likes it, in one
# statement, then the change, then the count; all bound by (user_id, song_id).
SONG_AND_LIKE = select(
    exists().where(songs.c.id == bindparam("song_id")),
    exists().where(
        likes.c.song_id == bindparam("song_id"), likes.c.user_id == bindparam("user_id")
    ),
)
INSERT_LIKE = insert(likes)
DELETE_LIKE = delete(likes).where(
    likes.c.user_id == bindparam("user_id"), likes.c.song_id == bindparam("song_id")
)
LIKE_COUNT = select(func.count()).select_from(likes).where(likes.c.song_id == bindparam("song_id"))


def _record(row: Any) -> SongRecord:
    return SongRecord(*row)


class SqlSongRepository:
    def __init__(self, database: Database) -> None:
        self._database = database

    def add(self, values: dict[str, Any]) -> SongRecord:
        with self._database.connect(write=True) as connection:
            song = _select(connection, insert_stamped(connection, songs, values))
            connection.commit()
        if song is None:  # cannot happen: read inside the inserting transaction
            raise SongNotFoundError
        return song

    def get(self, song_id: int) -> SongRecord | None:
        with self._database.connect() as connection:
            return _select(connection, song_id)

    def list(self, query: SongQuery) -> list[SongRecord]:
        with self._database.connect() as connection:
            return [
                _record(row) for row in connection.execute(_paged(select(*SONG_COLUMNS), query))
            ]

    def get_view(self, song_id: int, viewer_id: int | None) -> SongView | None:
        with self._database.connect() as connection:
            row = connection.execute(VIEW_BY_ID, _viewer(viewer_id) | {"song_id": song_id}).first()
        return _view(row, viewer_id) if row else None

    def list_views(self, query: SongQuery, viewer_id: int | None) -> list[SongView]:
        params = _viewer(viewer_id)
        if _is_browsing(query):
            statement = _browsing_page(query.sort, keyset=query.after is not None)
            params |= {"offset": query.offset, "limit": query.limit}
            if query.after is not None:
                params |= {"after_value": query.after.value, "after_id": query.after.id}
        else:
            statement = _paged(select(*SONG_COLUMNS, *LIKE_STATE), query)
        with self._database.connect() as connection:
            rows = connection.execute(statement, params).all()
        return [_view(row, viewer_id) for row in rows]

    def update(self, song_id: int, changes: dict[str, Any]) -> SongRecord | None:
        with self._database.connect(write=True) as connection:
            connection.execute(
                update(songs).where(songs.c.id == song_id).values(**changes, updated_at=utcnow())
            )
            song = _select(connection, song_id)
            connection.commit()
        return song

    def delete(self, song_id: int) -> bool:
        with self._database.connect(write=True) as connection:
            deleted = connection.execute(delete(songs).where(songs.c.id == song_id)).rowcount
            connection.commit()
        return deleted > 0


def _select(connection: Connection, song_id: int) -> SongRecord | None:
    row = connection.execute(select(*SONG_COLUMNS).where(songs.c.id == song_id)).first()
    return _record(row) if row else None


def _paged(statement: Select[Any], query: SongQuery) -> Select[Any]:
    statement = _filtered(statement, query)
    column = songs.c[query.sort.field]
    if query.after is not None:
        statement = statement.where(sql_after(column, songs.c.id, query.sort, query.after))
    statement = statement.order_by(*sql_order(column, songs.c.id, query.sort))
    return statement.offset(query.offset).limit(query.limit)


def _is_browsing(query: SongQuery) -> bool:
    return (
        query.q is None and query.genre is None and query.artist is None and query.album_id is None
    )


@functools.cache
def _browsing_page(sort: Sort, *, keyset: bool) -> Select[Any]:
    """A page without filters, the commonest request, as one statement per sort built
    once with bind parameters: building and cache-keying the expression per request
    cost more than SQLite took to run it."""
    column = songs.c[sort.field]
    statement = select(*SONG_COLUMNS, *LIKE_STATE)
    if keyset:
        after = After(bindparam("after_value"), bindparam("after_id"))
        statement = statement.where(sql_after(column, songs.c.id, sort, after))
    statement = statement.order_by(*sql_order(column, songs.c.id, sort))
    return statement.offset(bindparam("offset")).limit(bindparam("limit"))


def _viewer(viewer_id: int | None) -> dict[str, int]:
    return {"viewer_id": 0 if viewer_id is None else viewer_id}  # no account has id 0


def _view(row: Any, viewer_id: int | None) -> SongView:
    # Rows come as (song columns..., like_count, liked_by_me): positional is the
    # cheap way in, and pages build fifty of these per request.
    liked = row[SONG_WIDTH + 1]
    return SongView(
        SongRecord(*row[:SONG_WIDTH]),
        row[SONG_WIDTH],
        None if viewer_id is None else bool(liked),
    )


def _filtered(statement: Select[Any], query: SongQuery) -> Select[Any]:
    if query.album_id is not None:
        statement = statement.join(
            album_songs,
            and_(album_songs.c.song_id == songs.c.id, album_songs.c.album_id == query.album_id),
        )
    conditions = sql_filters(songs, q=query.q, genre=query.genre, artist=query.artist)
    return statement.where(*conditions) if conditions else statement


class SqlLikeRepository:
    def __init__(self, database: Database) -> None:
        self._database = database

    def like(self, user_id: int, song_id: int) -> int:
        key = {"user_id": user_id, "song_id": song_id}
        with self._database.connect(write=True) as connection:
            song_exists, liked = connection.execute(SONG_AND_LIKE, key).one()
            if not song_exists:
                raise SongNotFoundError
            if not liked:
                try:
                    connection.execute(INSERT_LIKE, key | {"created_at": utcnow()})
                except IntegrityError:
                    connection.rollback()
                    _explain_failed_like(connection, user_id, song_id)
            count: int = connection.scalar(LIKE_COUNT, key)
            connection.commit()
        return count

    def unlike(self, user_id: int, song_id: int) -> int:
        key = {"user_id": user_id, "song_id": song_id}
        with self._database.connect(write=True) as connection:
            song_exists, liked = connection.execute(SONG_AND_LIKE, key).one()
            if not song_exists:
                raise SongNotFoundError
            if liked:
                connection.execute(DELETE_LIKE, key)
            count: int = connection.scalar(LIKE_COUNT, key)
            connection.commit()
        return count

    def counts(self, song_ids: list[int]) -> dict[int, int]:
        if not song_ids:
            return {}
        statement = (
            select(likes.c.song_id, func.count())
            .where(likes.c.song_id.in_(song_ids))
            .group_by(likes.c.song_id)
        )
        with self._database.connect() as connection:
            found = {song_id: count for song_id, count in connection.execute(statement)}
        return {song_id: found.get(song_id, 0) for song_id in song_ids}

    def liked_among(self, user_id: int, song_ids: list[int]) -> set[int]:
        if not song_ids:
            return set()
        statement = select(likes.c.song_id).where(
            likes.c.user_id == user_id, likes.c.song_id.in_(song_ids)
        )
        with self._database.connect() as connection:
            return set(connection.scalars(statement))

    def liked_songs(
        self, user_id: int, *, after: After | None, offset: int, limit: int
    ) -> list[LikedSong]:
        statement = (
            select(*SONG_COLUMNS, likes.c.created_at.label("liked_at"))
            .join(likes, likes.c.song_id == songs.c.id)
            .where(likes.c.user_id == user_id)
        )
        if after is not None:
            statement = statement.where(
                sql_after(likes.c.created_at, likes.c.song_id, NEWEST_LIKE_FIRST, after)
            )
        statement = statement.order_by(
            *sql_order(likes.c.created_at, likes.c.song_id, NEWEST_LIKE_FIRST)
        )
        with self._database.connect() as connection:
            rows = connection.execute(statement.offset(offset).limit(limit)).all()
        return [LikedSong(_record(row[:SONG_WIDTH]), row[SONG_WIDTH]) for row in rows]


def _explain_failed_like(connection: Connection, user_id: int, song_id: int) -> None:
    """An insert lost a race or hit a foreign key: say which, as the fake does."""
    song_exists, liked = connection.execute(
        SONG_AND_LIKE, {"user_id": user_id, "song_id": song_id}
    ).one()
    if liked:
        return  # another request liked it first: idempotent success
    if not song_exists:
        raise SongNotFoundError
    if not connection.scalar(select(exists().where(User.id == user_id))):
        raise AccountGoneError
    raise RuntimeError("like insert failed for an unknown reason")
