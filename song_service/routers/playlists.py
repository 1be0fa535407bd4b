"""HTTP for playlists: translate requests to PlaylistService calls, nothing more."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from common.auth import AppUser, CurrentUser
from common.db import in_database
from common.paging import PageParams, page_params
from common.responses import model_response, page_response
from common.schemas import NO_NUL, PathNumber, ResourceId, error_responses
from song_service.dependencies import playlist_service
from song_service.schemas import (
    PlaylistCreate,
    PlaylistEntryOut,
    PlaylistMove,
    PlaylistOut,
    PlaylistSongsAdd,
    PlaylistSongsRemove,
    PlaylistSongsReplace,
    PlaylistUpdate,
)

# Every route names its caller (CurrentUser): a router-level guard as well would
# make FastAPI verify the token twice per request.
protected = APIRouter(prefix="/playlists", tags=["playlists"], responses=error_responses(401, 503))
Paging = Annotated[PageParams, Depends(page_params)]
Position = Annotated[
    int, PathNumber, Path(ge=0, le=2**31 - 1, description="The entry's position, from 0")
]


@protected.get(
    "",
    response_model=list[PlaylistOut],
    summary="Your playlists and the public ones, by id (Link: rel=next)",
)
async def list_playlists(
    request: Request,
    caller: CurrentUser,
    page: Paging,
    owner: Annotated[
        Literal["me"] | None, Query(description="`me`: only your own playlists")
    ] = None,
    q: Annotated[
        str | None,
        Query(
            max_length=100,
            pattern=NO_NUL,
            description="Name filter: every word (any case or accent) starts a word of the name",
        ),
    ] = None,
) -> Response:
    """Playlists you own, private or public, and everyone's public ones, in id
    order, each with `song_count`, `duration` (seconds) and `cover`. Paged with
    `limit` and `offset` or the `cursor` of the `Link` header."""
    playlists = playlist_service(request)
    result = await in_database(
        request,
        lambda: playlists.list(page, caller, own_only=owner == "me", q=q),
        scan=q is not None,
    )
    return page_response(request, result, PlaylistOut)


@protected.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PlaylistOut,
    responses=error_responses(404, 413),
    summary="Create a playlist, optionally with its first songs",
)
async def create_playlist(request: Request, body: PlaylistCreate, caller: AppUser) -> Response:
    """A new playlist owned by you (private unless `public` is true). `song_ids`
    become its entries in order; 404 when one names no song, and then nothing is
    created."""
    playlists = playlist_service(request)
    created = await in_database(request, lambda: playlists.create(body, caller))
    return model_response(created, status_code=status.HTTP_201_CREATED)


@protected.get(
    "/{playlist_id}",
    response_model=PlaylistOut,
    responses=error_responses(404),
    summary="A playlist: yours, a public one, or any for an admin",
)
async def get_playlist(request: Request, playlist_id: ResourceId, caller: CurrentUser) -> Response:
    """The playlist with `song_count`, `duration` (seconds, unknown durations as 0)
    and `cover` (the cover image of the first entry whose song has one).
    404 when the playlist does not exist or is someone else's private one (an
    admin may read any)."""
    playlists = playlist_service(request)
    return model_response(await in_database(request, lambda: playlists.get(playlist_id, caller)))


@protected.patch(
    "/{playlist_id}",
    response_model=PlaylistOut,
    responses=error_responses(403, 404, 413),
    summary="Change a playlist's name, description or visibility (owner)",
)
async def update_playlist(
    request: Request, playlist_id: ResourceId, body: PlaylistUpdate, caller: AppUser
) -> Response:
    """A partial update: only the fields sent change.
    Owner only: 403 for another caller who can see the playlist (a public one),
    404 for one who cannot (a private playlist's existence is not revealed)."""
    playlists = playlist_service(request)
    return model_response(
        await in_database(request, lambda: playlists.update(playlist_id, body, caller))
    )


@protected.delete(
    "/{playlist_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(403, 404),
    summary="Delete a playlist (owner or admin)",
)
async def delete_playlist(request: Request, playlist_id: ResourceId, caller: AppUser) -> Response:
    """The playlist and its entries go; the songs stay. 403 for a caller other than
    the owner or an admin who can see it, 404 for one who cannot."""
    playlists = playlist_service(request)
    await in_database(request, lambda: playlists.delete(playlist_id, caller))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@protected.get(
    "/{playlist_id}/songs",
    response_model=list[PlaylistEntryOut],
    responses=error_responses(404),
    summary="A playlist's entries in order (Link: rel=next)",
)
async def list_entries(
    request: Request, playlist_id: ResourceId, caller: CurrentUser, page: Paging
) -> Response:
    """Each entry is a song (with `like_count` and `liked_by_me`) plus its
    `position`, from 0; the same song may appear more than once. Paged by
    position.
    404 when the playlist does not exist or is someone else's private one (an
    admin may read any)."""
    playlists = playlist_service(request)
    result = await in_database(request, lambda: playlists.entries(playlist_id, page, caller))
    return page_response(request, result, PlaylistEntryOut)


@protected.post(
    "/{playlist_id}/songs",
    response_model=PlaylistOut,
    responses=error_responses(403, 404, 409, 413),
    summary="Insert songs into a playlist (owner; default: at the end)",
)
async def add_entries(
    request: Request, playlist_id: ResourceId, body: PlaylistSongsAdd, caller: AppUser
) -> Response:
    """Insert `song_ids` (1 to 500) in order at `position` (0..song_count; the
    end by default); the entries from there on move back. Returns the playlist.
    422 for a position past the end (it is not clamped), 404 when a song id
    names no song (nothing is added), 409 past 10,000 entries.
    Owner only: 403 for another caller who can see the playlist (a public one),
    404 for one who cannot (a private playlist's existence is not revealed)."""
    playlists = playlist_service(request)
    return model_response(
        await in_database(request, lambda: playlists.add_songs(playlist_id, body, caller))
    )


@protected.put(
    "/{playlist_id}/songs",
    response_model=PlaylistOut,
    responses=error_responses(403, 404, 413),
    summary="Replace all of a playlist's entries (owner)",
)
async def replace_entries(
    request: Request, playlist_id: ResourceId, body: PlaylistSongsReplace, caller: AppUser
) -> Response:
    """`song_ids` (0 to 500) become the entries, at 0..n-1; `[]` empties the
    playlist. Returns the playlist. 404 when a song id names no song (nothing
    changes).
    Owner only: 403 for another caller who can see the playlist (a public one),
    404 for one who cannot (a private playlist's existence is not revealed)."""
    playlists = playlist_service(request)
    return model_response(
        await in_database(request, lambda: playlists.replace_songs(playlist_id, body, caller))
    )


@protected.post(
    "/{playlist_id}/songs/move",
    response_model=PlaylistOut,
    responses=error_responses(403, 404, 413),
    summary="Move one entry of a playlist (owner)",
)
async def move_entry(
    request: Request, playlist_id: ResourceId, body: PlaylistMove, caller: CurrentUser
) -> Response:
    """The entry at `from` goes to `to`; those between shift one place. Returns
    the playlist. 422 when `from` or `to` is not a position of the playlist
    (0..song_count-1).
    Owner only: 403 for another caller who can see the playlist (a public one),
    404 for one who cannot (a private playlist's existence is not revealed)."""
    playlists = playlist_service(request)
    return model_response(
        await in_database(request, lambda: playlists.move(playlist_id, body, caller))
    )


@protected.post(
    "/{playlist_id}/songs/remove",
    response_model=PlaylistOut,
    responses=error_responses(403, 404, 413),
    summary="Remove several entries of a playlist at once (owner)",
)
async def remove_entries(
    request: Request, playlist_id: ResourceId, body: PlaylistSongsRemove, caller: AppUser
) -> Response:
    """The entries at `positions` (1 to 500, as they are before this request, in
    any order; a repeat counts once) go together and the rest close up in order.
    Returns the playlist. 422 when a position is not one of the playlist's
    (0..song_count-1), and then nothing is removed.
    Owner only: 403 for another caller who can see the playlist (a public one),
    404 for one who cannot (a private playlist's existence is not revealed)."""
    playlists = playlist_service(request)
    return model_response(
        await in_database(request, lambda: playlists.remove_many(playlist_id, body, caller))
    )


@protected.delete(
    "/{playlist_id}/songs/{position}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(403, 404),
    summary="Remove one entry of a playlist (owner)",
)
async def remove_entry(
    request: Request, playlist_id: ResourceId, position: Position, caller: CurrentUser
) -> Response:
    """The entry at `position` goes and those after it move up one. 404 when the
    playlist has no such position.
    Owner only: 403 for another caller who can see the playlist (a public one),
    404 for one who cannot (a private playlist's existence is not revealed)."""
    playlists = playlist_service(request)
    await in_database(request, lambda: playlists.remove(playlist_id, position, caller))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
