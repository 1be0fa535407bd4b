"""The reads behind stream, download and getCoverArt: which file a song plays
from, and where a cover comes from. Each function is one use case in one read
unit (run through `call.read`); the HTTP answers are media.serve's and
media.covers', the same as song_service's and album_service's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from database.covers import CoverSource
from subsonic_service.errors import not_found
from subsonic_service.ids import split
from subsonic_service.repos.media_sql import SongMedia
from subsonic_service.repos.sql import SqlSubsonicUnitOfWork

Unit = Callable[[], SqlSubsonicUnitOfWork]


def song_media(unit: Unit, song_id: int) -> SongMedia:
    """The song's file, file_url and names; error 70 when there is no such song."""
    with unit() as uow:
        found = uow.media.song_media(song_id)
    if found is None:
        raise not_found("Song")
    return found


def cover_source(unit: Unit, cover_id: str, caller_id: int, caller_admin: bool) -> CoverSource:
    """Where the cover of a coverArt id (`al-`, `ar-`, `so-`, `pl-`: ids.py) comes
    from, by the rules of the REST /cover routes (database.covers). Error 70 for a
    malformed id, one that names nothing, and a private playlist the caller
    neither owns nor administers: to them it does not exist (as GET
    /playlists/{id}/cover answers 404). A private playlist's source is marked
    `private`, so its image is sent `Cache-Control: private`."""
    parsed = split(cover_id)
    if parsed is None:
        raise not_found("Cover art")
    kind, row_id = parsed
    source: CoverSource | None
    with unit() as uow:
        if kind == "so":
            source = uow.media.song_cover(row_id)
        elif kind == "al":
            source = uow.media.album_cover(row_id)
        elif kind == "ar":
            source = uow.media.artist_cover(row_id)
        else:
            access = uow.media.playlist_access(row_id)
            if access is None or not (
                access.public or caller_admin or access.owner_id == caller_id
            ):
                raise not_found("Cover art")
            source = uow.media.playlist_cover(row_id)
            if not access.public:
                source = replace(source, private=True)
    if source is None:
        raise not_found("Cover art")
    return source
