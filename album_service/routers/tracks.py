"""HTTP for an album's songs: the track list, linking and unlinking."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Request, Response, status

from album_service.dependencies import album_service
from album_service.schemas import LinkBody, LinkOut, TrackOut
from common.auth import get_principal, require_admin
from common.db import in_database
from common.paging import PageParams, page_params
from common.responses import page_response
from common.schemas import ResourceId, error_responses

protected = APIRouter(
    prefix="/albums",
    tags=["album songs"],
    dependencies=[Depends(get_principal)],
    responses=error_responses(401, 503),
)
admin = APIRouter(
    prefix="/albums",
    tags=["album songs"],
    dependencies=[Depends(require_admin)],
    responses=error_responses(401, 403, 503),
)


@protected.get(
    "/{album_id}/songs",
    response_model=list[TrackOut],
    responses=error_responses(404),
    summary="The album's songs in (disc, track) order",
)
async def list_tracks(
    album_id: ResourceId,
    request: Request,
    page: Annotated[PageParams, Depends(page_params)],
) -> Response:
    """The album's songs with their `disc_number` and `track_number`, ordered by
    (disc, track, song id); paged, with a keyset `cursor` in the `Link` header.
    404 for an unknown album."""
    albums = album_service(request)
    # The cursor names the track order, so one from GET /albums is refused (422).
    result = await in_database(request, lambda: albums.tracks(album_id, page))
    return page_response(request, result, TrackOut)


@admin.put(
    "/{album_id}/songs/{song_id}",
    response_model=LinkOut,
    responses=error_responses(404, 413),
    summary="Put a song on the album, or renumber it (idempotent; admin)",
    description=(
        "Body (optional): `track_number` (1-10000) and `disc_number` (1-999). A new link "
        "goes on disc 1 unless a disc is given and, without a track number, after the "
        "last track of its disc. Linking an existing pair again keeps what is not sent; "
        "moving it to another disc without a track number puts it last there. 404 when "
        "the album or the song does not exist."
    ),
)
async def link_song(
    request: Request,
    album_id: ResourceId,
    song_id: ResourceId,
    body: Annotated[LinkBody | None, Body()] = None,
) -> LinkOut:
    albums = album_service(request)
    track_number = body.track_number if body is not None else None
    disc_number = body.disc_number if body is not None else None
    return await in_database(
        request, lambda: albums.link(album_id, song_id, track_number, disc_number)
    )


@admin.delete(
    "/{album_id}/songs/{song_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(404),
    summary="Take a song off the album (idempotent; admin)",
)
async def unlink_song(request: Request, album_id: ResourceId, song_id: ResourceId) -> Response:
    albums = album_service(request)
    await in_database(request, lambda: albums.unlink(album_id, song_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
