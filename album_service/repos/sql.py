"""Albums and album-song links in the shared SQL database, with Core statements
mapped to records. The repository runs on the connection of the caller's unit of
work and never commits: the service decides where the transaction ends."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from sqlalchemy import Connection, Select, bindparam, delete, exists, func, insert, select, update

from album_service.repos.base import (
    DEFAULT_SORT,
    TRACK_ORDER,
    AlbumNotFoundError,
    AlbumQuery,
    AlbumRecord,
    LinkRecord,
    SongNotFoundError,
    TrackRecord,
)
from database.artists import artist_id_for
from database.catalogue import catalogue_keys, sort_column, sql_filters
from database.keyset import After, sql_after, sql_order
from database.search import SEARCHED_FIELDS, SearchRank, sql_search_page, sync_terms
from database.tables import album_songs, albums, songs
from database.types import utcnow
from database.unit_of_work import SqlUnitOfWork, locked
from database.writes import insert_stamped

ALBUM_COLUMNS = [albums.c[field.name] for field in fields(AlbumRecord)]
ALBUM_WIDTH = len(ALBUM_COLUMNS)
TRACK_COLUMNS = [
    album_songs.c.track_number if field.name == "track_number" else songs.c[field.name]
    for field in fields(TrackRecord)
]


class SqlAlbumRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, values: dict[str, Any]) -> AlbumRecord:
        album = _select(
            self._connection,
            insert_stamped(self._connection, albums, _with_artist_id(self._connection, values)),
        )
        if album is None:  # cannot happen: read inside the inserting transaction
            raise AlbumNotFoundError
        sync_terms(self._connection, albums, album.id, album.title, album.artist)
        return album

    def get(self, album_id: int) -> AlbumRecord | None:
        return _select(self._connection, album_id)

    def list(self, query: AlbumQuery) -> list[AlbumRecord]:
        if query.ranked:
            assert query.q is not None  # noqa: S101 - AlbumQuery.ranked says so
            statement = sql_search_page(
                select(*ALBUM_COLUMNS),
                albums,
                query.q,
                offset=query.offset,
                limit=query.limit,
                after=query.after if isinstance(query.after, SearchRank) else None,
                where=sql_filters(
                    albums, q=None, genre=query.genre, artist=query.artist, residual=True
                ),
            )
        else:
            sort = query.sort or DEFAULT_SORT
            statement = _filtered(select(*ALBUM_COLUMNS), query)
            column = sort_column(albums, sort.field)
            if isinstance(query.after, After):
                statement = statement.where(sql_after(column, albums.c.id, sort, query.after))
            statement = statement.order_by(*sql_order(column, albums.c.id, sort))
            statement = statement.offset(query.offset).limit(query.limit)
        rows = self._connection.execute(statement)
        return [AlbumRecord(*row[:ALBUM_WIDTH]) for row in rows]

    def update(self, album_id: int, changes: dict[str, Any]) -> AlbumRecord | None:
        self._connection.execute(
            update(albums)
            .where(albums.c.id == album_id)
            .values(
                **_with_artist_id(self._connection, changes),
                **catalogue_keys(changes),
                updated_at=utcnow(),
            )
        )
        album = _select(self._connection, album_id)
        if album is not None and SEARCHED_FIELDS & changes.keys():
            sync_terms(self._connection, albums, album.id, album.title, album.artist)
        return album

    def delete(self, album_id: int) -> bool:
        # The album_songs foreign key cascades: the links go in the same statement.
        return self._connection.execute(delete(albums).where(albums.c.id == album_id)).rowcount > 0

    def tracks(
        self, album_id: int, *, after: After | None, offset: int, limit: int
    ) -> list[TrackRecord]:
        number, song_id = album_songs.c.track_number, album_songs.c.song_id
        statement = (
            select(*TRACK_COLUMNS)
            .join(album_songs, album_songs.c.song_id == songs.c.id)
            .where(album_songs.c.album_id == album_id)
        )
        if after is not None:
            statement = statement.where(sql_after(number, song_id, TRACK_ORDER, after))
        statement = statement.order_by(*sql_order(number, song_id, TRACK_ORDER))
        rows = self._connection.execute(statement.offset(offset).limit(limit))
        return [TrackRecord(**row._mapping) for row in rows]

    def link(self, album_id: int, song_id: int, track_number: int | None) -> LinkRecord:
        connection = self._connection
        # The album's row lock makes links to one album take turns: two appends
        # cannot both read the same highest track number, and two links of one
        # pair cannot both insert.
        _lock_album(connection, album_id)
        if not connection.scalar(select(exists().where(songs.c.id == song_id))):
            raise SongNotFoundError
        where = (album_songs.c.album_id == album_id, album_songs.c.song_id == song_id)
        current = connection.scalar(select(album_songs.c.track_number).where(*where))
        if current is None:
            number = self._next_track_number(album_id) if track_number is None else track_number
            connection.execute(
                insert(album_songs).values(album_id=album_id, song_id=song_id, track_number=number)
            )
        else:
            number = current if track_number is None else track_number
            if number != current:
                connection.execute(update(album_songs).where(*where).values(track_number=number))
        return LinkRecord(album_id, song_id, number)

    def unlink(self, album_id: int, song_id: int) -> bool:
        _lock_album(self._connection, album_id)
        deleted = self._connection.execute(
            delete(album_songs).where(
                album_songs.c.album_id == album_id, album_songs.c.song_id == song_id
            )
        ).rowcount
        return deleted > 0

    def _next_track_number(self, album_id: int) -> int:
        highest = self._connection.scalar(
            select(func.max(album_songs.c.track_number)).where(album_songs.c.album_id == album_id)
        )
        return (highest or 0) + 1


class SqlAlbumUnitOfWork(SqlUnitOfWork):
    """album_service's unit of work on the shared SQL database."""

    albums: SqlAlbumRepository

    def bind(self, connection: Connection) -> None:
        self.albums = SqlAlbumRepository(connection)


LOCK_ALBUM = locked(select(albums.c.id).where(albums.c.id == bindparam("album_id")), albums)


def _lock_album(connection: Connection, album_id: int) -> None:
    """Lock the album's row until the unit ends; AlbumNotFoundError when absent."""
    if connection.execute(LOCK_ALBUM, {"album_id": album_id}).first() is None:
        raise AlbumNotFoundError


def _select(connection: Connection, album_id: int) -> AlbumRecord | None:
    row = connection.execute(select(*ALBUM_COLUMNS).where(albums.c.id == album_id)).first()
    return AlbumRecord(**row._mapping) if row else None


def _filtered(statement: Select[Any], query: AlbumQuery) -> Select[Any]:
    conditions = sql_filters(albums, q=query.q, genre=query.genre, artist=query.artist)
    return statement.where(*conditions) if conditions else statement


def _with_artist_id(connection: Connection, values: dict[str, Any]) -> dict[str, Any]:
    """`values` with the `artist_id` of its `artist`, when it names one: a new name
    becomes a new artist in the same transaction (database.artists)."""
    if values.get("artist") is None:
        return values
    return values | {"artist_id": artist_id_for(connection, values["artist"])}
