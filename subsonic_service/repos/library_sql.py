"""Reads of artists, albums and songs for the Subsonic methods, on one connection.

Each page is one statement over the row's own table (ordered, so OFFSET is legal
on SQL Server), then at most one statement per kind of extra: the songs' files
(database.media), the caller's likes and plays, the albums' song counts and
durations, the artists' album counts — each keyed by the page's ids, so a page
costs the same on any catalogue size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, case, func, select

from database.media import media_of_songs
from database.tables import (
    album_likes,
    album_songs,
    albums,
    artist_likes,
    artists,
    plays,
    songs,
    user_likes,
)
from subsonic_service.repos.records import AlbumRecord, ArtistRecord, SongRecord

# The album a song is shown on: the lowest-id album listing it (a song is usually
# on one; album_songs is indexed by song).
FIRST_ALBUM = (
    select(func.min(album_songs.c.album_id))
    .where(album_songs.c.song_id == songs.c.id)
    .correlate(songs)
    .scalar_subquery()
)
SONG_COLUMNS = (
    songs.c.id,
    songs.c.title,
    songs.c.artist,
    songs.c.artist_id,
    songs.c.genre,
    songs.c.duration,
    songs.c.release_date,
    songs.c.created_at,
    songs.c.cover_image_url,
    album_songs.c.album_id,
    albums.c.title.label("album"),
    album_songs.c.track_number.label("track"),
    album_songs.c.disc_number.label("disc"),
)
ALBUM_COLUMNS = (
    albums.c.id,
    albums.c.title,
    albums.c.artist,
    albums.c.artist_id,
    albums.c.genre,
    albums.c.release_date,
    albums.c.created_at,
)
ARTIST_COLUMNS = (artists.c.id, artists.c.name, artists.c.sort_name)


def song_select(*, album_id: int | None = None) -> Select[Any]:
    """Songs joined to their album: the given album's tracks, or each song's first
    album (a song on no album has album columns of None)."""
    if album_id is not None:
        return (
            select(*SONG_COLUMNS)
            .join(album_songs, album_songs.c.song_id == songs.c.id)
            .join(albums, albums.c.id == album_songs.c.album_id)
            .where(album_songs.c.album_id == album_id)
        )
    return (
        select(*SONG_COLUMNS)
        .select_from(songs)
        .outerjoin(
            album_songs,
            (album_songs.c.song_id == songs.c.id) & (album_songs.c.album_id == FIRST_ALBUM),
        )
        .outerjoin(albums, albums.c.id == album_songs.c.album_id)
    )


def album_select() -> Select[Any]:
    return select(*ALBUM_COLUMNS)


def artist_select() -> Select[Any]:
    return select(*ARTIST_COLUMNS)


class LibraryReads:
    """Artists, albums and songs as records, with the caller's state."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    # Songs

    def songs(self, statement: Select[Any], user_id: int | None) -> list[SongRecord]:
        """The songs `statement` (built on song_select, ordered and paged by the
        caller) selects, with their files and the caller's likes and plays."""
        rows = self._connection.execute(statement).mappings().all()
        return self.complete_songs([_song(row) for row in rows], user_id)

    def songs_by_id(self, song_ids: Sequence[int], user_id: int | None) -> list[SongRecord]:
        """The songs of `song_ids` in that order (repeats kept, unknown ids left out)."""
        unique = list(dict.fromkeys(song_ids))
        if not unique:
            return []
        found = {
            record.id: record
            for record in self.songs(song_select().where(songs.c.id.in_(unique)), user_id)
        }
        return [found[song_id] for song_id in song_ids if song_id in found]

    def song(self, song_id: int, user_id: int | None) -> SongRecord | None:
        found = self.songs_by_id([song_id], user_id)
        return found[0] if found else None

    def complete_songs(self, records: list[SongRecord], user_id: int | None) -> list[SongRecord]:
        """`records` with their files and, for a signed-in caller, likes and plays."""
        ids = list(dict.fromkeys(record.id for record in records))
        if not ids:
            return records
        media = media_of_songs(self._connection, ids)
        starred = self._liked(user_likes, user_likes.c.song_id, ids, user_id)
        played = self._song_plays(ids, user_id)
        return [
            replace(
                record,
                media=media.get(record.id),
                starred_at=starred.get(record.id),
                play_count=played.get(record.id, (0, None))[0],
                played_at=played.get(record.id, (0, None))[1],
            )
            for record in records
        ]

    # Albums

    def albums(self, statement: Select[Any], user_id: int | None) -> list[AlbumRecord]:
        """The albums `statement` (built on album_select) selects, with their song
        counts, durations and the caller's likes."""
        rows = self._connection.execute(statement).mappings().all()
        records = [AlbumRecord(**row) for row in rows]
        ids = [record.id for record in records]
        if not ids:
            return records
        figures = self._album_figures(ids)
        starred = self._liked(album_likes, album_likes.c.album_id, ids, user_id)
        return [
            replace(
                record,
                song_count=figures.get(record.id, (0, 0))[0],
                duration=figures.get(record.id, (0, 0))[1],
                starred_at=starred.get(record.id),
            )
            for record in records
        ]

    def album(self, album_id: int, user_id: int | None) -> AlbumRecord | None:
        found = self.albums(album_select().where(albums.c.id == album_id), user_id)
        return found[0] if found else None

    def albums_by_id(self, album_ids: Sequence[int], user_id: int | None) -> list[AlbumRecord]:
        unique = list(dict.fromkeys(album_ids))
        if not unique:
            return []
        found = {
            record.id: record
            for record in self.albums(album_select().where(albums.c.id.in_(unique)), user_id)
        }
        return [found[album_id] for album_id in unique if album_id in found]

    def album_songs(self, album_id: int, user_id: int | None) -> list[SongRecord]:
        """The album's tracks in (disc, track) order."""
        statement = song_select(album_id=album_id).order_by(
            album_songs.c.disc_number, album_songs.c.track_number, songs.c.id
        )
        return self.songs(statement, user_id)

    # Artists

    def artists(self, statement: Select[Any], user_id: int | None) -> list[ArtistRecord]:
        """The artists `statement` (built on artist_select) selects, with their
        album counts and the caller's likes."""
        rows = self._connection.execute(statement).mappings().all()
        records = [ArtistRecord(**row) for row in rows]
        ids = [record.id for record in records]
        if not ids:
            return records
        counts = dict(
            self._connection.execute(
                select(albums.c.artist_id, func.count())
                .where(albums.c.artist_id.in_(ids))
                .group_by(albums.c.artist_id)
            ).all()
        )
        starred = self._liked(artist_likes, artist_likes.c.artist_id, ids, user_id)
        return [
            replace(record, album_count=counts.get(record.id, 0), starred_at=starred.get(record.id))
            for record in records
        ]

    def artist(self, artist_id: int, user_id: int | None) -> ArtistRecord | None:
        found = self.artists(artist_select().where(artists.c.id == artist_id), user_id)
        return found[0] if found else None

    def artists_by_id(self, artist_ids: Sequence[int], user_id: int | None) -> list[ArtistRecord]:
        unique = list(dict.fromkeys(artist_ids))
        if not unique:
            return []
        found = {
            record.id: record
            for record in self.artists(artist_select().where(artists.c.id.in_(unique)), user_id)
        }
        return [found[artist_id] for artist_id in unique if artist_id in found]

    def artist_albums(self, artist_id: int, user_id: int | None) -> list[AlbumRecord]:
        """The artist's albums, oldest release first (undated last), then by title."""
        statement = (
            album_select()
            .where(albums.c.artist_id == artist_id)
            .order_by(
                nulls_last(albums.c.release_date),
                albums.c.release_date,
                albums.c.title_key,
                albums.c.id,
            )
        )
        return self.albums(statement, user_id)

    # The caller's state

    def _liked(
        self, table: Any, column: Any, ids: list[int], user_id: int | None
    ) -> dict[int, datetime]:
        if user_id is None:
            return {}
        statement = select(column, table.c.created_at).where(
            table.c.user_id == user_id, column.in_(ids)
        )
        return dict(self._connection.execute(statement).all())

    def _song_plays(self, ids: list[int], user_id: int | None) -> dict[int, tuple[int, Any]]:
        if user_id is None:
            return {}
        statement = (
            select(plays.c.song_id, func.count(), func.max(plays.c.played_at))
            .where(plays.c.user_id == user_id, plays.c.song_id.in_(ids))
            .group_by(plays.c.song_id)
        )
        return {
            song_id: (count, last) for song_id, count, last in self._connection.execute(statement)
        }

    def _album_figures(self, ids: list[int]) -> dict[int, tuple[int, int]]:
        statement = (
            select(
                album_songs.c.album_id,
                func.count(),
                func.coalesce(func.sum(songs.c.duration), 0),
            )
            .join(songs, songs.c.id == album_songs.c.song_id)
            .where(album_songs.c.album_id.in_(ids))
            .group_by(album_songs.c.album_id)
        )
        return {
            album_id: (int(count), int(total))
            for album_id, count, total in self._connection.execute(statement)
        }


def _song(row: Any) -> SongRecord:
    return SongRecord(**row)


def nulls_last(column: Any) -> ColumnElement[Any]:
    """An ORDER BY term, before `column`'s own, that puts its NULLs after its values
    on every database (SQL Server orders by no boolean and has no NULLS LAST)."""
    return case((column.is_(None), 1), else_=0)
