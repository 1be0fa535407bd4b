"""Which image is a song's or a playlist's cover (API.md, Media: covers). Each
method is one use case and one read unit of work; it names the sources, and
media.covers turns them into an image, a redirect or the placeholder."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from common.tokens import Principal
from media.covers import CoverSource
from song_service.repos.base import SongNotFoundError, SongUnitOfWork
from song_service.repos.playlists_base import PlaylistNotFoundError


class CoverService:
    def __init__(self, unit: Callable[..., SongUnitOfWork]) -> None:
        """`unit(write=False)` opens a unit of work (database.unit_of_work)."""
        self._unit = unit

    def song(self, song_id: int) -> CoverSource:
        """The song's media art, then its cover_image_url. SongNotFoundError (404)."""
        with self._unit() as uow:
            source = uow.covers.song_cover(song_id)
        if source is None:
            raise SongNotFoundError
        return source

    def playlist(self, playlist_id: int, caller: Principal | None) -> CoverSource:
        """The cover of the playlist's first entry whose song has one. A private
        playlist is seen only by its owner and admins: to anyone else, as to an
        unknown id, PlaylistNotFoundError (404), so its existence is not revealed."""
        with self._unit() as uow:
            access = uow.playlists.access(playlist_id)
            if access is None or not (
                access.public
                or (caller is not None and (caller.user_id == access.owner_id or caller.is_admin))
            ):
                raise PlaylistNotFoundError
            source = uow.covers.playlist_cover(playlist_id)
        return source if access.public else replace(source, private=True)
