"""The album rules: what a page is, what an update may change, what linking means.
Access levels are enforced by the routers (reads: public or user; writes: admin).

Every public method is one use case and one unit of work: it opens the unit,
calls the repository inside it and, for a write, commits at the end."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, replace

from album_service.repos.base import (
    SORTABLE,
    TRACK_ORDER,
    AlbumNotFoundError,
    AlbumQuery,
    AlbumUnitOfWork,
)
from album_service.schemas import AlbumCreate, AlbumOut, AlbumUpdate, LinkOut, TrackOut
from common.paging import (
    Page,
    PageParams,
    cursor_after,
    keyset_cursor,
    page_start,
    parse_keyset_cursor,
)
from database.keyset import Sort


class AlbumService:
    def __init__(self, unit: Callable[..., AlbumUnitOfWork]) -> None:
        """`unit(write=False)` opens a unit of work (database.unit_of_work)."""
        self._unit = unit

    def create(self, data: AlbumCreate) -> AlbumOut:
        with self._unit(write=True) as uow:
            album = uow.albums.add(data.model_dump())
            uow.commit()
        return AlbumOut.model_validate(album)

    def get(self, album_id: int) -> AlbumOut:
        with self._unit() as uow:
            album = uow.albums.get(album_id)
        if album is None:
            raise AlbumNotFoundError
        return AlbumOut.model_validate(album)

    def list(
        self,
        page: PageParams,
        *,
        sort: str | None,
        q: str | None = None,
        genre: str | None = None,
        artist: str | None = None,
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
            rows = uow.albums.list(query)
        shown = rows[: page.limit]
        next_cursor = None
        if len(rows) > page.limit:
            next_cursor = cursor_after(asdict(shown[-1]), query.sort, query.q)
        return Page([AlbumOut.model_validate(album) for album in shown], next_cursor)

    def update(self, album_id: int, update: AlbumUpdate) -> AlbumOut:
        changes = update.model_dump(exclude_unset=True)
        with self._unit(write=True) as uow:
            album = uow.albums.update(album_id, changes) if changes else uow.albums.get(album_id)
            uow.commit()
        if album is None:
            raise AlbumNotFoundError
        return AlbumOut.model_validate(album)

    def delete(self, album_id: int) -> None:
        with self._unit(write=True) as uow:
            if not uow.albums.delete(album_id):
                raise AlbumNotFoundError
            uow.commit()

    def tracks(self, album_id: int, page: PageParams) -> Page[TrackOut]:
        """The album's songs in (track number, song id) order; AlbumNotFoundError
        for an unknown album rather than an empty list."""
        after = parse_keyset_cursor(page.cursor, TRACK_ORDER, int)
        with self._unit() as uow:
            if uow.albums.get(album_id) is None:
                raise AlbumNotFoundError
            rows = uow.albums.tracks(
                album_id, after=after, offset=page.offset, limit=page.limit + 1
            )
        shown = rows[: page.limit]
        next_cursor = None
        if len(rows) > page.limit:
            last = shown[-1]
            next_cursor = keyset_cursor(TRACK_ORDER, last.track_number, last.id)
        return Page([TrackOut.model_validate(track) for track in shown], next_cursor)

    def link(self, album_id: int, song_id: int, track_number: int | None) -> LinkOut:
        with self._unit(write=True) as uow:
            link = uow.albums.link(album_id, song_id, track_number)
            uow.commit()
        return LinkOut.model_validate(link)

    def unlink(self, album_id: int, song_id: int) -> None:
        # Unlinking a song that is not on the album is already the wanted state.
        with self._unit(write=True) as uow:
            uow.albums.unlink(album_id, song_id)
            uow.commit()
