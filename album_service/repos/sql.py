"""Albums and album-song links in the shared SQL database, with Core statements
mapped to records. The repository runs on the connection of the caller's unit of
work and never commits: the service decides where the transaction ends."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from album_service.repos.artists_sql import SqlArtistLikeRepository, SqlArtistRepository
from album_service.repos.base import (
    DEFAULT_SORT,
    AlbumNotFoundError,
    AlbumQuery,
    AlbumRecord,
    AlbumView,
    LikedAlbum,
    LinkRecord,
    SongNotFoundError,
    TrackRecord,
    track_position,
)
from album_service.repos.covers_sql import SqlCoverRepository
from album_service.repos.likes_sql import SqlLikes, like_statements, liked_page
from album_service.repos.views_sql import (
    ALBUM_COLUMNS,
    ALBUM_STATE,
    ALBUM_WIDTH,
    VIEW_BY_ID,
    album_view,
    viewer_params,
)
from database.artists import artist_id_for
from database.catalogue import catalogue_keys, sort_column, sql_filters
from database.keyset import After, sql_after, sql_order
from database.media import MediaFile, media_of_songs
from database.search import (
    SEARCHED_FIELDS,
    SearchRank,
    bound_search_page,
    sql_search_page,
    sync_terms,
)
from database.tables import album_likes, album_songs, albums, songs
from database.types import utcnow
from database.unit_of_work import SqlUnitOfWork, locked
from database.writes import insert_stamped

TRACK_COLUMNS = [
    album_songs.c[field.name]
    if field.name in ("disc_number", "track_number")
    else songs.c[field.name]
    for field in fields(TrackRecord)
]
ALBUM_LIKES = like_statements(album_likes, albums)


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

    def get_view(self, album_id: int, viewer_id: int | None) -> AlbumView | None:
        row = self._connection.execute(
            VIEW_BY_ID, viewer_params(viewer_id) | {"album_id": album_id}
        ).first()
        return album_view(row, viewer_id) if row else None

    def list(self, query: AlbumQuery) -> list[AlbumRecord]:
        statement, params = _page(ALBUM_ROWS, query)
        rows = self._connection.execute(statement, params)
        return [AlbumRecord(*row[:ALBUM_WIDTH]) for row in rows]

    def list_views(self, query: AlbumQuery, viewer_id: int | None) -> list[AlbumView]:
        statement, params = _page(ALBUM_VIEWS, query)
        rows = self._connection.execute(statement, params | viewer_params(viewer_id))
        return [album_view(row, viewer_id) for row in rows]

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

    def media_of(self, song_ids: list[int]) -> dict[int, MediaFile]:
        return media_of_songs(self._connection, song_ids)

    def tracks(
        self, album_id: int, *, after: After | None, offset: int, limit: int
    ) -> list[TrackRecord]:
        disc, number, song_id = (
            album_songs.c.disc_number,
            album_songs.c.track_number,
            album_songs.c.song_id,
        )
        statement = (
            select(*TRACK_COLUMNS)
            .join(album_songs, album_songs.c.song_id == songs.c.id)
            .where(album_songs.c.album_id == album_id)
        )
        if after is not None:
            statement = statement.where(_after_track(after))
        statement = statement.order_by(disc, number, song_id)
        rows = self._connection.execute(statement.offset(offset).limit(limit))
        return [TrackRecord(**row._mapping) for row in rows]

    def link(
        self,
        album_id: int,
        song_id: int,
        track_number: int | None,
        disc_number: int | None = None,
    ) -> LinkRecord:
        connection = self._connection
        # The album's row lock makes links to one album take turns: two appends
        # cannot both read the same highest track number, and two links of one
        # pair cannot both insert.
        _lock_album(connection, album_id)
        if not connection.scalar(select(exists().where(songs.c.id == song_id))):
            raise SongNotFoundError
        where = (album_songs.c.album_id == album_id, album_songs.c.song_id == song_id)
        current = connection.execute(
            select(album_songs.c.disc_number, album_songs.c.track_number).where(*where)
        ).first()
        if current is None:
            disc = 1 if disc_number is None else disc_number
            number = (
                self._next_track_number(album_id, disc) if track_number is None else track_number
            )
            try:
                connection.execute(
                    insert(album_songs).values(
                        album_id=album_id, song_id=song_id, disc_number=disc, track_number=number
                    )
                )
            except IntegrityError as exc:
                # The album is locked and the pair was not linked, so only the
                # song's foreign key is left: a delete of the song, seen above,
                # committed before this insert's key check could read it.
                raise SongNotFoundError from exc
            return LinkRecord(album_id, song_id, disc, number)
        disc = current.disc_number if disc_number is None else disc_number
        if track_number is not None:
            number = track_number
        elif disc != current.disc_number:  # moved to another disc: last there
            number = self._next_track_number(album_id, disc)
        else:
            number = current.track_number
        if (disc, number) != (current.disc_number, current.track_number):
            connection.execute(
                update(album_songs).where(*where).values(disc_number=disc, track_number=number)
            )
        return LinkRecord(album_id, song_id, disc, number)

    def unlink(self, album_id: int, song_id: int) -> bool:
        _lock_album(self._connection, album_id)
        deleted = self._connection.execute(
            delete(album_songs).where(
                album_songs.c.album_id == album_id, album_songs.c.song_id == song_id
            )
        ).rowcount
        return deleted > 0

    def _next_track_number(self, album_id: int, disc_number: int = 1) -> int:
        """After the last track of the album's disc `disc_number`."""
        highest = self._connection.scalar(
            select(func.max(album_songs.c.track_number)).where(
                album_songs.c.album_id == album_id, album_songs.c.disc_number == disc_number
            )
        )
        return (highest or 0) + 1


class SqlAlbumLikeRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._likes = SqlLikes(connection, ALBUM_LIKES, AlbumNotFoundError)

    def like(self, user_id: int, album_id: int) -> int:
        return self._likes.like(user_id, album_id)

    def unlike(self, user_id: int, album_id: int) -> int:
        return self._likes.unlike(user_id, album_id)

    def liked(
        self, user_id: int, *, after: After | None, offset: int, limit: int
    ) -> list[LikedAlbum]:
        statement = liked_page(
            select(*ALBUM_COLUMNS, *ALBUM_STATE),
            ALBUM_LIKES,
            user_id,
            after=after,
            offset=offset,
            limit=limit,
        )
        rows = self._connection.execute(statement, viewer_params(user_id))
        return [LikedAlbum(album_view(row, user_id), row.liked_at) for row in rows]


class SqlAlbumUnitOfWork(SqlUnitOfWork):
    """album_service's unit of work on the shared SQL database."""

    albums: SqlAlbumRepository
    album_likes: SqlAlbumLikeRepository
    artists: SqlArtistRepository
    artist_likes: SqlArtistLikeRepository
    covers: SqlCoverRepository

    def bind(self, connection: Connection) -> None:
        self.albums = SqlAlbumRepository(connection)
        self.album_likes = SqlAlbumLikeRepository(connection)
        self.artists = SqlArtistRepository(connection)
        self.artist_likes = SqlArtistLikeRepository(connection)
        self.covers = SqlCoverRepository(connection)


LOCK_ALBUM = locked(select(albums.c.id).where(albums.c.id == bindparam("album_id")), albums)


def _lock_album(connection: Connection, album_id: int) -> None:
    """Lock the album's row until the unit ends; AlbumNotFoundError when absent."""
    if connection.execute(LOCK_ALBUM, {"album_id": album_id}).first() is None:
        raise AlbumNotFoundError


def _select(connection: Connection, album_id: int) -> AlbumRecord | None:
    row = connection.execute(select(*ALBUM_COLUMNS).where(albums.c.id == album_id)).first()
    return AlbumRecord(**row._mapping) if row else None


# The rows of a list: single objects, so database.search caches a ranked page
# around them per shape.
ALBUM_ROWS = select(*ALBUM_COLUMNS)
ALBUM_VIEWS = select(*ALBUM_COLUMNS, *ALBUM_STATE)


def _page(statement: Select[Any], query: AlbumQuery) -> tuple[Select[Any], dict[str, Any]]:
    """`statement` (a SELECT of album columns) limited to the query's page, in its
    order, and the parameters to bind (an unfiltered ranked page is built once per
    shape: the request only binds values)."""
    if query.ranked:
        assert query.q is not None  # noqa: S101 - AlbumQuery.ranked says so
        after = query.after if isinstance(query.after, SearchRank) else None
        where = sql_filters(albums, q=None, genre=query.genre, artist=query.artist, residual=True)
        if not where:
            return bound_search_page(
                statement, albums, query.q, offset=query.offset, limit=query.limit, after=after
            )
        # Filter values are literals of new conditions: built per request.
        page = sql_search_page(
            statement,
            albums,
            query.q,
            offset=query.offset,
            limit=query.limit,
            after=after,
            where=where,
        )
        return page, {}
    sort = query.sort or DEFAULT_SORT
    statement = _filtered(statement, query)
    column = sort_column(albums, sort.field)
    if isinstance(query.after, After):
        statement = statement.where(sql_after(column, albums.c.id, sort, query.after))
    statement = statement.order_by(*sql_order(column, albums.c.id, sort))
    return statement.offset(query.offset).limit(query.limit), {}


def _after_track(after: After) -> ColumnElement[bool]:
    """Tracks after (disc, track, song id) in TRACK_ORDER, with the leading column
    as a range so the (album, disc, track) index is seeked (see keyset.sql_after)."""
    disc, track = track_position(after)
    disc_column, track_column = album_songs.c.disc_number, album_songs.c.track_number
    return and_(
        disc_column >= disc,
        or_(
            disc_column > disc,
            and_(
                track_column >= track,
                or_(track_column > track, album_songs.c.song_id > after.id),
            ),
        ),
    )


def _filtered(statement: Select[Any], query: AlbumQuery) -> Select[Any]:
    conditions = sql_filters(albums, q=query.q, genre=query.genre, artist=query.artist)
    return statement.where(*conditions) if conditions else statement


def _with_artist_id(connection: Connection, values: dict[str, Any]) -> dict[str, Any]:
    """`values` with the `artist_id` of its `artist`, when it names one: a new name
    becomes a new artist in the same transaction (database.artists)."""
    if values.get("artist") is None:
        return values
    return values | {"artist_id": artist_id_for(connection, values["artist"])}
