"""Artists and their likes in the shared SQL database, with Core statements mapped
to records. The repositories run on the connection of the caller's unit of work
and never commit: the service decides where the transaction ends."""

from __future__ import annotations

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

from album_service.repos.artists_base import (
    DEFAULT_ARTIST_SORT,
    SONG_TITLE_ORDER,
    ArtistInUseError,
    ArtistNotFoundError,
    ArtistQuery,
    ArtistRecord,
    ArtistSongRecord,
    ArtistView,
    DuplicateArtistError,
    LikedArtist,
)
from album_service.repos.base import AlbumView
from album_service.repos.likes_sql import SqlLikes, like_statements, liked_page
from album_service.repos.views_sql import ALBUM_COLUMNS, ALBUM_STATE, album_view, viewer_params
from database.artists import artist_fields
from database.covers import NEWEST_RELEASE_ORDER
from database.keyset import After, sql_after, sql_order
from database.search import SearchRank, bound_search_page, sql_matches, sync_terms
from database.tables import albums, artist_likes, artists, songs
from database.types import utcnow
from database.unit_of_work import locked

ARTIST_COLUMNS = [artists.c[name] for name in ArtistRecord._fields]
ARTIST_WIDTH = len(ARTIST_COLUMNS)
SONG_COLUMNS = [songs.c[name] for name in ArtistSongRecord._fields]
# The column each sort orders by: `name` is the folded sort name.
SORT_COLUMNS = {
    "id": artists.c.id,
    "name": artists.c.sort_name_key,
    "created_at": artists.c.created_at,
}
# Newest release first, undated albums last, then newest id. "IS NULL" as a CASE
# rather than NULLS LAST, which neither SQL Server nor MariaDB has.
# The counts, the cover and the viewer's like as correlated scalar subqueries: one
# statement per read or page. Built once, so requests only bind values.
ARTIST_STATE = [
    select(func.count())
    .select_from(albums)
    .where(albums.c.artist_id == artists.c.id)
    .scalar_subquery()
    .label("album_count"),
    select(func.count())
    .select_from(songs)
    .where(songs.c.artist_id == artists.c.id)
    .scalar_subquery()
    .label("song_count"),
    select(func.count())
    .select_from(artist_likes)
    .where(artist_likes.c.artist_id == artists.c.id)
    .scalar_subquery()
    .label("like_count"),
    exists()
    .where(
        artist_likes.c.artist_id == artists.c.id,
        artist_likes.c.user_id == bindparam("viewer_id"),
    )
    .label("liked_by_me"),
    select(albums.c.cover_image_url)
    .where(albums.c.artist_id == artists.c.id, albums.c.cover_image_url.is_not(None))
    .order_by(*NEWEST_RELEASE_ORDER)
    .limit(1)
    .scalar_subquery()
    .label("cover"),
]
VIEW_BY_ID = select(*ARTIST_COLUMNS, *ARTIST_STATE).where(artists.c.id == bindparam("artist_id"))
# The rows of a list: one object, so database.search caches a ranked page around it.
ARTIST_VIEWS = select(*ARTIST_COLUMNS, *ARTIST_STATE)
LOCK_ARTIST = locked(
    select(artists.c.id, artists.c.name, artists.c.sort_name).where(
        artists.c.id == bindparam("artist_id")
    ),
    artists,
)
FIND_BY_KEY = select(artists.c.id).where(artists.c.name_key == bindparam("name_key"))
IS_NAMED = select(
    or_(
        exists().where(albums.c.artist_id == bindparam("artist_id")),
        exists().where(songs.c.artist_id == bindparam("artist_id")),
    )
)
ARTIST_LIKES = like_statements(artist_likes, artists)


def _view(row: Any, viewer_id: int | None) -> ArtistView:
    """A row of (artist columns..., album_count, song_count, like_count,
    liked_by_me, cover, anything else) as a view."""
    album_count, song_count, like_count, liked, cover = row[ARTIST_WIDTH : ARTIST_WIDTH + 5]
    return ArtistView(
        ArtistRecord(*row[:ARTIST_WIDTH]),
        int(album_count),
        int(song_count),
        int(like_count),
        None if viewer_id is None else bool(liked),
        cover,
    )


class SqlArtistRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, name: str, sort_name: str | None) -> ArtistRecord:
        fields = artist_fields(name, sort_name)
        if self._connection.scalar(FIND_BY_KEY, {"name_key": fields["name_key"]}) is not None:
            raise DuplicateArtistError
        now = utcnow()
        try:
            artist_id = self._connection.execute(
                insert(artists).values(**fields, created_at=now, updated_at=now)
            ).inserted_primary_key[0]
        except IntegrityError as exc:  # a rival inserted the name meanwhile
            raise DuplicateArtistError from exc
        sync_terms(self._connection, artists, artist_id, name, "")
        artist = self.get(artist_id)
        if artist is None:  # cannot happen: read inside the inserting transaction
            raise ArtistNotFoundError
        return artist

    def get(self, artist_id: int) -> ArtistRecord | None:
        row = self._connection.execute(
            select(*ARTIST_COLUMNS).where(artists.c.id == artist_id)
        ).first()
        return ArtistRecord(*row) if row else None

    def get_view(self, artist_id: int, viewer_id: int | None) -> ArtistView | None:
        row = self._connection.execute(
            VIEW_BY_ID, viewer_params(viewer_id) | {"artist_id": artist_id}
        ).first()
        return _view(row, viewer_id) if row else None

    def list_views(self, query: ArtistQuery, viewer_id: int | None) -> list[ArtistView]:
        statement, params = ARTIST_VIEWS, viewer_params(viewer_id)
        if query.ranked:
            assert query.q is not None  # noqa: S101 - ArtistQuery.ranked says so
            statement, search_params = bound_search_page(
                statement,
                artists,
                query.q,
                offset=query.offset,
                limit=query.limit,
                after=query.after if isinstance(query.after, SearchRank) else None,
            )
            params |= search_params
        else:
            sort = query.sort or DEFAULT_ARTIST_SORT
            if query.q is not None and (matches := sql_matches(artists, query.q)) is not None:
                statement = statement.where(matches)
            column = SORT_COLUMNS[sort.field]
            if isinstance(query.after, After):
                statement = statement.where(sql_after(column, artists.c.id, sort, query.after))
            statement = statement.order_by(*sql_order(column, artists.c.id, sort))
            statement = statement.offset(query.offset).limit(query.limit)
        rows = self._connection.execute(statement, params)
        return [_view(row, viewer_id) for row in rows]

    def update(self, artist_id: int, changes: dict[str, Any]) -> ArtistRecord | None:
        current = self._connection.execute(LOCK_ARTIST, {"artist_id": artist_id}).first()
        if current is None:
            return None
        name = changes.get("name") or current.name
        if "sort_name" in changes:
            sort_name = changes["sort_name"] or name
        elif current.sort_name == current.name:  # a sort name that was the name follows it
            sort_name = name
        else:
            sort_name = current.sort_name
        values = artist_fields(name, sort_name)
        found = self._connection.scalar(FIND_BY_KEY, {"name_key": values["name_key"]})
        if found is not None and found != artist_id:
            raise DuplicateArtistError
        try:
            self._connection.execute(
                update(artists)
                .where(artists.c.id == artist_id)
                .values(**values, updated_at=utcnow())
            )
        except IntegrityError as exc:  # a rival took the name meanwhile
            raise DuplicateArtistError from exc
        if name != current.name:
            sync_terms(self._connection, artists, artist_id, name, "")
        return self.get(artist_id)

    def delete(self, artist_id: int) -> bool:
        # The lock keeps the decision and the delete one step against this
        # service's writers; a song written meanwhile by song_service meets the
        # foreign key, which refuses the delete, and that is the same 409.
        key = {"artist_id": artist_id}
        if self._connection.execute(LOCK_ARTIST, key).first() is None:
            return False
        if self._connection.scalar(IS_NAMED, key):
            raise ArtistInUseError
        try:
            # artist_terms and artist_likes cascade.
            self._connection.execute(delete(artists).where(artists.c.id == artist_id))
        except IntegrityError as exc:
            raise ArtistInUseError from exc
        return True

    def albums(
        self,
        artist_id: int,
        viewer_id: int | None,
        *,
        after: After | None,
        offset: int,
        limit: int,
    ) -> list[AlbumView]:
        statement = select(*ALBUM_COLUMNS, *ALBUM_STATE).where(albums.c.artist_id == artist_id)
        if after is not None:
            statement = statement.where(_after_release(after))
        statement = statement.order_by(*NEWEST_RELEASE_ORDER).offset(offset).limit(limit)
        rows = self._connection.execute(statement, viewer_params(viewer_id))
        return [album_view(row, viewer_id) for row in rows]

    def songs(
        self, artist_id: int, *, after: After | None, offset: int, limit: int
    ) -> list[ArtistSongRecord]:
        statement: Select[Any] = select(*SONG_COLUMNS).where(songs.c.artist_id == artist_id)
        key = songs.c.title_key
        if after is not None:
            statement = statement.where(sql_after(key, songs.c.id, SONG_TITLE_ORDER, after))
        statement = statement.order_by(*sql_order(key, songs.c.id, SONG_TITLE_ORDER))
        rows = self._connection.execute(statement.offset(offset).limit(limit))
        return [ArtistSongRecord(*row) for row in rows]


def _after_release(after: After) -> ColumnElement[bool]:
    """Albums after (release date or None, id) in NEWEST_RELEASE_ORDER."""
    released, album_id = albums.c.release_date, albums.c.id
    if after.value is None:  # among the undated, which come last
        return and_(released.is_(None), album_id < after.id)
    return or_(
        released < after.value,
        and_(released == after.value, album_id < after.id),
        released.is_(None),
    )


class SqlArtistLikeRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._likes = SqlLikes(connection, ARTIST_LIKES, ArtistNotFoundError)

    def like(self, user_id: int, artist_id: int) -> int:
        return self._likes.like(user_id, artist_id)

    def unlike(self, user_id: int, artist_id: int) -> int:
        return self._likes.unlike(user_id, artist_id)

    def liked(
        self, user_id: int, *, after: After | None, offset: int, limit: int
    ) -> list[LikedArtist]:
        statement = liked_page(
            select(*ARTIST_COLUMNS, *ARTIST_STATE),
            ARTIST_LIKES,
            user_id,
            after=after,
            offset=offset,
            limit=limit,
        )
        rows = self._connection.execute(statement, viewer_params(user_id))
        return [LikedArtist(_view(row, user_id), row.liked_at) for row in rows]
