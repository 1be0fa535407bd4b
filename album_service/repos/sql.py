"""Albums and album-song links in the shared SQL database, with Core selects mapped
to records. Each write method is one transaction."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from sqlalchemy import Select, delete, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

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
from database.engine import releases_connection
from database.keyset import After, sql_after, sql_order
from database.models import Album, AlbumSong, Song
from database.types import utcnow

albums = Album.__table__
songs = Song.__table__
album_songs = AlbumSong.__table__
ALBUM_COLUMNS = [albums.c[field.name] for field in fields(AlbumRecord)]
TRACK_COLUMNS = [
    album_songs.c.track_number if field.name == "track_number" else songs.c[field.name]
    for field in fields(TrackRecord)
]


class SqlAlbumRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, values: dict[str, Any]) -> AlbumRecord:
        now = utcnow()
        # No RETURNING: MySQL lacks it on INSERT. The row is read back before the
        # commit so no transaction (and no SQLite lock) is left open afterwards.
        result = self._session.execute(
            insert(albums).values(**values, created_at=now, updated_at=now)
        )
        album = self._select(result.inserted_primary_key[0])
        self._session.commit()
        if album is None:  # cannot happen: read inside the inserting transaction
            raise AlbumNotFoundError
        return album

    @releases_connection
    def get(self, album_id: int) -> AlbumRecord | None:
        return self._select(album_id)

    @releases_connection
    def list(self, query: AlbumQuery) -> list[AlbumRecord]:
        statement = _filtered(select(*ALBUM_COLUMNS), query)
        column = albums.c[query.sort.field]
        if query.after is not None:
            statement = statement.where(sql_after(column, albums.c.id, query.sort, query.after))
        statement = statement.order_by(*sql_order(column, albums.c.id, query.sort))
        statement = statement.offset(query.offset).limit(query.limit)
        return [AlbumRecord(**row._mapping) for row in self._session.execute(statement)]

    def update(self, album_id: int, changes: dict[str, Any]) -> AlbumRecord | None:
        self._session.execute(
            update(albums).where(albums.c.id == album_id).values(**changes, updated_at=utcnow())
        )
        album = self._select(album_id)
        self._session.commit()
        return album

    def delete(self, album_id: int) -> bool:
        # The album_songs foreign key cascades, so the links go in the same statement.
        deleted = self._session.execute(delete(albums).where(albums.c.id == album_id)).rowcount
        self._session.commit()
        return deleted > 0

    @releases_connection
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
        rows = self._session.execute(statement.offset(offset).limit(limit))
        return [TrackRecord(**row._mapping) for row in rows]

    def link(self, album_id: int, song_id: int, track_number: int | None) -> LinkRecord:
        try:
            return self._link(album_id, song_id, track_number)
        except IntegrityError:
            # A concurrent request inserted the same link, or deleted the album or
            # the song, between our read and our insert: a second pass sees its work.
            self._session.rollback()
            return self._link(album_id, song_id, track_number)

    def unlink(self, album_id: int, song_id: int) -> bool:
        self._require_album(album_id)
        deleted = self._session.execute(
            delete(album_songs).where(
                album_songs.c.album_id == album_id, album_songs.c.song_id == song_id
            )
        ).rowcount
        self._session.commit()
        return deleted > 0

    def _link(self, album_id: int, song_id: int, track_number: int | None) -> LinkRecord:
        self._require_album(album_id)
        if not self._session.scalar(select(exists().where(songs.c.id == song_id))):
            self._session.rollback()
            raise SongNotFoundError
        where = (album_songs.c.album_id == album_id, album_songs.c.song_id == song_id)
        current = self._session.scalar(select(album_songs.c.track_number).where(*where))
        if current is None:
            number = self._next_track_number(album_id) if track_number is None else track_number
            self._session.execute(
                insert(album_songs).values(album_id=album_id, song_id=song_id, track_number=number)
            )
        else:
            number = current if track_number is None else track_number
            if number != current:
                self._session.execute(update(album_songs).where(*where).values(track_number=number))
        self._session.commit()
        return LinkRecord(album_id, song_id, number)

    def _require_album(self, album_id: int) -> None:
        if not self._session.scalar(select(exists().where(albums.c.id == album_id))):
            self._session.rollback()  # end the lookup's transaction: release SQLite's lock
            raise AlbumNotFoundError

    def _next_track_number(self, album_id: int) -> int:
        highest = self._session.scalar(
            select(func.max(album_songs.c.track_number)).where(album_songs.c.album_id == album_id)
        )
        return (highest or 0) + 1

    def _select(self, album_id: int) -> AlbumRecord | None:
        row = self._session.execute(select(*ALBUM_COLUMNS).where(albums.c.id == album_id)).first()
        return AlbumRecord(**row._mapping) if row else None


def _filtered(statement: Select[Any], query: AlbumQuery) -> Select[Any]:
    conditions = sql_filters(albums, q=query.q, genre=query.genre, artist=query.artist)
    return statement.where(*conditions) if conditions else statement
