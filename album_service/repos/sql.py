"""Albums and album-song links in the shared SQL database, with Core statements
mapped to records. Each method is one unit of work on a pooled connection of its
own: reads give the connection back as soon as they have their rows, writes commit."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from sqlalchemy import Connection, Select, delete, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from album_service.repos.base import (
    TRACK_ORDER,
    AlbumNotFoundError,
    AlbumQuery,
    AlbumRecord,
    LinkRecord,
    SongNotFoundError,
    TrackRecord,
)
from database.catalogue import sql_filters
from database.engine import Database
from database.keyset import After, sql_after, sql_order
from database.models import Album, AlbumSong, Song
from database.types import utcnow
from database.writes import insert_stamped

albums = Album.__table__
songs = Song.__table__
album_songs = AlbumSong.__table__
ALBUM_COLUMNS = [albums.c[field.name] for field in fields(AlbumRecord)]
TRACK_COLUMNS = [
    album_songs.c.track_number if field.name == "track_number" else songs.c[field.name]
    for field in fields(TrackRecord)
]


class SqlAlbumRepository:
    def __init__(self, database: Database) -> None:
        self._database = database

    def add(self, values: dict[str, Any]) -> AlbumRecord:
        with self._database.connect(write=True) as connection:
            album = _select(connection, insert_stamped(connection, albums, values))
            connection.commit()
        if album is None:  # cannot happen: read inside the inserting transaction
            raise AlbumNotFoundError
        return album

    def get(self, album_id: int) -> AlbumRecord | None:
        with self._database.connect() as connection:
            return _select(connection, album_id)

    def list(self, query: AlbumQuery) -> list[AlbumRecord]:
        statement = _filtered(select(*ALBUM_COLUMNS), query)
        column = albums.c[query.sort.field]
        if query.after is not None:
            statement = statement.where(sql_after(column, albums.c.id, query.sort, query.after))
        statement = statement.order_by(*sql_order(column, albums.c.id, query.sort))
        statement = statement.offset(query.offset).limit(query.limit)
        with self._database.connect() as connection:
            return [AlbumRecord(**row._mapping) for row in connection.execute(statement)]

    def update(self, album_id: int, changes: dict[str, Any]) -> AlbumRecord | None:
        with self._database.connect(write=True) as connection:
            connection.execute(
                update(albums).where(albums.c.id == album_id).values(**changes, updated_at=utcnow())
            )
            album = _select(connection, album_id)
            connection.commit()
        return album

    def delete(self, album_id: int) -> bool:
        with self._database.connect(write=True) as connection:
            # The album_songs foreign key cascades: the links go in the same statement.
            deleted = connection.execute(delete(albums).where(albums.c.id == album_id)).rowcount
            connection.commit()
        return deleted > 0

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
        with self._database.connect() as connection:
            rows = connection.execute(statement.offset(offset).limit(limit))
            return [TrackRecord(**row._mapping) for row in rows]

    def link(self, album_id: int, song_id: int, track_number: int | None) -> LinkRecord:
        with self._database.connect(write=True) as connection:
            try:
                return self._link(connection, album_id, song_id, track_number)
            except IntegrityError:
                # A concurrent request inserted the same link, or deleted the album
                # or the song, between our read and our insert: a second pass sees
                # its work.
                connection.rollback()
                return self._link(connection, album_id, song_id, track_number)

    def unlink(self, album_id: int, song_id: int) -> bool:
        with self._database.connect(write=True) as connection:
            _require_album(connection, album_id)
            deleted = connection.execute(
                delete(album_songs).where(
                    album_songs.c.album_id == album_id, album_songs.c.song_id == song_id
                )
            ).rowcount
            connection.commit()
        return deleted > 0

    def _link(
        self, connection: Connection, album_id: int, song_id: int, track_number: int | None
    ) -> LinkRecord:
        _require_album(connection, album_id)
        if not connection.scalar(select(exists().where(songs.c.id == song_id))):
            raise SongNotFoundError
        where = (album_songs.c.album_id == album_id, album_songs.c.song_id == song_id)
        current = connection.scalar(select(album_songs.c.track_number).where(*where))
        if current is None:
            if track_number is None:
                number = self._next_track_number(connection, album_id)
            else:
                number = track_number
            connection.execute(
                insert(album_songs).values(album_id=album_id, song_id=song_id, track_number=number)
            )
        else:
            number = current if track_number is None else track_number
            if number != current:
                connection.execute(update(album_songs).where(*where).values(track_number=number))
        connection.commit()
        return LinkRecord(album_id, song_id, number)

    def _next_track_number(self, connection: Connection, album_id: int) -> int:
        highest = connection.scalar(
            select(func.max(album_songs.c.track_number)).where(album_songs.c.album_id == album_id)
        )
        return (highest or 0) + 1


def _require_album(connection: Connection, album_id: int) -> None:
    if not connection.scalar(select(exists().where(albums.c.id == album_id))):
        raise AlbumNotFoundError


def _select(connection: Connection, album_id: int) -> AlbumRecord | None:
    row = connection.execute(select(*ALBUM_COLUMNS).where(albums.c.id == album_id)).first()
    return AlbumRecord(**row._mapping) if row else None


def _filtered(statement: Select[Any], query: AlbumQuery) -> Select[Any]:
    conditions = sql_filters(albums, q=query.q, genre=query.genre, artist=query.artist)
    return statement.where(*conditions) if conditions else statement
