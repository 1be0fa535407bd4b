"""HTTP for songs' and playlists' covers: translate requests to CoverService calls
and media.covers answers, nothing more."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from common.auth import OptionalUser
from common.db import in_database
from common.schemas import ResourceId, error_responses
from media.covers import COVER_RESPONSES, CoverSize, cover_response, snap_size
from song_service.dependencies import cover_service

router = APIRouter(tags=["covers"])


@router.get(
    "/songs/{song_id}/cover",
    response_class=Response,
    responses=COVER_RESPONSES,
    summary="A song's cover image: embedded art, cover.*/folder.* beside it, its URL",
)
async def song_cover(request: Request, song_id: ResourceId, size: CoverSize = None) -> Response:
    """Public. The song's own media file's embedded picture, else a `cover.*` /
    `folder.*` image beside it, resized (longest side `size` px, snapped) and cached;
    else a 307 to its `cover_image_url`; else a placeholder (`no-store`). 404 for
    an unknown song; 422 for a size below 1 or not a whole number."""
    snapped = snap_size(size)
    covers = cover_service(request)
    source = await in_database(request, lambda: covers.song(song_id))
    return await cover_response(request, source, snapped, request.app.state.settings)


@router.get(
    "/playlists/{playlist_id}/cover",
    response_class=Response,
    responses={**COVER_RESPONSES, **error_responses(401)},
    summary="A playlist's cover: that of its first entry whose song has one",
)
async def playlist_cover(
    request: Request, playlist_id: ResourceId, caller: OptionalUser, size: CoverSize = None
) -> Response:
    """Public for a public playlist; a private one answers only its owner and
    admins (a bearer token), 404 to anyone else. The cover of the first entry (by
    position) whose song has one, by the song rule; else a placeholder
    (`no-store`). `size` as for songs."""
    snapped = snap_size(size)
    covers = cover_service(request)
    source = await in_database(request, lambda: covers.playlist(playlist_id, caller))
    return await cover_response(request, source, snapped, request.app.state.settings)
