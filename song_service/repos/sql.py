"""Songs and likes in the shared SQL database, with Core statements mapped to
records. The repositories run on the connection of the caller's unit of work and
never commit: the service decides where the transaction ends."""

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

from common.errors import AccountGoneError
from database.artists import artist_id_for
from database.catalogue import catalogue_keys, sort_column, sql_filters
from database.keyset import After, Sort, sql_after, sql_order
from database.search import (
    SEARCHED_FIELDS,
    SearchRank,
    bound_search_page,
    sql_search_page,
    sync_terms,
)
from database.tables import album_songs, songs
from database.tables import user_likes as likes
from database.types import utcnow
from database.unit_of_work import SqlUnitOfWork, locked
from database.writes import insert_stamped
from song_service.repos.base import (
    DEFAULT_SORT,
    NEWEST_LIKE_FIRST,
    LikedSong,
    SongNotFoundError,
    SongQuery,
    SongRecord,
    SongView,
)
from song_service.repos.covers_sql import SqlCoverRepository
from song_service.repos.imports_sql import SqlImportRepository
from song_service.repos.media_sql import SqlMediaRepository, SqlScanRepository
from song_service.repos.playlists_sql import SqlPlaylistRepository
from song_service.repos.plays_sql import SqlPlayRepository
from song_service.repos.search_sql import SqlSearchRepository
from song_service.repos.views_sql import (
    ANONYMOUS_STATE,
    SONG_COLUMNS,
    SONG_WIDTH,
    VIEW_STATE,
    song_view,
    view_state,
    viewer_params,
)

# The like and play state as correlated subqueries (views_sql): one statement per
# read instead of six. Built once: making an expression costs more than running
# it, so requests only bind values (`viewer_id`, `song_id`).
VIEW_BY_ID = select(*SONG_COLUMNS, *VIEW_STATE).where(songs.c.id == bindparam("song_id"))
# A like or unlike first locks the song's row: likes of one song then take turns,
# so two requests can never both see "not liked" and both insert. The lock read
# also says whether the song exists.
LOCK_SONG = locked(select(songs.c.id).where(songs.c.id == bindparam("song_id")), songs)
IS_LIKED = select(
    exists().where(likes.c.song_id == bindparam("song_id"), likes.c.user_id == bindparam("user_id"))
)
INSERT_LIKE = insert(likes)
DELETE_LIKE = delete(likes).where(
    likes.c.user_id == bindparam("user_id"), likes.c.song_id == bindparam("song_id")
)
LIKE_COUNT = select(func.count()).select_from(likes).where(likes.c.song_id == bindparam("song_id"))
# The rows of a ranked page, for a signed-in and an anonymous caller: one object
# each, so database.search caches the page per shape.
RANKED_VIEWS = {
    True: select(*SONG_COLUMNS, *VIEW_STATE),
    False: select(*SONG_COLUMNS, *ANONYMOUS_STATE),
}


def _record(row: Any) -> SongRecord:
    return SongRecord(*row)


class SqlSongRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, values: dict[str, Any]) -> SongRecord:
        song = _select(
            self._connection,
            insert_stamped(self._connection, songs, _with_artist_id(self._connection, values)),
        )
        if song is None:  # cannot happen: read inside the inserting transaction
            raise SongNotFoundError
        sync_terms(self._connection, songs, song.id, song.title, song.artist)
        return song

    def get(self, song_id: int) -> SongRecord | None:
        return _select(self._connection, song_id)

    def get_view(self, song_id: int, viewer_id: int | None) -> SongView | None:
        row = self._connection.execute(
            VIEW_BY_ID, viewer_params(viewer_id) | {"song_id": song_id}
        ).first()
        return song_view(row, viewer_id) if row else None

    def list_views(self, query: SongQuery, viewer_id: int | None) -> list[SongView]:
        params = viewer_params(viewer_id)
        signed_in = viewer_id is not None
        if query.ranked:
            statement, search_params = _ranked_page(query, RANKED_VIEWS[signed_in])
            params |= search_params
        elif _is_browsing(query):
            after = query.after if isinstance(query.after, After) else None
            statement = _browsing_page(
                query.sort or DEFAULT_SORT, keyset=after is not None, signed_in=signed_in
            )
            params |= {"offset": query.offset, "limit": query.limit}
            if after is not None:
                params |= {"after_value": after.value, "after_id": after.id}
        else:
            statement = _paged(select(*SONG_COLUMNS, *view_state(viewer_id)), query)
        rows = self._connection.execute(statement, params).all()
        return [song_view(row, viewer_id) for row in rows]

    def update(self, song_id: int, changes: dict[str, Any]) -> SongRecord | None:
        self._connection.execute(
            update(songs)
            .where(songs.c.id == song_id)
            .values(
                **_with_artist_id(self._connection, changes),
                **catalogue_keys(changes),
                updated_at=utcnow(),
            )
        )
        song = _select(self._connection, song_id)
        if song is not None and SEARCHED_FIELDS & changes.keys():
            sync_terms(self._connection, songs, song.id, song.title, song.artist)
        return song

    def delete(self, song_id: int) -> bool:
        deleted = self._connection.execute(delete(songs).where(songs.c.id == song_id)).rowcount
        return deleted > 0


def _select(connection: Connection, song_id: int) -> SongRecord | None:
    row = connection.execute(select(*SONG_COLUMNS).where(songs.c.id == song_id)).first()
    return _record(row) if row else None


def _paged(statement: Select[Any], query: SongQuery) -> Select[Any]:
    sort = query.sort or DEFAULT_SORT
    statement = _filtered(statement, query)
    column = sort_column(songs, sort.field)
    if isinstance(query.after, After):
        statement = statement.where(sql_after(column, songs.c.id, sort, query.after))
    statement = statement.order_by(*sql_order(column, songs.c.id, sort))
    return statement.offset(query.offset).limit(query.limit)


def _ranked_page(query: SongQuery, views: Select[Any]) -> tuple[Select[Any], dict[str, Any]]:
    """A page of `q`'s matches in relevance order, through the search terms index
    (database.search), as rows of `views` (one of RANKED_VIEWS): its cost does not
    grow with the catalogue. Unfiltered, the statement is built once per shape and
    the request only binds values."""
    assert query.q is not None  # noqa: S101 - SongQuery.ranked says so
    after = query.after if isinstance(query.after, SearchRank) else None
    where = sql_filters(songs, q=None, genre=query.genre, artist=query.artist, residual=True)
    if where:  # filter values are literals of new conditions: built per request
        statement = sql_search_page(
            views,
            songs,
            query.q,
            offset=query.offset,
            limit=query.limit,
            after=after,
            where=where,
        )
        return statement, {}
    return bound_search_page(
        views, songs, query.q, offset=query.offset, limit=query.limit, after=after
    )


def _is_browsing(query: SongQuery) -> bool:
    return (
        query.q is None and query.genre is None and query.artist is None and query.album_id is None
    )


@functools.cache
def _browsing_page(sort: Sort, *, keyset: bool, signed_in: bool) -> Select[Any]:
    """A page without filters, the commonest request, as one statement per sort built
    once with bind parameters: building and cache-keying the expression per request
    cost more than SQLite took to run it."""
    column = sort_column(songs, sort.field)
    statement = select(*SONG_COLUMNS, *(VIEW_STATE if signed_in else ANONYMOUS_STATE))
    if keyset:
        after = After(bindparam("after_value"), bindparam("after_id"))
        statement = statement.where(sql_after(column, songs.c.id, sort, after))
    statement = statement.order_by(*sql_order(column, songs.c.id, sort))
    return statement.offset(bindparam("offset")).limit(bindparam("limit"))


def _filtered(statement: Select[Any], query: SongQuery) -> Select[Any]:
    if query.album_id is not None:
        statement = statement.join(
            album_songs,
            and_(album_songs.c.song_id == songs.c.id, album_songs.c.album_id == query.album_id),
        )
    conditions = sql_filters(songs, q=query.q, genre=query.genre, artist=query.artist)
    return statement.where(*conditions) if conditions else statement


class SqlLikeRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def like(self, user_id: int, song_id: int) -> int:
        key = {"user_id": user_id, "song_id": song_id}
        if not self._lock_song(song_id):
            raise SongNotFoundError
        if not self._connection.scalar(IS_LIKED, key):
            try:
                self._connection.execute(INSERT_LIKE, key | {"created_at": utcnow()})
            except IntegrityError as exc:
                # The song is locked and was not liked, so only the user's foreign
                # key is left: the account was deleted after its token was issued.
                raise AccountGoneError from exc
        return self._connection.scalar(LIKE_COUNT, key)

    def unlike(self, user_id: int, song_id: int) -> int:
        key = {"user_id": user_id, "song_id": song_id}
        if not self._lock_song(song_id):
            raise SongNotFoundError
        self._connection.execute(DELETE_LIKE, key)
        return self._connection.scalar(LIKE_COUNT, key)

    def counts(self, song_ids: list[int]) -> dict[int, int]:
        if not song_ids:
            return {}
        statement = (
            select(likes.c.song_id, func.count())
            .where(likes.c.song_id.in_(song_ids))
            .group_by(likes.c.song_id)
        )
        found = {song_id: count for song_id, count in self._connection.execute(statement)}
        return {song_id: found.get(song_id, 0) for song_id in song_ids}

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
        rows = self._connection.execute(statement.offset(offset).limit(limit)).all()
        return [LikedSong(_record(row[:SONG_WIDTH]), row[SONG_WIDTH]) for row in rows]

    def _lock_song(self, song_id: int) -> bool:
        """Lock the song's row until the unit ends; False when there is no such song."""
        return self._connection.execute(LOCK_SONG, {"song_id": song_id}).first() is not None


class SqlSongUnitOfWork(SqlUnitOfWork):
    """song_service's unit of work on the shared SQL database."""

    songs: SqlSongRepository
    likes: SqlLikeRepository
    plays: SqlPlayRepository
    search: SqlSearchRepository
    playlists: SqlPlaylistRepository
    covers: SqlCoverRepository
    media: SqlMediaRepository
    scans: SqlScanRepository
    imports: SqlImportRepository

    def bind(self, connection: Connection) -> None:
        self.songs = SqlSongRepository(connection)
        self.likes = SqlLikeRepository(connection)
        self.plays = SqlPlayRepository(connection)
        self.search = SqlSearchRepository(connection)
        self.playlists = SqlPlaylistRepository(connection)
        self.covers = SqlCoverRepository(connection)
        self.media = SqlMediaRepository(connection)
        self.scans = SqlScanRepository(connection)
        self.imports = SqlImportRepository(connection)


def _with_artist_id(connection: Connection, values: dict[str, Any]) -> dict[str, Any]:
    """`values` with the `artist_id` of its `artist`, when it names one: a new name
    becomes a new artist in the same transaction (database.artists)."""
    if values.get("artist") is None or values.get("artist_id") is not None:
        return values
    return values | {"artist_id": artist_id_for(connection, values["artist"])}
