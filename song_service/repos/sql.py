"""Songs and likes in the shared SQL database, with Core selects mapped to records.
Each write method is one transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, bindparam, delete, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from database.catalogue import sql_filters
from database.engine import releases_connection
from database.keyset import After, sql_after, sql_order
from database.models import AlbumSong, Song, User, UserLike
from database.types import utcnow
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


def _record(row: Any) -> SongRecord:
    return SongRecord(*row)


class SqlSongRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, values: dict[str, Any]) -> SongRecord:
        now = utcnow()
        # No RETURNING: MySQL lacks it on INSERT and MariaDB on UPDATE.
        result = self._session.execute(
            insert(songs).values(**values, created_at=now, updated_at=now)
        )
        song_id = result.inserted_primary_key[0]
        self._session.commit()
        return self._get_required(song_id)

    @releases_connection
    def get(self, song_id: int) -> SongRecord | None:
        row = self._session.execute(select(*SONG_COLUMNS).where(songs.c.id == song_id)).first()
        return _record(row) if row else None

    @releases_connection
    def list(self, query: SongQuery) -> list[SongRecord]:
        return [_record(row) for row in self._session.execute(_paged(select(*SONG_COLUMNS), query))]

    @releases_connection
    def get_view(self, song_id: int, viewer_id: int | None) -> SongView | None:
        row = self._session.execute(VIEW_BY_ID, _viewer(viewer_id) | {"song_id": song_id}).first()
        return _view(row, viewer_id) if row else None

    @releases_connection
    def list_views(self, query: SongQuery, viewer_id: int | None) -> list[SongView]:
        statement = _paged(select(*SONG_COLUMNS, *LIKE_STATE), query)
        rows = self._session.execute(statement, _viewer(viewer_id))
        return [_view(row, viewer_id) for row in rows]

    def update(self, song_id: int, changes: dict[str, Any]) -> SongRecord | None:
        updated = self._session.execute(
            update(songs).where(songs.c.id == song_id).values(**changes, updated_at=utcnow())
        ).rowcount
        self._session.commit()
        return self.get(song_id) if updated else None

    def delete(self, song_id: int) -> bool:
        deleted = self._session.execute(delete(songs).where(songs.c.id == song_id)).rowcount
        self._session.commit()
        return deleted > 0

    def _get_required(self, song_id: int) -> SongRecord:
        song = self.get(song_id)
        if song is None:  # deleted by another request between our commit and read
            raise SongNotFoundError
        return song


def _paged(statement: Select[Any], query: SongQuery) -> Select[Any]:
    statement = _filtered(statement, query)
    column = songs.c[query.sort.field]
    if query.after is not None:
        statement = statement.where(sql_after(column, songs.c.id, query.sort, query.after))
    statement = statement.order_by(*sql_order(column, songs.c.id, query.sort))
    return statement.offset(query.offset).limit(query.limit)


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
    def __init__(self, session: Session) -> None:
        self._session = session

    def like(self, user_id: int, song_id: int) -> int:
        if not self._song_exists(song_id):
            raise SongNotFoundError
        if not self._is_liked(user_id, song_id):
            try:
                self._session.execute(
                    insert(likes).values(user_id=user_id, song_id=song_id, created_at=utcnow())
                )
            except IntegrityError:
                self._session.rollback()
                self._explain_failed_like(user_id, song_id)
        count = self._count(song_id)
        self._session.commit()
        return count

    def unlike(self, user_id: int, song_id: int) -> int:
        if not self._song_exists(song_id):
            raise SongNotFoundError
        self._session.execute(
            delete(likes).where(likes.c.user_id == user_id, likes.c.song_id == song_id)
        )
        count = self._count(song_id)
        self._session.commit()
        return count

    @releases_connection
    def counts(self, song_ids: list[int]) -> dict[int, int]:
        if not song_ids:
            return {}
        rows = self._session.execute(
            select(likes.c.song_id, func.count())
            .where(likes.c.song_id.in_(song_ids))
            .group_by(likes.c.song_id)
        )
        found = {song_id: count for song_id, count in rows}
        return {song_id: found.get(song_id, 0) for song_id in song_ids}

    @releases_connection
    def liked_among(self, user_id: int, song_ids: list[int]) -> set[int]:
        if not song_ids:
            return set()
        return set(
            self._session.scalars(
                select(likes.c.song_id).where(
                    likes.c.user_id == user_id, likes.c.song_id.in_(song_ids)
                )
            )
        )

    @releases_connection
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
        rows = self._session.execute(statement.offset(offset).limit(limit)).mappings()
        return [
            LikedSong(
                SongRecord(**{k: v for k, v in row.items() if k != "liked_at"}), row["liked_at"]
            )
            for row in rows
        ]

    def _song_exists(self, song_id: int) -> bool:
        return bool(self._session.scalar(select(exists().where(songs.c.id == song_id))))

    def _is_liked(self, user_id: int, song_id: int) -> bool:
        return bool(
            self._session.scalar(
                select(exists().where(likes.c.user_id == user_id, likes.c.song_id == song_id))
            )
        )

    def _count(self, song_id: int) -> int:
        return (
            self._session.scalar(
                select(func.count()).select_from(likes).where(likes.c.song_id == song_id)
            )
            or 0
        )

    def _explain_failed_like(self, user_id: int, song_id: int) -> None:
        """An insert lost a race or hit a foreign key: say which, as the fake does."""
        if self._is_liked(user_id, song_id):
            return  # another request liked it first: idempotent success
        if not self._song_exists(song_id):
            raise SongNotFoundError
        user_exists = self._session.scalar(select(exists().where(User.id == user_id)))
        if not user_exists:
            raise AccountGoneError
        raise RuntimeError("like insert failed for an unknown reason")
