"""The album rules: what a page is, what an update may change, what linking means.
Access levels are enforced by the routers (reads: public or user; writes: admin)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from album_service.repos.base import (
    TRACK_ORDER,
    AlbumNotFoundError,
    AlbumQuery,
    AlbumRecord,
    AlbumRepository,
    LinkRecord,
    TrackRecord,
)
from album_service.schemas import AlbumCreate, AlbumUpdate
from database.keyset import After


@dataclass(frozen=True)
class AlbumPage:
    albums: list[AlbumRecord]
    next_after: After | None  # the last row's (sort value, id) when more rows exist


@dataclass(frozen=True)
class TrackPage:
    tracks: list[TrackRecord]
    next_after: After | None  # (track number, song id) of the last row when more exist


class AlbumService:
    def __init__(self, albums: AlbumRepository) -> None:
        self._albums = albums

    def create(self, data: AlbumCreate) -> AlbumRecord:
        return self._albums.add(data.model_dump())

    def get(self, album_id: int) -> AlbumRecord:
        album = self._albums.get(album_id)
        if album is None:
            raise AlbumNotFoundError
        return album

    def list(self, query: AlbumQuery) -> AlbumPage:
        # One row more than asked tells whether a next page exists, without a COUNT.
        rows = self._albums.list(replace(query, limit=query.limit + 1))
        page = rows[: query.limit]
        if len(rows) <= query.limit:
            return AlbumPage(page, None)
        last = page[-1]
        return AlbumPage(page, After(getattr(last, query.sort.field), last.id))

    def update(self, album_id: int, update: AlbumUpdate) -> AlbumRecord:
        changes = update.model_dump(exclude_unset=True)
        if not changes:
            return self.get(album_id)
        updated = self._albums.update(album_id, changes)
        if updated is None:
            raise AlbumNotFoundError
        return updated

    def delete(self, album_id: int) -> None:
        if not self._albums.delete(album_id):
            raise AlbumNotFoundError

    def tracks(self, album_id: int, *, after: After | None, offset: int, limit: int) -> TrackPage:
        self.get(album_id)  # an unknown album is a 404, not an empty list
        rows = self._albums.tracks(album_id, after=after, offset=offset, limit=limit + 1)
        page = rows[:limit]
        if len(rows) <= limit:
            return TrackPage(page, None)
        last = page[-1]
        return TrackPage(page, After(getattr(last, TRACK_ORDER.field), last.id))

    def link(self, album_id: int, song_id: int, track_number: int | None) -> LinkRecord:
        return self._albums.link(album_id, song_id, track_number)

    def unlink(self, album_id: int, song_id: int) -> None:
        # Unlinking a song that is not on the album is already the wanted state.
        self._albums.unlink(album_id, song_id)
