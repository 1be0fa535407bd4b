"""The album rules: what a page is, what an update may change, what linking means.
Access levels are enforced by the routers (reads: public or user; writes: admin).

Every public method is one use case and one unit of work: it opens the unit,
calls the repository inside it and, for a write, commits at the end."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, replace
from datetime import datetime
from typing import Any

from album_service.repos.base import (
    NEWEST_LIKE_FIRST,
    SORTABLE,
    TRACK_ORDER,
    AlbumNotFoundError,
    AlbumQuery,
    AlbumUnitOfWork,
    AlbumView,
)
from album_service.schemas import (
    AlbumCreate,
    AlbumLikeState,
    AlbumOut,
    AlbumUpdate,
    LikedAlbumOut,
    LinkOut,
    TrackOut,
)
from common.paging import (
    InvalidCursorError,
    Page,
    PageParams,
    cursor_after,
    decode_cursor,
    encode_cursor,
    keyset_page,
    page_start,
    parse_keyset_cursor,
)
from common.tokens import Principal
from database.keyset import After, Sort, is_row_id
from database.media import media_fields


class AlbumService:
    def __init__(self, unit: Callable[..., AlbumUnitOfWork]) -> None:
        """`unit(write=False)` opens a unit of work (database.unit_of_work)."""
        self._unit = unit

    def create(self, data: AlbumCreate, caller: Principal | None = None) -> AlbumOut:
        with self._unit(write=True) as uow:
            album = uow.albums.add(data.model_dump())
            view = uow.albums.get_view(album.id, _viewer(caller))
            uow.commit()
        if view is None:  # cannot happen: read inside the inserting transaction
            raise AlbumNotFoundError
        return album_out(view)

    def get(self, album_id: int, caller: Principal | None = None) -> AlbumOut:
        with self._unit() as uow:
            view = uow.albums.get_view(album_id, _viewer(caller))
        if view is None:
            raise AlbumNotFoundError
        return album_out(view)

    def list(
        self,
        page: PageParams,
        *,
        sort: str | None,
        q: str | None = None,
        genre: str | None = None,
        artist: str | None = None,
        caller: Principal | None = None,
    ) -> Page[AlbumOut]:
        """A page of albums: ranked by relevance for a `q` without a `sort`
        (API.md, Text: Search), else in (sort, id) order, id by default. The
        next page's cursor names its order, so a cursor of another is a 422."""
        query = AlbumQuery(
            q=q, genre=genre, artist=artist, sort=Sort.parse(sort) if sort is not None else None
        )
        order, after = page_start(page, query.sort, ranked=query.ranked, sortable=SORTABLE)
        # One row more than asked tells whether a next page exists, without a COUNT.
        query = replace(query, sort=order, after=after, offset=page.offset, limit=page.limit + 1)
        with self._unit() as uow:
            rows = uow.albums.list_views(query, _viewer(caller))
        shown = rows[: page.limit]
        next_cursor = None
        if len(rows) > page.limit:
            next_cursor = cursor_after(asdict(shown[-1].album), query.sort, query.q)
        return Page([album_out(view) for view in shown], next_cursor)

    def update(
        self, album_id: int, update: AlbumUpdate, caller: Principal | None = None
    ) -> AlbumOut:
        changes = update.model_dump(exclude_unset=True)
        with self._unit(write=True) as uow:
            if changes and uow.albums.update(album_id, changes) is None:
                raise AlbumNotFoundError
            view = uow.albums.get_view(album_id, _viewer(caller))
            uow.commit()
        if view is None:
            raise AlbumNotFoundError
        return album_out(view)

    def delete(self, album_id: int) -> None:
        with self._unit(write=True) as uow:
            if not uow.albums.delete(album_id):
                raise AlbumNotFoundError
            uow.commit()

    def tracks(self, album_id: int, page: PageParams) -> Page[TrackOut]:
        """The album's songs in (disc, track number, song id) order;
        AlbumNotFoundError for an unknown album rather than an empty list."""
        after = parse_track_cursor(page.cursor)
        with self._unit() as uow:
            if uow.albums.get(album_id) is None:
                raise AlbumNotFoundError
            rows = uow.albums.tracks(
                album_id, after=after, offset=page.offset, limit=page.limit + 1
            )
            shown = rows[: page.limit]
            media = uow.albums.media_of([track.id for track in shown])
        next_cursor = None
        if len(rows) > page.limit:
            last = shown[-1]
            next_cursor = encode_cursor(
                {
                    "sort": str(TRACK_ORDER),
                    "value": [last.disc_number, last.track_number],
                    "id": last.id,
                }
            )
        tracks = [
            TrackOut.model_validate(asdict(track) | {"media": media_fields(media.get(track.id))})
            for track in shown
        ]
        return Page(tracks, next_cursor)

    def link(
        self,
        album_id: int,
        song_id: int,
        track_number: int | None,
        disc_number: int | None = None,
    ) -> LinkOut:
        with self._unit(write=True) as uow:
            link = uow.albums.link(album_id, song_id, track_number, disc_number)
            uow.commit()
        return LinkOut.model_validate(link)

    def unlink(self, album_id: int, song_id: int) -> None:
        # Unlinking a song that is not on the album is already the wanted state.
        with self._unit(write=True) as uow:
            uow.albums.unlink(album_id, song_id)
            uow.commit()

    def like(self, album_id: int, caller: Principal) -> AlbumLikeState:
        with self._unit(write=True) as uow:
            count = uow.album_likes.like(caller.user_id, album_id)
            uow.commit()
        return AlbumLikeState(album_id=album_id, liked=True, like_count=count)

    def unlike(self, album_id: int, caller: Principal) -> AlbumLikeState:
        with self._unit(write=True) as uow:
            count = uow.album_likes.unlike(caller.user_id, album_id)
            uow.commit()
        return AlbumLikeState(album_id=album_id, liked=False, like_count=count)

    def liked(self, page: PageParams, caller: Principal) -> Page[LikedAlbumOut]:
        """The caller's liked albums, newest like first, with a keyset cursor."""
        after = parse_keyset_cursor(page.cursor, NEWEST_LIKE_FIRST, datetime)
        with self._unit() as uow:
            rows = uow.album_likes.liked(
                caller.user_id, after=after, offset=page.offset, limit=page.limit + 1
            )
        shown, next_cursor = keyset_page(
            rows, page.limit, NEWEST_LIKE_FIRST, lambda row: (row.liked_at, row.view.album.id)
        )
        items = [
            LikedAlbumOut.model_validate(album_fields(row.view) | {"liked_at": row.liked_at})
            for row in shown
        ]
        return Page(items, next_cursor)


def _viewer(caller: Principal | None) -> int | None:
    return None if caller is None else caller.user_id


def album_fields(view: AlbumView) -> dict[str, Any]:
    return {
        **asdict(view.album),
        "song_count": view.song_count,
        "duration": view.duration,
        "like_count": view.like_count,
        "liked_by_me": view.liked_by_me,
    }


def album_out(view: AlbumView) -> AlbumOut:
    return AlbumOut.model_validate(album_fields(view))


def parse_track_cursor(cursor: str | None) -> After | None:
    """A tracks cursor back as an After whose value is (disc, track); a cursor of
    another order, or with values no track has, is an InvalidCursorError (422)."""
    if cursor is None:
        return None
    values = decode_cursor(cursor)
    value, row_id = values.get("value"), values.get("id")
    if (
        values.get("sort") != str(TRACK_ORDER)
        or not is_row_id(row_id)
        or not isinstance(value, list)
        or len(value) != 2
        or not all(is_row_id(number) for number in value)
        # Beyond any INTEGER column: the database would refuse the comparison.
        or max(value) > 2**31 - 1
    ):
        raise InvalidCursorError
    return After((value[0], value[1]), row_id)
