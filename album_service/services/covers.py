"""Which image is an album's or an artist's cover (API.md, Media: covers). Each
method is one use case and one read unit of work; it names the sources, and
media.covers turns them into an image, a redirect or the placeholder."""

from __future__ import annotations

from collections.abc import Callable

from album_service.repos.artists_base import ArtistNotFoundError
from album_service.repos.base import AlbumNotFoundError, AlbumUnitOfWork
from media.covers import CoverSource


class CoverService:
    def __init__(self, unit: Callable[..., AlbumUnitOfWork]) -> None:
        """`unit(write=False)` opens a unit of work (database.unit_of_work)."""
        self._unit = unit

    def album(self, album_id: int) -> CoverSource:
        """The art of the album's first track that has any (disc, track order),
        then its cover_image_url. AlbumNotFoundError (404)."""
        with self._unit() as uow:
            source = uow.covers.album_cover(album_id)
        if source is None:
            raise AlbumNotFoundError
        return source

    def artist(self, artist_id: int) -> CoverSource:
        """The album rule on the artist's newest album (newest release first,
        undated last, then newest id) that has a cover. ArtistNotFoundError (404)."""
        with self._unit() as uow:
            source = uow.covers.artist_cover(artist_id)
        if source is None:
            raise ArtistNotFoundError
        return source
