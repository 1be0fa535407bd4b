"""The artist rules: what an artist page is, what an edit may change, when an artist
may go, and likes. Access levels are enforced by the routers (reads: public;
likes: user; writes: admin).

Every public method is one use case and one unit of work: it opens the unit,
calls the repositories inside it and, for a write, commits at the end."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime

from album_service.repos.artists_base import (
    ARTIST_SORTABLE,
    NEWEST_RELEASE_FIRST,
    SONG_TITLE_ORDER,
    ArtistNotFoundError,
    ArtistQuery,
    ArtistView,
)
from album_service.repos.base import NEWEST_LIKE_FIRST, AlbumUnitOfWork
from album_service.schemas import (
    AlbumOut,
    ArtistCreate,
    ArtistLikeState,
    ArtistOut,
    ArtistSongOut,
    ArtistUpdate,
    LikedArtistOut,
)
from album_service.services.albums import album_out
from common.paging import (
    InvalidCursorError,
    Page,
    PageParams,
    cursor_after,
    decode_cursor,
    encode_cursor,
    keyset_cursor,
    keyset_page,
    page_start,
    parse_keyset_cursor,
)
from common.tokens import Principal
from database.keyset import After, Sort, is_row_id
from database.tables import folded_key


class ArtistService:
    def __init__(self, unit: Callable[..., AlbumUnitOfWork]) -> None:
        """`unit(write=False)` opens a unit of work (database.unit_of_work)."""
        self._unit = unit

    def list(
        self,
        page: PageParams,
        *,
        sort: str | None,
        q: str | None = None,
        caller: Principal | None = None,
    ) -> Page[ArtistOut]:
        """A page of artists: ranked by relevance for a `q` without a `sort`
        (API.md, Text: Search; the name plays the title), else in (sort, id)
        order, id by default, filtered by `q`. `name` sorts by the folded sort name."""
        query = ArtistQuery(q=q, sort=Sort.parse(sort) if sort is not None else None)
        order, after = page_start(page, query.sort, ranked=query.ranked, sortable=ARTIST_SORTABLE)
        # One row more than asked tells whether a next page exists, without a COUNT.
        query = replace(query, sort=order, after=after, offset=page.offset, limit=page.limit + 1)
        with self._unit() as uow:
            rows = uow.artists.list_views(query, _viewer(caller))
        shown = rows[: page.limit]
        next_cursor = None
        if len(rows) > page.limit:
            last = shown[-1].artist
            if query.sort is None:
                next_cursor = cursor_after(last._asdict(), None, query.q)
            else:
                value = {
                    "id": last.id,
                    "name": folded_key("sort_name", last.sort_name),
                    "created_at": last.created_at,
                }[query.sort.field]
                next_cursor = keyset_cursor(query.sort, value, last.id)
        return Page([artist_out(view) for view in shown], next_cursor)

    def get(self, artist_id: int, caller: Principal | None = None) -> ArtistOut:
        with self._unit() as uow:
            view = uow.artists.get_view(artist_id, _viewer(caller))
        if view is None:
            raise ArtistNotFoundError
        return artist_out(view)

    def create(self, body: ArtistCreate, caller: Principal | None = None) -> ArtistOut:
        with self._unit(write=True) as uow:
            artist = uow.artists.add(body.name, body.sort_name)
            view = uow.artists.get_view(artist.id, _viewer(caller))
            uow.commit()
        if view is None:  # cannot happen: read inside the inserting transaction
            raise ArtistNotFoundError
        return artist_out(view)

    def update(
        self, artist_id: int, body: ArtistUpdate, caller: Principal | None = None
    ) -> ArtistOut:
        changes = body.model_dump(exclude_unset=True)
        with self._unit(write=True) as uow:
            if changes and uow.artists.update(artist_id, changes) is None:
                raise ArtistNotFoundError
            view = uow.artists.get_view(artist_id, _viewer(caller))
            uow.commit()
        if view is None:
            raise ArtistNotFoundError
        return artist_out(view)

    def delete(self, artist_id: int) -> None:
        with self._unit(write=True) as uow:
            if not uow.artists.delete(artist_id):
                raise ArtistNotFoundError
            uow.commit()

    def albums(
        self, artist_id: int, page: PageParams, caller: Principal | None = None
    ) -> Page[AlbumOut]:
        """The artist's albums, newest release first (undated last), then newest id."""
        after = _parse_release_cursor(page.cursor)
        with self._unit() as uow:
            if uow.artists.get(artist_id) is None:
                raise ArtistNotFoundError
            rows = uow.artists.albums(
                artist_id,
                _viewer(caller),
                after=after,
                offset=page.offset,
                limit=page.limit + 1,
            )
        shown = rows[: page.limit]
        next_cursor = None
        if len(rows) > page.limit:
            last = shown[-1].album
            released = last.release_date.isoformat() if last.release_date else None
            next_cursor = encode_cursor(
                {"sort": str(NEWEST_RELEASE_FIRST), "value": released, "id": last.id}
            )
        return Page([album_out(view) for view in shown], next_cursor)

    def songs(self, artist_id: int, page: PageParams) -> Page[ArtistSongOut]:
        """The artist's songs by folded title, then id."""
        after = parse_keyset_cursor(page.cursor, SONG_TITLE_ORDER, str)
        with self._unit() as uow:
            if uow.artists.get(artist_id) is None:
                raise ArtistNotFoundError
            rows = uow.artists.songs(
                artist_id, after=after, offset=page.offset, limit=page.limit + 1
            )
        shown = rows[: page.limit]
        next_cursor = None
        if len(rows) > page.limit:
            last = shown[-1]
            next_cursor = keyset_cursor(SONG_TITLE_ORDER, folded_key("title", last.title), last.id)
        return Page([ArtistSongOut.model_validate(song._asdict()) for song in shown], next_cursor)

    def like(self, artist_id: int, caller: Principal) -> ArtistLikeState:
        with self._unit(write=True) as uow:
            count = uow.artist_likes.like(caller.user_id, artist_id)
            uow.commit()
        return ArtistLikeState(artist_id=artist_id, liked=True, like_count=count)

    def unlike(self, artist_id: int, caller: Principal) -> ArtistLikeState:
        with self._unit(write=True) as uow:
            count = uow.artist_likes.unlike(caller.user_id, artist_id)
            uow.commit()
        return ArtistLikeState(artist_id=artist_id, liked=False, like_count=count)

    def liked(self, page: PageParams, caller: Principal) -> Page[LikedArtistOut]:
        """The caller's liked artists, newest like first, with a keyset cursor."""
        after = parse_keyset_cursor(page.cursor, NEWEST_LIKE_FIRST, datetime)
        with self._unit() as uow:
            rows = uow.artist_likes.liked(
                caller.user_id, after=after, offset=page.offset, limit=page.limit + 1
            )
        shown, next_cursor = keyset_page(
            rows, page.limit, NEWEST_LIKE_FIRST, lambda row: (row.liked_at, row.view.artist.id)
        )
        items = [
            LikedArtistOut.model_validate(row.view.fields() | {"liked_at": row.liked_at})
            for row in shown
        ]
        return Page(items, next_cursor)


def _viewer(caller: Principal | None) -> int | None:
    return None if caller is None else caller.user_id


def artist_out(view: ArtistView) -> ArtistOut:
    return ArtistOut.model_validate(view.fields())


def _parse_release_cursor(cursor: str | None) -> After | None:
    """An artist's albums cursor back as an After whose value is a release date or
    None (the undated albums); any other cursor is an InvalidCursorError (422)."""
    if cursor is None:
        return None
    values = decode_cursor(cursor)
    value, row_id = values.get("value"), values.get("id")
    if values.get("sort") != str(NEWEST_RELEASE_FIRST) or not is_row_id(row_id):
        raise InvalidCursorError
    if value is None:
        return After(None, row_id)
    if not isinstance(value, str):
        raise InvalidCursorError
    try:
        return After(date.fromisoformat(value), row_id)
    except ValueError as exc:
        raise InvalidCursorError from exc
