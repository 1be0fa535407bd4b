"""HTTP for albums' and artists' covers: translate requests to CoverService calls
and media.covers answers, nothing more."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from album_service.dependencies import cover_service
from common.db import in_database
from common.schemas import ResourceId
from media.covers import COVER_RESPONSES, CoverSize, cover_response, snap_size

router = APIRouter(tags=["covers"])


@router.get(
    "/albums/{album_id}/cover",
    response_class=Response,
    responses=COVER_RESPONSES,
    summary="An album's cover: its first track's art, else its cover_image_url",
)
async def album_cover(request: Request, album_id: ResourceId, size: CoverSize = None) -> Response:
    """Public. The embedded picture, else the `cover.*` / `folder.*` image beside
    the file, of the album's first track (disc, track order) whose file has art,
    resized (longest side `size` px, snapped) and cached; else a 307 to the
    album's `cover_image_url`; else a placeholder (`no-store`). 404 for an unknown
    album; 422 for a size below 1 or not a whole number."""
    snapped = snap_size(size)
    covers = cover_service(request)
    source = await in_database(request, lambda: covers.album(album_id))
    return await cover_response(request, source, snapped, request.app.state.settings)


@router.get(
    "/artists/{artist_id}/cover",
    response_class=Response,
    responses=COVER_RESPONSES,
    summary="An artist's cover: that of their newest album with one",
)
async def artist_cover(request: Request, artist_id: ResourceId, size: CoverSize = None) -> Response:
    """Public. The album cover (as `/albums/{id}/cover` finds it) of the artist's
    newest album that has one (newest release first, undated last, then newest id:
    the order of the artist's `cover` field); else a placeholder (`no-store`). 404
    for an unknown artist; `size` as for albums."""
    snapped = snap_size(size)
    covers = cover_service(request)
    source = await in_database(request, lambda: covers.artist(artist_id))
    return await cover_response(request, source, snapped, request.app.state.settings)
